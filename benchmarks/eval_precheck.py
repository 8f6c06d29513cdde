"""How the precheck gate does on the clusters written apart from the code (tests/eval/clusters, clusters2).

Run: python benchmarks/eval_precheck.py [--verbose] [FOLDER ...] (default: both sets, each reported on its own).
Prints agreement, every wrong `ready` (the one mistake a gate must not make), over-blocking and missing codes;
exits 1 when any verdict is a wrong `ready`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.eval.precheck_scoring import SETS, report  # noqa: E402


def main() -> int:
    folders = [Path(a) for a in sys.argv[1:] if not a.startswith("-")] or list(SETS)
    wrong = sum(report(folder, verbose="--verbose" in sys.argv) for folder in folders)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
