"""Scoring `ask` against an evaluation set (format: tests/eval/README.md): shared by the tests and
benchmarks/eval_ask.py, so both measure the same thing.

Every question goes through the real `ask` handler; `context` turns are asked first in the same
conversation (an in-memory ConversationPort), as a thread would.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from handlers import Context, run_text
from knowledge import KnowledgeBase

if TYPE_CHECKING:
    from handlers.ports import Turn

HERE = Path(__file__).parent
TUNING = HERE / "tuning.yaml"
HOLDOUT = HERE / "holdout.yaml"
HOLDOUT2 = HERE / "holdout2.yaml"
"""A second frozen hold-out, by a third writer, added after the engine was built: never seen while tuning."""
ANSWER_FIRST_CHARS = 300


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    q: str
    lang: Literal["ko", "en"]
    kind: str
    refuse: bool = False
    expect: list[list[str]] = []
    context: list[str] = []
    note: str = ""


class EvalSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: list[Item] = Field(min_length=1)


def load(path: Path) -> list[Item]:
    return EvalSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).questions


class MemoryConversations:
    """ConversationPort in memory: what the store keeps, for one evaluation run."""

    def __init__(self) -> None:
        self.turns: dict[str, list[Turn]] = {}

    def recall(self, key: str) -> list[Turn]:
        return list(self.turns.get(key, []))

    def remember(self, key: str, turn: Turn) -> None:
        self.turns.setdefault(key, []).append(turn)


@dataclass(frozen=True)
class Outcome:
    item: Item
    found: bool
    answer: str
    language: str

    def _matches(self, group: list[str], text: str) -> bool:
        return any(re.search(alt, text, re.IGNORECASE) for alt in group)

    @property
    def right(self) -> bool:
        if self.item.refuse:
            return not self.found
        return bool(self.item.expect) and all(self._matches(g, self.answer) for g in self.item.expect)

    @property
    def answer_first(self) -> bool:
        if self.item.refuse or not self.item.expect:
            return not self.found if self.item.refuse else True
        return self._matches(self.item.expect[0], self.answer[:ANSWER_FIRST_CHARS])

    @property
    def refusal_ok(self) -> bool:
        if self.item.refuse:
            return not self.found
        return self.found or self.item.kind == "greeting"

    @property
    def language_ok(self) -> bool:
        return self.language == self.item.lang


def _context(kb: KnowledgeBase, n: int, conversations: MemoryConversations) -> Context:
    return Context(kb=kb, channel=f"E{n}", thread_ts="1", conversation=conversations)


def ask_one(kb: KnowledgeBase, item: Item, n: int) -> Outcome:
    conversations = MemoryConversations()
    for earlier in item.context:
        run_text("ask", [earlier], _context(kb, n, conversations))
    reply = run_text("ask", [item.q], _context(kb, n, conversations))
    data = reply.data
    return Outcome(
        item, bool(data.get("found")), str(data.get("answer") or ""), str(data.get("language") or reply.language)
    )


@dataclass(frozen=True)
class Figures:
    count: int
    right: float
    answer_first: float
    refusals: float
    language: float
    median_length: float

    def lines(self, name: str) -> list[str]:
        return [
            f"{name}: {self.count} questions",
            f"  right answer   {self.right:6.1%}",
            f"  answer-first   {self.answer_first:6.1%}",
            f"  refusals       {self.refusals:6.1%}",
            f"  language       {self.language:6.1%}",
            f"  median length  {self.median_length:6.0f} characters",
        ]


def figures(outcomes: list[Outcome]) -> Figures:
    n = len(outcomes)
    answered = [len(o.answer) for o in outcomes if o.found] or [0]
    return Figures(
        count=n,
        right=sum(o.right for o in outcomes) / n,
        answer_first=sum(o.answer_first for o in outcomes if o.right) / n,
        refusals=sum(o.refusal_ok for o in outcomes) / n,
        language=sum(o.language_ok for o in outcomes) / n,
        median_length=statistics.median(answered),
    )


def run(kb: KnowledgeBase, items: list[Item]) -> list[Outcome]:
    return [ask_one(kb, item, n) for n, item in enumerate(items)]
