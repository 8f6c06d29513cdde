"""Pydantic schema of the knowledge files: a broken file fails loudly with its file and field."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Language = Literal["ko", "en"]
ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """One text in both languages."""

    en: str = Field(min_length=1)
    ko: str = Field(min_length=1)

    def in_(self, language: Language) -> str:
        return self.ko if language == "ko" else self.en


class Questions(Strict):
    """Realistic example questions, used to match free-text questions to the entry."""

    en: list[str] = Field(min_length=2)
    ko: list[str] = Field(min_length=2)


class Source(Strict):
    """Where an entry comes from: a seed section, and the upstream doc where the seed is out of date."""

    seed: str | None = None
    upstream: str | None = None
    version: str | None = None
    note: Text | None = None


class Entry(Strict):
    id: str
    title: Text
    body: Text
    questions: Questions
    tags: list[str] = Field(min_length=1)
    related: list[str] = []
    source: Source

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ENTRY_ID.match(value):
            raise ValueError(f"entry id {value!r} must be lower-case words joined by '-'")
        return value


class EntryFile(Strict):
    entries: list[Entry] = Field(min_length=1)


# --- Structured tables that the compare / limits / checklist / advise commands show ---


class ComparisonRow(Strict):
    aspect: Text
    sidecar: Text
    ambient: Text
    kb: str


class Comparison(Strict):
    rows: list[ComparisonRow] = Field(min_length=1)
    figures: list[ComparisonRow] = []
    """Measured resource/latency figures (seed "성능 비교 (실측 기반)")."""


class Limitation(Strict):
    key: str
    """Short lower-case name used by `limits FEATURE`."""
    aliases: list[str] = []
    feature: Text
    status: Text
    alternative: Text
    kb: str


class Limitations(Strict):
    rows: list[Limitation] = Field(min_length=1)


class ChecklistItem(Strict):
    text: Text
    kb: str | None = None
    check: str | None = None
    """Name of a cluster check that can tick this item automatically (used by migration threads)."""


class ChecklistGroup(Strict):
    title: Text
    items: list[ChecklistItem] = Field(min_length=1)


class Checklist(Strict):
    key: str
    title: Text
    groups: list[ChecklistGroup] = Field(min_length=1)


class Checklists(Strict):
    checklists: list[Checklist] = Field(min_length=1)


class Need(Strict):
    """One answer to the decision tree: what the user needs, and the mode it points to."""

    key: str
    question: Text
    mode: Literal["sidecar", "ambient"]
    reason: Text
    waypoint: Text | None = None
    """Set where ambient is chosen but this need requires a waypoint."""
    kb: str


class DecisionTree(Strict):
    needs: list[Need] = Field(min_length=1)


class FindingText(Strict):
    code: str
    severity: Literal["blocker", "waypoint", "warning", "info"]
    title: Text
    message: Text
    """A str.format template; the analyzers fill its named fields."""
    kb: str


class FindingTexts(Strict):
    findings: list[FindingText] = Field(min_length=1)
