"""Leave-out check of `ask` on the answer units' own example questions (no eval set involved).

Run: python benchmarks/leaveout_ask.py [--folds 5] [--misses]

Each unit's example questions (English and Korean) are split into FOLDS folds by position; for each
fold the engine is rebuilt without that fold's questions and asked them. A held-out question is
"unit-right" when the unit it came from answers first, "entry-right" when the first answer comes from
that unit's detail page, and "answered" when it is not refused. This measures how the matching
generalises to phrasings it was not built from, so matching parameters can be tuned without
touching the evaluation sets.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import default as default_kb  # noqa: E402
from knowledge.answers.engine import Engine  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.schema import Unit, UnitQuestions  # noqa: E402


def without_fold(kb: KnowledgeBase, fold: int, folds: int) -> tuple[KnowledgeBase, list[tuple[str, str]]]:
    """The knowledge base minus the fold's example questions, and those questions with their unit."""
    held: list[tuple[str, str]] = []
    units: dict[str, Unit] = {}
    for unit in kb.units.values():
        kept: dict[str, list[str]] = {}
        for language in ("en", "ko"):
            questions = getattr(unit.questions, language)
            kept[language] = [q for i, q in enumerate(questions) if i % folds != fold]
            held += [(q, unit.id) for i, q in enumerate(questions) if i % folds == fold]
        units[unit.id] = unit.model_copy(update={"questions": UnitQuestions.model_construct(**kept)})
    return dataclasses.replace(kb, units=units), held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list held-out questions answered by another entry")
    args = parser.parse_args()
    kb = default_kb()
    total = unit_right = entry_right = answered = 0
    misses: list[str] = []
    for fold in range(args.folds):
        reduced, held = without_fold(kb, fold, args.folds)
        engine = Engine(reduced)
        for question, unit_id in held:
            answer = engine.answer(question, several=False)
            total += 1
            first = answer.units[0] if answer.units else None
            answered += answer.found
            unit_right += first == unit_id
            right_entry = kb.units[unit_id].entry
            if answer.found and answer.entries and answer.entries[0] == right_entry:
                entry_right += 1
            elif args.misses:
                misses.append(f"{unit_id}: {question!r} -> {first or answer.refusal}")
    print(f"leave-out ({args.folds} folds): {total} held-out example questions")
    print(f"  unit-right   {100 * unit_right / total:5.1f}%")
    print(f"  entry-right  {100 * entry_right / total:5.1f}%")
    print(f"  answered     {100 * answered / total:5.1f}%")
    for line in misses:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
