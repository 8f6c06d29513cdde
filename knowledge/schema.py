"""Pydantic schema of the knowledge files: a broken file fails loudly with its file and field."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Language = Literal["ko", "en"]
ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Strict(BaseModel):
    # Built on first validation: a fresh `meshbot ask` unpickles the cached knowledge and validates none.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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


# --- Vocabulary for question matching (knowledge/data/synonyms.yaml) ---


class Term(Strict):
    """One concept and the ways people write it; every variant is read as the canonical `term`.

    `domain` says how much the concept alone marks a question as being about Istio meshes:
    `strong` (istio, ztunnel, 사이드카 …) is enough; `weak` (migration, tracing …) needs a second
    domain term; `none` only bridges wording. `off_topic` names other products and fields.
    """

    term: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    variants: list[str] = []
    domain: Literal["strong", "weak", "none"] = "none"


class Vocabulary(Strict):
    terms: list[Term] = Field(min_length=1)
    off_topic: list[str] = []
    """Words that mark a question as about something else when no strong domain term is present."""
    other_meshes: list[str] = []
    """Other meshes, gateways and proxies (linkerd, kong …): a question about one is refused even with a
    mesh word in it ("envoy gateway vs kong"), unless the best entry names it. Also counted as off-topic."""
    not_covered: list[str] = []
    """Mesh topics this knowledge base does not explain (rate limiting, circuit breaking …): a question
    about one is refused unless the best entry mentions it, rather than answered with a near miss."""
    modes: list[str] = []
    """Terms naming the data-plane modes (ambient, sidecar). They occur in nearly every entry, so an entry
    whose title names the one mode a question names is ranked a little higher (knowledge/search.py)."""
    strong_patterns: list[str] = []
    """Case-sensitive regexes over the question as typed that alone make it a mesh question: Istio's own
    spellings a lower-cased word cannot tell apart (STRICT the mTLS mode, not TypeScript's strict mode)."""
    stopwords_en: list[str] = []
    stopwords_ko: list[str] = []
    """Filler words and endings dropped before matching (어떻게, 알려줘 …)."""
    particles_ko: list[str] = []
    """Korean particles/endings stripped from the end of a Hangul word (를, 에서, 인가요 …)."""

    @field_validator("strong_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"strong pattern {pattern!r} is not a regex: {error}") from error
        return patterns

    @field_validator("terms")
    @classmethod
    def _unique_terms(cls, terms: list[Term]) -> list[Term]:
        owner: dict[str, str] = {}
        for term in terms:
            if term.term in owner:
                raise ValueError(f"term {term.term!r} is listed twice")
            for variant in [term.term, *term.variants]:
                key = variant.lower()
                if owner.get(key, term.term) != term.term:
                    raise ValueError(f"variant {variant!r} belongs to both {owner[key]!r} and {term.term!r}")
                owner[key] = term.term
        return terms


class AdviceRules(Strict):
    """How `advise` settles needs that point to different modes (knowledge/data/advice.yaml)."""

    only_ambient: list[str] = []
    """Needs that rule sidecars out entirely (legacy apps that cannot take an injected proxy)."""
    waypoint_serves: list[str] = []
    """Sidecar-leaning needs that an ambient waypoint can meet (L7 routing/policy, tracing)."""
    rule: Text
    """The rule in words, shown with every conflicting recommendation."""


# --- Answer units (knowledge/data/units/*.yaml): short bilingual claims answers are made of ---

UnitKind = Literal["yesno", "figure", "recommendation", "command", "definition", "steps", "fact"]
QuestionKind = Literal["yesno", "which-mode", "how-much", "how-to", "what-is", "why", "broken", "compare", "list"]
FigureBasis = Literal["observed", "chart-default", "upstream-doc", "limit"]

YES_NO_EN = ("Yes", "No", "Partly", "Not yet", "Only")
"""How a yes/no claim opens in English: the answer itself, before any reason."""
YES_NO_KO = ("예", "네", "아니요", "아니오", "부분적으로", "일부만", "아직", "조건부로")
"""How a yes/no claim opens in Korean."""
CLAIM_MAX = 320
"""A claim is one sentence that fits in the first 300-odd characters of an answer."""
DETAIL_MAX_LINES = 3


class UnitQuestions(Strict):
    """Realistic example questions for matching; at least three per language, all different."""

    en: list[str] = Field(min_length=3)
    ko: list[str] = Field(min_length=3)

    @field_validator("en", "ko")
    @classmethod
    def _distinct(cls, questions: list[str]) -> list[str]:
        seen: set[str] = set()
        for question in questions:
            key = question.strip().lower()
            if not key:
                raise ValueError("an example question is empty")
            if key in seen:
                raise ValueError(f"example question {question!r} is listed twice")
            seen.add(key)
        return questions


class UnitSource(Strict):
    """Where a unit comes from: the guide's section heading, the upstream Istio page, an ISTIO-FACTS section."""

    guide: str | None = None
    upstream: str | None = None
    facts: str | None = None

    @field_validator("upstream")
    @classmethod
    def _is_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"upstream {value!r} must be an https:// address")
        return value

    @model_validator(mode="after")
    def _one_at_least(self) -> UnitSource:
        if not (self.guide or self.upstream or self.facts):
            raise ValueError("a unit needs at least one source: guide, upstream or facts")
        return self


class Figure(Strict):
    """A number with its unit, what it is per, and where it comes from (measured vs a chart default)."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = Field(min_length=1)
    per: str = Field(min_length=1)
    component: str = Field(min_length=1)
    resource: str = Field(min_length=1)
    basis: FigureBasis

    @model_validator(mode="after")
    def _value_or_range(self) -> Figure:
        if self.value is None and (self.low is None or self.high is None):
            raise ValueError("a figure needs a value, or both low and high")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"figure range low {self.low} is above high {self.high}")
        return self

    def numbers(self) -> list[float]:
        return [n for n in (self.value, self.low, self.high) if n is not None]


def number_text(number: float) -> str:
    """How a figure's number is written in a claim: 50 not 50.0, 0.5 as is."""
    return str(int(number)) if number == int(number) else str(number)


class Unit(Strict):
    """One atomic answer: a claim that starts with the answer, tied to its detail entry and source."""

    id: str
    entry: str
    kind: UnitKind
    answers: list[QuestionKind] = Field(min_length=1)
    claim: Text
    detail: Text | None = None
    condition: Text | None = None
    figure: Figure | None = None
    more_figures: list[Figure] = []
    """Further figures the same claim states (a chart default's CPU beside its memory), so an estimate
    computes every resource the claim names."""
    command: str | None = None
    terms: list[str] = Field(min_length=1)
    questions: UnitQuestions
    source: UnitSource

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ENTRY_ID.match(value):
            raise ValueError(f"unit id {value!r} must be lower-case words joined by '-'")
        return value

    @field_validator("claim")
    @classmethod
    def _claim_short(cls, claim: Text) -> Text:
        for language in ("en", "ko"):
            text = getattr(claim, language)
            if len(text) > CLAIM_MAX:
                raise ValueError(f"claim.{language} is {len(text)} characters; keep it under {CLAIM_MAX}")
        return claim

    @field_validator("detail")
    @classmethod
    def _detail_short(cls, detail: Text | None) -> Text | None:
        if detail is not None:
            for language in ("en", "ko"):
                if len(getattr(detail, language).strip().splitlines()) > DETAIL_MAX_LINES:
                    raise ValueError(f"detail.{language} has more than {DETAIL_MAX_LINES} lines")
        return detail

    @model_validator(mode="after")
    def _kind_fits(self) -> Unit:
        if (self.kind == "figure") != (self.figure is not None):
            raise ValueError("`figure` is required for kind figure and allowed only there")
        if self.kind == "command" and not self.command:
            raise ValueError("kind command needs a `command`")
        if self.command is not None and self.kind not in ("command", "steps"):
            raise ValueError("`command` is allowed only for kinds command and steps")
        if self.kind == "yesno":
            if not self.claim.en.startswith(YES_NO_EN):
                raise ValueError(f"claim.en of a yesno unit must start with one of {YES_NO_EN}")
            if not self.claim.ko.startswith(YES_NO_KO):
                raise ValueError(f"claim.ko of a yesno unit must start with one of {YES_NO_KO}")
        if self.more_figures and self.figure is None:
            raise ValueError("`more_figures` needs a `figure`")
        for figure in self.figures():
            for language in ("en", "ko"):
                text = getattr(self.claim, language).replace(",", "")
                missing = [number_text(n) for n in figure.numbers() if number_text(n) not in text]
                if missing:
                    raise ValueError(f"claim.{language} must state the figure's number {missing[0]}")
        return self

    def figures(self) -> list[Figure]:
        """Every figure the claim states: `figure` first, then `more_figures`."""
        return [self.figure, *self.more_figures] if self.figure is not None else []


class UnitFile(Strict):
    units: list[Unit] = Field(min_length=1)
