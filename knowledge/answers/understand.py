"""What a question asks: the kind of answer wanted, the numbers given, and its separate questions.

Rules, not a model: the kinds are few and their Korean/English cue words are stable, so a rule
list is both faster and easier to correct than a classifier trained on a few hundred examples.
The cues live in `scope.yaml` beside this module (kinds, greetings, near-miss subjects).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.base import yaml_load
from knowledge.text import has_hangul

DATA = Path(__file__).with_name("scope.yaml")
MAX_PARTS = 3
"""At most this many questions in one message are answered separately; the rest is one question."""
MIN_PART_WORDS = 2
FALLBACK = "yesno-fallback"
"""scope.yaml's cue for a question whose only sign is its question mark: read as yes/no."""
PER_NODE = re.compile(r"노드당|노드 ?마다|per node|each node|pods? each|on each|개씩", re.IGNORECASE)


class KindCue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    patterns: list[str] = Field(min_length=1)


class NearMiss(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    subject: str
    patterns: list[str] = Field(min_length=1)
    unless: list[str] = []
    """Patterns that bring the question back in scope (it names Istio's own part of the subject)."""


class ScopeData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kinds: list[KindCue] = Field(min_length=1)
    greetings: list[str] = Field(min_length=1)
    near_misses: list[NearMiss] = []
    in_scope: list[str] = []
    """Patterns that make a question the mesh bot's without any Istio word (which mode should we pick?)."""
    generic_terms: list[str] = []
    """Identifier-like unit terms that are not the mesh's own (DaemonSet, NetworkPolicy, 1.24)."""
    quantities: dict[str, list[str]] = {}
    """Counted things (pods, nodes, waypoints) and the words that name them."""
    splitters: list[str] = []
    followups: list[str] = []
    """Openings of a terse follow-up that leans on the earlier turn ("그럼 롤백은?", "and for orders?")."""


@dataclass(frozen=True)
class Compiled:
    kinds: list[tuple[str, re.Pattern[str]]]
    greeting: re.Pattern[str]
    near_misses: list[tuple[str, re.Pattern[str], re.Pattern[str] | None]]
    in_scope: re.Pattern[str] | None
    quantities: list[tuple[str, re.Pattern[str]]]
    quantities_after: list[tuple[str, re.Pattern[str]]]
    """The same with the word first: "파드 500개", "노드 20대"."""
    splitter: re.Pattern[str] | None
    followup: re.Pattern[str] | None


def _any(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@cache
def compiled() -> Compiled:
    data = ScopeData.model_validate(yaml_load(DATA.read_text(encoding="utf-8")))
    # "350 sidecar pods", "200개 사이드카 파드": a mode word may sit between the number and the thing counted.
    number = (
        r"(\d+(?:[.,]\d+)*)\s*(k|천|만)?\s*(?:개의?|대의?|개 ?정도의?)?\s*"
        r"(?:(?:sidecar|ambient|meshed|injected|istio|worker|사이드카|앰비언트|워커)\s*)?"
    )
    return Compiled(
        kinds=[(cue.kind, _any(cue.patterns)) for cue in data.kinds],
        greeting=_any(data.greetings),
        near_misses=[(m.subject, _any(m.patterns), _any(m.unless) if m.unless else None) for m in data.near_misses],
        in_scope=_any(data.in_scope) if data.in_scope else None,
        quantities=[
            (name, re.compile(number + "(?:" + "|".join(words) + ")", re.IGNORECASE))
            for name, words in data.quantities.items()
        ],
        quantities_after=[
            (
                name,
                re.compile(
                    "(?:" + "|".join(words) + r")\s*(?:수\s*)?(\d+(?:[.,]\d+)*)\s*(k|천|만)?\s*(?:개|대)", re.IGNORECASE
                ),
            )
            for name, words in data.quantities.items()
        ],
        splitter=_any(data.splitters) if data.splitters else None,
        followup=_any(data.followups) if data.followups else None,
    )


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    kinds: tuple[str, ...]
    """Kinds of answer wanted, most specific first (yesno, which-mode, how-much, how-to, …)."""
    numbers: dict[str, int] = field(default_factory=dict)
    """Counted things named with a number: {"pods": 4000, "nodes": 40}."""

    @property
    def kind(self) -> str:
        return self.kinds[0] if self.kinds else "what-is"


def kinds_of(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(kind for kind, pattern in compiled().kinds if pattern.search(text)))
    real = tuple(kind for kind in kinds if kind != FALLBACK)
    return real or (("yesno",) if FALLBACK in kinds else ())


def numbers_of(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    c = compiled()
    # The word-first form ("파드 500개") is read first: in "파드 500개 노드 20대" the 500 belongs to the
    # pods, not to the nodes that follow it, so a number already read is not read again.
    taken: list[tuple[int, int]] = []
    for name, pattern in [*c.quantities_after, *c.quantities]:
        if name in found:
            continue
        match = next(
            (m for m in pattern.finditer(text) if not any(a < m.end(1) and m.start(1) < b for a, b in taken)), None
        )
        if match is None:
            continue
        taken.append(match.span(1))
        value = float(match.group(1).replace(",", ""))
        scale = {"k": 1000, "천": 1000, "만": 10000}.get((match.group(2) or "").lower(), 1)
        found[name] = int(value * scale)
    if "pods" in found and "nodes" in found and PER_NODE.search(text):
        found["pods"] *= found["nodes"]  # "10 nodes with 40 pods each"
    return found


def understand(text: str) -> Question:
    kinds = kinds_of(text)
    numbers = numbers_of(text)
    if numbers and "how-much" not in kinds:
        kinds = ("how-much", *kinds)
    return Question(text=text, language="ko" if has_hangul(text) else "en", kinds=kinds, numbers=numbers)


def is_greeting(text: str) -> bool:
    """Hello / thanks and little else (a greeting in front of a real question is that question)."""
    words = re.sub(r"[^\w\s]", " ", text).split()
    return len(words) <= 6 and compiled().greeting.search(text) is not None


def near_miss(text: str) -> str | None:
    """The non-Istio subject the question is about (Kubernetes native sidecars, NetworkPolicy …), if any."""
    for subject, pattern, unless in compiled().near_misses:
        if pattern.search(text) and not (unless and unless.search(text)):
            return subject
    return None


IDENTIFIER = re.compile(r"[a-z][A-Z]|[._/=-]|\d|_")
MIN_IDENTIFIER = 4


def identifiers_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """A pattern for the terms that are the mesh's own identifiers (allowedRoutes, istio.io/rev, IST0123,
    tls-check): a question naming one is in scope without the word Istio. Kubernetes' and networking's
    shared names (scope.yaml `generic_terms`) are left out."""
    generic = {t.lower() for t in ScopeData.model_validate(yaml_load(DATA.read_text(encoding="utf-8"))).generic_terms}
    own = sorted(
        {t.lower() for t in terms if len(t) >= MIN_IDENTIFIER and IDENTIFIER.search(t) and t.lower() not in generic},
        key=len,
        reverse=True,
    )
    if not own:
        return None
    return re.compile(r"(?<![a-z0-9_.-])(?:" + "|".join(re.escape(t) for t in own) + r")(?![a-z0-9_])", re.IGNORECASE)


def in_scope_without_istio(text: str) -> bool:
    pattern = compiled().in_scope
    return pattern is not None and pattern.search(text) is not None


def split(text: str) -> list[str]:
    """The separate questions of one message: at question marks and joining words ("그리고", "also")."""
    parts = [p.strip(" ,.;") for p in re.split(r"(?<=[?？])\s+|\n+", text) if p.strip(" ,.;")]
    splitter = compiled().splitter
    if splitter is not None:
        parts = [
            piece.strip(" ,.;") for part in parts for piece in splitter.split(part) if piece and piece.strip(" ,.;")
        ]
    parts = [p for p in parts if len(re.findall(r"\w+", p)) >= MIN_PART_WORDS]
    if len(parts) <= 1:
        return [text]
    return [*parts[: MAX_PARTS - 1], " ".join(parts[MAX_PARTS - 1 :])] if len(parts) > MAX_PARTS else parts


FOLLOWUP_MAX_WORDS = 6


def is_followup(text: str) -> bool:
    """A terse question that only makes sense after the earlier turn."""
    pattern = compiled().followup
    words = len(re.findall(r"\w+", text))
    return words <= FOLLOWUP_MAX_WORDS and ((pattern is not None and pattern.search(text) is not None) or words <= 3)
