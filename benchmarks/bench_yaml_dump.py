"""YAML against JSON: `meshbot precheck --from-file` on the same synthetic 20,000-pod dump in both formats.

The dumps are written as `kubectl get … -A -o yaml|json` prints them: one `v1 List` holding every object
(the hardest case for a streaming reader: a single document). Measured per format: wall time and peak RSS
of the whole `meshbot precheck --output json --from-file DUMP` process (via /usr/bin/time), median of the
runs. Budget (DESIGN.md): YAML within 3x the JSON time, under 1 GiB.

    python benchmarks/bench_yaml_dump.py [--namespaces 500] [--pods 20000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks")]

from synth_cluster import synth_objects  # noqa: E402

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def write_dumps(folder: Path, namespaces: int, pods: int) -> tuple[Path, Path]:
    """The same objects as a JSON List and as a YAML List (block style, keys sorted, as kubectl prints)."""
    json_path, yaml_path = folder / "cluster.json", folder / "cluster.yaml"
    with json_path.open("w", encoding="utf-8") as js, yaml_path.open("w", encoding="utf-8") as ym:
        js.write('{"apiVersion":"v1","items":[\n')
        ym.write("apiVersion: v1\nitems:\n")
        for index, obj in enumerate(synth_objects(namespaces, pods)):
            js.write(("," if index else "") + json.dumps(obj, indent=4, sort_keys=True) + "\n")
            ym.write(yaml.dump([obj], Dumper=_Dumper, default_flow_style=False, sort_keys=True))
        js.write('],"kind":"List","metadata":{"resourceVersion":""}}\n')
        ym.write('kind: List\nmetadata:\n  resourceVersion: ""\n')
    return json_path, yaml_path


def run(command: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MiB) and exit code of one child process, from
    /usr/bin/time. CPU time is the fairer comparison on a shared machine; wall time is what a user waits."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as times:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", times.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
        wall, user, system, peak_kib = times.read().split()[-4:]
    if done.returncode not in (0, 1):
        print(f"  ! exited {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}")
    return float(wall), float(user) + float(system), int(peak_kib) / 1024, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="write (or reuse) the dumps in this folder")
    args = parser.parse_args()
    meshbot = shutil.which("meshbot") or str(Path(sys.executable).with_name("meshbot"))
    with tempfile.TemporaryDirectory(prefix="meshbot-yaml-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        json_path, yaml_path = folder / "cluster.json", folder / "cluster.yaml"
        if not (json_path.exists() and yaml_path.exists()):
            json_path, yaml_path = write_dumps(folder, args.namespaces, args.pods)
        results: dict[str, tuple[float, float, float]] = {}
        for label, path in (("json", json_path), ("yaml", yaml_path)):
            walls, cpus, peaks = [], [], []
            for _ in range(args.runs):
                wall, cpu, peak, code = run([meshbot, "precheck", "--output", "json", "--from-file", str(path)])
                if code not in (0, 1):
                    return code
                walls.append(wall)
                cpus.append(cpu)
                peaks.append(peak)
            results[label] = (statistics.median(walls), statistics.median(cpus), max(peaks))
            size = path.stat().st_size / 2**20
            wall, cpu, peak = results[label]
            print(f"{label}: {size:.0f} MiB dump, median wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {peak:.0f} MiB")
        wall_ratio = results["yaml"][0] / results["json"][0]
        cpu_ratio = results["yaml"][1] / results["json"][1]
        peak = results["yaml"][2]
        print(f"yaml/json: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f} (budget 3.0); yaml peak {peak:.0f} MiB (< 1024)")
        return 0 if cpu_ratio <= 3.0 and peak < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
