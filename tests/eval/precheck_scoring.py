"""How the precheck gate does on clusters written apart from the code (tests/eval/clusters, clusters2): shared
by tests/test_precheck_holdout.py and benchmarks/eval_precheck.py.

Each file's header says, before any run, the verdict Istio's rules give each namespace and the finding
codes that must be reported. Prints agreement, the wrong `ready` verdicts (the one mistake a gate must not
make), over-blocking, and missing codes. Run: python benchmarks/eval_precheck.py [--verbose] [FOLDER ...]
(default: both sets, tests/eval/clusters and tests/eval/clusters2, each reported on its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cluster.dump import read_dump
from handlers import Context, run_text
from knowledge import default as default_kb

EVAL = Path(__file__).resolve().parent
SETS = (EVAL / "clusters", EVAL / "clusters2")
RANK = {"ready": 0, "needs-waypoint": 1, "blocked": 2, "unknown": 3}


@dataclass
class Expectation:
    verdicts: dict[str, str]
    codes: dict[str, list[str]] = field(default_factory=dict)


def expectation(path: Path) -> Expectation:
    """The `# expect:` comment block at the top of a cluster file."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:])
    header = yaml.safe_load("\n".join(lines).split("why:")[0]) or {}
    expect = dict(header["expect"])
    codes = expect.pop("codes", None) or {}
    return Expectation({ns: str(v) for ns, v in expect.items()}, {ns: list(c) for ns, c in codes.items()})


@dataclass
class Outcome:
    namespaces: int = 0
    agreed: int = 0
    wrong_ready: list[str] = field(default_factory=list)
    stricter: list[str] = field(default_factory=list)
    looser: list[str] = field(default_factory=list)
    missing_codes: list[str] = field(default_factory=list)


def evaluate(paths: list[Path]) -> Outcome:
    outcome = Outcome()
    kb = default_kb()
    for path in paths:
        want = expectation(path)
        data = run_text("precheck", [], Context(kb=kb, read_cluster=lambda p=path: read_dump(p))).data
        got = {n["name"]: n for n in data["namespaces"]}
        for namespace, verdict in want.verdicts.items():
            outcome.namespaces += 1
            answer = got.get(namespace, {}).get("verdict", "absent")
            where = f"{path.stem}: {namespace} expected {verdict}, got {answer}"
            if answer == verdict:
                outcome.agreed += 1
            elif answer == "ready" or (answer == "absent" and verdict != "ready"):
                outcome.wrong_ready.append(where)
            elif RANK.get(answer, -1) > RANK[verdict]:
                outcome.stricter.append(where)
            else:
                outcome.looser.append(where)
            reported = {f["code"] for f in got.get(namespace, {}).get("findings", [])}
            reported |= {f["code"] for f in data["cluster"]["findings"]}
            for code in want.codes.get(namespace, []):
                if code not in reported:
                    outcome.missing_codes.append(f"{path.stem}: {namespace} lacks {code}")
    return outcome


def report(folder: Path, verbose: bool = False) -> int:
    """Print one set's figures; return how many wrong `ready` verdicts it found."""
    paths = sorted(folder.glob("*.yaml"))
    outcome = evaluate(paths)
    print(
        f"{folder.name}: {len(paths)} clusters, {outcome.namespaces} namespaces: {outcome.agreed} verdicts agree "
        f"({outcome.agreed / outcome.namespaces:.0%}); wrong ready {len(outcome.wrong_ready)}; "
        f"stricter {len(outcome.stricter)}; looser (not ready) {len(outcome.looser)}; "
        f"missing codes {len(outcome.missing_codes)}"
    )
    if verbose:
        for title, rows in (
            ("WRONG READY", outcome.wrong_ready),
            ("stricter", outcome.stricter),
            ("looser", outcome.looser),
            ("missing codes", outcome.missing_codes),
        ):
            for row in rows:
                print(f"  {title}: {row}")
    return len(outcome.wrong_ready)
