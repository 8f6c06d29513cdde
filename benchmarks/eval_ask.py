"""Evaluate `ask` on the tuning set and the frozen hold-out (tests/eval/), through the real handler.

Run: python benchmarks/eval_ask.py [--set tuning|holdout|holdout2|all] [--misses]

Per set: right answer (every expect group matches), answer-first (expect[0] within the first 300
characters, counted among right answers), refusals, language, median answer length. `--misses`
lists the tuning set's misses only: the hold-out is reported as aggregate figures, never question by
question, so nothing is tuned on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import default as default_kb  # noqa: E402
from tests.eval.scoring import HOLDOUT, HOLDOUT2, TUNING, figures, load, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["tuning", "holdout", "holdout2", "all"], default="all")
    parser.add_argument("--misses", action="store_true", help="list the tuning set's misses")
    args = parser.parse_args()
    kb = default_kb()
    if args.set in ("tuning", "all"):
        outcomes = run(kb, load(TUNING))
        print("\n".join(figures(outcomes).lines("tuning")))
        if args.misses:
            for o in outcomes:
                problems = [
                    name
                    for name, ok in (("right", o.right), ("refusal", o.refusal_ok), ("language", o.language_ok))
                    if not ok
                ]
                if problems or (o.right and not o.answer_first):
                    print(f"\n{o.item.id} [{o.item.kind}] {','.join(problems) or 'late'}: {o.item.q}")
                    print("   expect:", o.item.expect)
                    print("   got:", o.answer[:400].replace("\n", " | "))
    for name, path in (("holdout", HOLDOUT), ("holdout2", HOLDOUT2)):
        if args.set in (name, "all"):
            print("\n".join(figures(run(kb, load(path))).lines(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
