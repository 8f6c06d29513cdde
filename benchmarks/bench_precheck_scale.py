"""Scale benchmark: meshbot against kubectl on a synthetic 500-namespace, 20,000-pod cluster.

The kube-apiserver double (tests/kube_double.py) serves the cluster over real HTTP. Measured:
requests meshbot makes (one paginated list per kind, never per namespace), wall time of
`meshbot precheck --output json --kubeconfig K` against `kubectl get pods -A -o json` on the same
server (budget: at most half), and meshbot's peak RSS (budget: under 250 MiB).

    python benchmarks/bench_precheck_scale.py [--namespaces 500] [--pods 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from kube_double import KubeDouble  # noqa: E402
from synth_cluster import synth_objects  # noqa: E402

# Until `meshbot precheck` exists, the reader alone stands in for it.
READ_ONLY = (
    "import sys; from pathlib import Path; from cluster.live import read_live; "
    "s = read_live(kubeconfig=Path(sys.argv[1]), context=None, timeout=30.0); "
    "print(len(s.namespaces), len(s.pods), len(s.issues))"
)


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one child process.

    Peak RSS comes from /usr/bin/time: the rusage of a child forked from this (large) process would count
    the parent's pages it shared before exec.
    """
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss_file:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - start
        peak_kib = int(rss_file.read().strip().splitlines()[-1])
    if done.returncode != 0:
        print(f"  ! {command[0]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-400:]}")
    return wall, peak_kib / 1024, done.returncode


def meshbot_command(kubeconfig: Path, env: dict[str, str]) -> tuple[list[str], str]:
    meshbot = shutil.which("meshbot", path=env["PATH"])
    if meshbot:
        probe = subprocess.run([meshbot, "precheck", "--help"], capture_output=True, env=env, cwd=ROOT, check=False)
        if probe.returncode == 0:
            return [meshbot, "precheck", "--output", "json", "--kubeconfig", str(kubeconfig)], "meshbot precheck"
    return [sys.executable, "-c", READ_ONLY, str(kubeconfig)], "read_live only (no precheck command yet)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    double = KubeDouble(objects=synth_objects(args.namespaces, args.pods), crd_groups="all").start()
    print(
        f"double loaded {args.pods} pods / {args.namespaces} namespaces in {time.perf_counter() - started:.1f}s "
        f"at {double.url}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = double.kubeconfig(Path(tmp) / "kubeconfig")
        env = {**os.environ, "HOME": tmp, "KUBECONFIG": str(kubeconfig)}
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        kubectl = ["kubectl", "get", "pods", "-A", "-o", "json", "--kubeconfig", str(kubeconfig)]
        command, label = meshbot_command(kubeconfig, env)

        results: dict[str, list[tuple[float, float, int]]] = {"kubectl": [], "meshbot": []}
        requests_per_run: list[Counter[str]] = []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            results["kubectl"].append(run(kubectl, env))
            before = len(double.requests)
            results["meshbot"].append(run(command, env))
            requests_per_run.append(Counter(r.path for r in double.requests[before:]))
    double.stop()

    kubectl_wall = statistics.median(r[0] for r in results["kubectl"])
    meshbot_wall = statistics.median(r[0] for r in results["meshbot"])
    meshbot_rss = max(r[1] for r in results["meshbot"])
    requests = requests_per_run[-1]
    per_namespace = [p for p in requests if "/namespaces/" in p]
    print(f"meshbot command: {label}")
    print(
        f"requests by meshbot (one run): {sum(requests.values())} over {len(requests)} paths; "
        f"pod pages: {requests.get('/api/v1/pods', 0)}; per-namespace calls: {len(per_namespace)}"
    )
    print(
        f"kubectl get pods -A -o json : median {kubectl_wall:.2f}s  runs {[round(r[0], 2) for r in results['kubectl']]}"
        f"  peak RSS {max(r[1] for r in results['kubectl']):.0f} MiB"
    )
    print(
        f"meshbot                     : median {meshbot_wall:.2f}s  runs {[round(r[0], 2) for r in results['meshbot']]}"
        f"  peak RSS {meshbot_rss:.0f} MiB  exit codes {[r[2] for r in results['meshbot']]}"
    )
    ratio = meshbot_wall / kubectl_wall
    time_ok, rss_ok = ratio <= 0.5, meshbot_rss < 250
    print(f"time ratio meshbot/kubectl  : {ratio:.2f} (budget <= 0.50) {'OK' if time_ok else 'OVER BUDGET'}")
    print(f"meshbot peak RSS            : {meshbot_rss:.0f} MiB (budget < 250) {'OK' if rss_ok else 'OVER BUDGET'}")
    ok = time_ok and rss_ok and not per_namespace and all(r[2] == 0 for r in results["meshbot"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
