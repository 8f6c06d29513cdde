"""Generalisation check for `ask` on an independent hold-out set (tests/eval_holdout.yaml).

The set was written without looking at tests/eval_questions.yaml or the entries' example
questions, so it measures how well the matcher handles phrasings it was not tuned on.

Run: python benchmarks/eval_holdout.py [--file PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from knowledge import KnowledgeBase
from knowledge import default as default_kb
from knowledge.search import SearchResult, search

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = ROOT / "tests" / "eval_holdout.yaml"
Group = Literal["ko", "en", "mixed"]


class InScope(BaseModel):
    q: str
    expect: str
    also: list[str] = []
    lang: Group | None = None

    @property
    def accepted(self) -> set[str]:
        return {self.expect, *self.also}

    @property
    def group(self) -> Group:
        """The declared group, else Hangul-only -> ko, Hangul plus Latin words -> mixed."""
        if self.lang:
            return self.lang
        hangul = any("\uac00" <= ch <= "\ud7a3" for ch in self.q)
        latin = any(ch.isascii() and ch.isalpha() for ch in self.q)
        return "en" if not hangul else "mixed" if latin else "ko"


class HoldoutSet(BaseModel):
    in_scope: list[InScope] = Field(min_length=1)
    out_of_scope: list[str] = []


class Tally(BaseModel):
    n: int = 0
    top1: int = 0
    top3: int = 0
    false_refusals: int = 0

    def share(self, k: int) -> str:
        return f"{k / self.n:.3f}" if self.n else "-"

    def line(self) -> str:
        return (
            f"top-1 {self.share(self.top1)} ({self.top1}/{self.n})  "
            f"top-3 {self.share(self.top3)} ({self.top3}/{self.n})  "
            f"false refusals {self.false_refusals}/{self.n}"
        )


class Miss(BaseModel):
    group: Group
    q: str
    expect: list[str]
    got: str | None
    score: float | None
    found: bool
    refusal: str | None
    coverage: float
    top3: list[str]


class WronglyFound(BaseModel):
    q: str
    got: str
    score: float


class Report(BaseModel):
    tallies: dict[str, Tally]
    refusal_n: int
    refusal_correct: int
    misses: list[Miss]
    wrongly_found: list[WronglyFound]


def ranked(result: SearchResult) -> list[str]:
    return [m.entry_id for m in result.matches]


def evaluate(kb: KnowledgeBase, evalset: HoldoutSet) -> Report:
    tallies: dict[str, Tally] = {g: Tally() for g in ("all", "ko", "en", "mixed")}
    misses: list[Miss] = []
    for item in evalset.in_scope:
        result = search(kb, item.q)
        order = ranked(result)
        hit1 = result.found and bool(order) and order[0] in item.accepted
        hit3 = bool(set(order[:3]) & item.accepted)  # ranking quality, refusal aside
        for key in ("all", item.group):
            t = tallies[key]
            t.n += 1
            t.top1 += hit1
            t.top3 += hit3
            t.false_refusals += not result.found
        if not hit1:
            top = result.matches[0] if result.matches else None
            misses.append(
                Miss(
                    group=item.group,
                    q=item.q,
                    expect=sorted(item.accepted),
                    got=top.entry_id if top else None,
                    score=top.score if top else None,
                    found=result.found,
                    refusal=result.refusal,
                    coverage=result.coverage,
                    top3=order[:3],
                )
            )
    wrongly_found = []
    for q in evalset.out_of_scope:
        result = search(kb, q)
        if result.found:
            wrongly_found.append(WronglyFound(q=q, got=result.matches[0].entry_id, score=result.matches[0].score))
    n_out = len(evalset.out_of_scope)
    return Report(
        tallies=tallies,
        refusal_n=n_out,
        refusal_correct=n_out - len(wrongly_found),
        misses=misses,
        wrongly_found=wrongly_found,
    )


def print_report(report: Report) -> None:
    print("ask hold-out evaluation")
    for key in ("all", "ko", "en", "mixed"):
        print(f"  {key:5s} {report.tallies[key].line()}")
    n_out, ok = report.refusal_n, report.refusal_correct
    print(f"  refusal accuracy (out-of-scope -> found:false) {ok / n_out if n_out else 0:.3f} ({ok}/{n_out})")
    print(f"\nin-scope misses ({len(report.misses)}):")
    for m in report.misses:
        state = f"REFUSED {m.refusal}" if not m.found else "wrong"
        print(
            f"  [{m.group}] {m.q!r}\n      want {'/'.join(m.expect)}; got {m.got} score {m.score} "
            f"({state}, coverage {m.coverage}) top3 {m.top3}"
        )
    print(f"\nout-of-scope answered ({len(report.wrongly_found)}):")
    for w in report.wrongly_found:
        print(f"  {w.q!r} -> {w.got} score {w.score}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=HOLDOUT)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    kb = default_kb()
    evalset = HoldoutSet.model_validate(yaml.safe_load(args.file.read_text(encoding="utf-8")))
    unknown = sorted({i for item in evalset.in_scope for i in item.accepted if i not in kb.entries})
    if unknown:
        print(f"hold-out set names unknown entries: {unknown}", file=sys.stderr)
        return 2
    report = evaluate(kb, evalset)
    if args.json:
        print(json.dumps(report.model_dump(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
