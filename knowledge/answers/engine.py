"""From a question to an answer: scope, understanding, unit matching, composition.

The answer starts with the answer (the unit's claim: yes/no, the number, the mode, the command);
then at most a few short lines of why/how; a command block only when the question asks how (or the
unit is a command); sources as the guide's section or the upstream page. Entries stay the detail
pages: `more` holds them, one step away (CLI `--more`, Slack's "More" button).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np

from knowledge.answers import understand as u
from knowledge.answers.estimate import estimate
from knowledge.answers.match import UnitIndex
from knowledge.base import KnowledgeBase
from knowledge.schema import Language, Unit
from knowledge.search import SearchResult, index_for, remember_index

STRONG = 0.42
"""Unit score at or above which the unit answers without hedging (measured on the tuning set)."""
WEAK = 0.24
"""Below this the unit is not an answer; between WEAK and STRONG it answers with a hedge and alternatives."""
ROUTE_BY_ENTRY = True
"""A question whose best entry (BM25) has no units is answered with that entry's page."""
ENTRY_WEIGHT = 0.5
"""Share of the entry's normalised BM25 score added to each of its units' n-gram score."""
SUPPORT_RATIO = 0.6
"""Units scoring at least this share of the best add their claims as supporting lines (at most
MAX_SUPPORT). Measured on the tuning set: 0.8 same-entry only 77%, 0.6 83%, 0.6 any entry 87% right,
median answer 200 -> 390 characters."""
MAX_SUPPORT = 2
OFF_SUBJECT = 0.8
"""Factor on a yes/no unit's score when the question does not name the unit's subject (its first
term): its yes or no is about something else ("mTLS without sidecars?" is not "PeerAuthentication
DISABLE in ambient?"), so a unit about the asked subject answers instead."""
ON_SUBJECT = 1.1
"""Factor on a yes/no unit whose subject the yes/no question names: its claim answers the asked
proposition directly, where a fact unit would only describe around it."""
RANKED = 40
MAX_ALTERNATIVES = 3
HOW_KINDS = {"how-to", "broken"}
PLACEHOLDER = re.compile(r"\{(namespace|workload|revision)\}")


@dataclass
class Answer:
    found: bool
    language: Language
    text: str
    short: str
    confidence: float
    units: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    alternatives: list[dict[str, str]] = field(default_factory=list)
    kind: str = ""
    refusal: str | None = None
    """Why it is not answered: greeting, near-miss, off-topic, no-domain, not-covered, low-coverage, weak."""
    subject: str | None = None
    """For a near-miss refusal: the non-Istio subject the question is about."""


@dataclass(frozen=True)
class Names:
    """Real names to put into commands (a cluster's namespace, a workload, a revision)."""

    namespace: str | None = None
    workload: str | None = None
    revision: str | None = None

    def fill(self, command: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = getattr(self, match.group(1))
            return str(value) if value else match.group(0).upper().replace("{", "<").replace("}", ">")

        return PLACEHOLDER.sub(one, command)


def _first_sentence(text: str) -> str:
    match = re.search(r"(?<=[.!?。])\s|(?<=다\.)\s|\n", text)
    return text[: match.start()].strip() if match else text.strip()


def references(unit: Unit, language: Language) -> list[str]:
    src = unit.source
    guide = "Istio Core Patterns guide" if language == "en" else "Istio 핵심 패턴 가이드"
    out = []
    if src.guide:
        out.append(f"{guide}: {src.guide}")
    if src.upstream:
        out.append(src.upstream)
    if src.facts and not out:
        out.append(src.facts.replace("ISTIO-FACTS: ", "Istio facts: "))
    return out


def unit_lines(unit: Unit, language: Language, kind: str, names: Names, *, with_detail: bool = True) -> list[str]:
    """The unit as answer lines: claim (with its condition), detail, and its command where one is wanted."""
    lines = [names.fill(unit.claim.in_(language))]
    if unit.condition:
        label = "Applies to" if language == "en" else "조건"
        lines.append(f"({label}: {unit.condition.in_(language)})")
    if with_detail and unit.detail:
        lines.append(names.fill(unit.detail.in_(language)))
    if unit.command and (kind in HOW_KINDS or unit.kind in ("command", "steps")):
        lines.append(f"```\n{names.fill(unit.command)}\n```")
    return lines


class Engine:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.entry_index = index_for(kb)
        self.units = list(kb.units.values())
        self.index = UnitIndex.build(self.entry_index.analyzer, self.units)
        # The subject of each yes/no unit: the vocabulary words of its first term (None when the term
        # is not in the vocabulary, so nothing can be said about whether a question names it).
        self.subjects = [self._subject(unit) for unit in self.units]
        self.identifiers = u.identifiers_pattern([term for unit in self.units for term in unit.terms])
        self.no_verdict = np.array([unit.kind in ("command", "steps") for unit in self.units], dtype=np.bool_)

    def _subject(self, unit: Unit) -> frozenset[str] | None:
        if unit.kind != "yesno":
            return None
        words = frozenset(self.terms(unit.terms[0]))
        return words or None

    def rank(self, question: u.Question, search: SearchResult | None = None) -> list[tuple[Unit, float]]:
        """Units best first: n-gram similarity, plus a share of their entry's BM25 rank (the combination
        measured best on the tuning set: the entry's whole page knows words its units' phrasings lack)."""
        scores = self.index.scores(self.entry_index.analyzer, question.text, question.kinds)
        if search is not None and search.matches and ENTRY_WEIGHT:
            top = search.matches[0].score or 1.0
            entry_score = {m.entry_id: m.score / top for m in search.matches}
            scores = scores + ENTRY_WEIGHT * np.array(
                [entry_score.get(unit.entry, 0.0) for unit in self.units], dtype=np.float32
            )
        if question.kind == "yesno":
            named = set(self.terms(question.text))
            factors = [
                1.0 if subject is None else ON_SUBJECT if subject & named else OFF_SUBJECT for subject in self.subjects
            ]
            # A command says neither yes nor no: it answers a yes/no question only when nothing else does.
            scores = scores * np.array(factors, dtype=np.float32) * np.where(self.no_verdict, OFF_SUBJECT, 1.0)
        order = np.argsort(-scores)[:RANKED]
        return [(self.units[i], float(scores[i])) for i in order if scores[i] > 0]

    def in_domain(self, text: str, search: SearchResult, mesh_context: bool) -> bool:
        named = self.identifiers is not None and self.identifiers.search(text) is not None
        return search.found or mesh_context or u.in_scope_without_istio(text) or named

    def answer(
        self,
        text: str,
        *,
        names: Names | None = None,
        mesh_context: bool = False,
        several: bool = True,
        answer_in: Language | None = None,
    ) -> Answer:
        """The answer to `text`; `several`: a message may hold several questions, each answered.
        `answer_in`: the answer's language whatever the question's (the user said `--lang`)."""
        names = names or Names()
        question = _in(u.understand(text), answer_in)
        language: Language = "ko" if question.language == "ko" else "en"
        if u.is_greeting(text):
            return Answer(False, language, "", "", 1.0, kind="greeting", refusal="greeting")
        subject = u.near_miss(text)
        if subject is not None:
            return Answer(False, language, "", "", 1.0, kind=question.kind, refusal="near-miss", subject=subject)
        parts = u.split(text) if several else [text]
        if len(parts) > 1:
            # The parts share the message's subject: "is ambient GA? and does it support VMs?" is
            # about ambient twice, so a part without a domain word borrows the first part's.
            whole = self.entry_index.search(text, mesh_context=mesh_context)
            shared = mesh_context or self.in_domain(text, whole, mesh_context)
            subject = " ".join(self.terms(parts[0]))
            answers = []
            for part in parts:
                asked = part if self.terms(part) or not subject else f"{part} {subject}"
                answers.append(self._one(_in(u.understand(asked), answer_in), names, shared))
            found = [a for a in answers if a.found]
            if len(found) >= 2:
                return _join(found, language)
            if found:
                return found[0]
        return self._one(question, names, mesh_context)

    def terms(self, text: str) -> list[str]:
        """The vocabulary terms the text names (ztunnel, sidecar, peerauthentication …)."""
        analyzer = self.entry_index.analyzer
        return [w for w in analyzer.words(text) if w in analyzer.canonical]

    def _one(self, question: u.Question, names: Names, mesh_context: bool) -> Answer:
        language: Language = "ko" if question.language == "ko" else "en"
        search = self.entry_index.search(question.text, mesh_context=mesh_context)
        if search.refusal == "off-topic":
            return Answer(False, language, "", "", 0.0, kind=question.kind, refusal=search.refusal)
        ranked = self.rank(question, search)
        best, score = ranked[0] if ranked else (None, 0.0)
        if search.refusal == "not-covered" and not mesh_context and score < STRONG:
            # A mesh topic the knowledge does not explain, unless a unit answers it well (CUSTOM authz).
            return Answer(False, language, "", "", round(score, 3), kind=question.kind, refusal=search.refusal)
        in_domain = self.in_domain(question.text, search, mesh_context)
        if {"pods", "nodes", "waypoints"} & set(question.numbers):
            lines, used = estimate(self.units, question.numbers, language, question.text)
            if lines and in_domain:
                return self._estimate(question, lines, used, ranked, language)
        # The entries' BM25 picks the topic more reliably than the units' phrasings (measured: entry
        # choice by units lost 8-19 points on the tuning set); a topic without units answers with its page.
        top_entry = search.best.entry_id if search.found and search.best and ROUTE_BY_ENTRY else None
        if top_entry and (best is None or best.entry != top_entry) and not self.kb.units_of(top_entry):
            return self._from_entry(top_entry, search, language, ranked)
        if best is not None and score >= WEAK and in_domain:
            return self._from_units(question, ranked, names, language)
        if search.found and search.best is not None:
            return self._from_entry(search.best.entry_id, search, language, ranked)
        return Answer(
            False,
            language,
            "",
            "",
            round(score, 3),
            kind=question.kind,
            refusal=search.refusal or "weak",
            alternatives=self._alternatives(ranked, language, skip=set()) if in_domain else [],
        )

    def _from_units(
        self, question: u.Question, ranked: list[tuple[Unit, float]], names: Names, language: Language
    ) -> Answer:
        best, score = ranked[0]
        kind = question.kind
        lines = unit_lines(best, language, kind, names)
        support = [unit for unit, s in ranked[1:] if s >= SUPPORT_RATIO * score and unit.claim != best.claim][
            :MAX_SUPPORT
        ]
        lines += [f"- {names.fill(unit.claim.in_(language))}" for unit in support]
        weak = score < STRONG
        if weak:
            hedge = (
                "I am not sure this is what you asked; the closest answer I have:"
                if language == "en"
                else "질문을 정확히 이해했는지 확실하지 않습니다. 가장 가까운 답:"
            )
            lines.insert(0, hedge)
        used = [best, *support]
        refs = list(dict.fromkeys(r for unit in used for r in references(unit, language)))
        entries = list(dict.fromkeys(unit.entry for unit in used))
        alternatives = self._alternatives(ranked, language, skip={best.entry}) if weak else []
        return Answer(
            True,
            language,
            "\n".join(lines),
            _first_sentence(best.claim.in_(language)),
            round(min(score, 1.0), 3),
            units=[unit.id for unit in used],
            entries=entries,
            references=refs,
            alternatives=alternatives,
            kind=kind,
        )

    def _estimate(
        self,
        question: u.Question,
        lines: list[str],
        used: list[str],
        ranked: list[tuple[Unit, float]],
        language: Language,
    ) -> Answer:
        units = [self.kb.units[i] for i in used]
        refs = list(dict.fromkeys(r for unit in units for r in references(unit, language)))
        return Answer(
            True,
            language,
            "\n".join(lines),
            lines[0],
            1.0,
            units=used,
            entries=list(dict.fromkeys(unit.entry for unit in units)),
            references=refs,
            kind="how-much",
        )

    def _from_entry(
        self, entry_id: str, search: SearchResult, language: Language, ranked: list[tuple[Unit, float]]
    ) -> Answer:
        """No unit answers well enough but an entry does: its page, as before units existed."""
        entry = self.kb.entry(entry_id)
        body = entry.body.in_(language).strip()
        entry_units = self.kb.units_of(entry_id)
        lines = [entry_units[0].claim.in_(language), body] if entry_units else [body]
        refs = [f"{entry.source.seed}" if entry.source.seed else "", entry.source.upstream or ""]
        return Answer(
            True,
            language,
            "\n\n".join(lines),
            _first_sentence(lines[0]),
            round(min(search.coverage, 1.0), 3),
            units=[entry_units[0].id] if entry_units else [],
            entries=[entry_id, *search.see_also()],
            references=[r for r in refs if r],
            kind="",
        )

    def _alternatives(
        self, ranked: list[tuple[Unit, float]], language: Language, skip: set[str]
    ) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        seen = set(skip)
        for unit, _ in ranked:
            if unit.entry in seen:
                continue
            seen.add(unit.entry)
            out.append({"entry": unit.entry, "unit": unit.id, "title": self.kb.entry(unit.entry).title.in_(language)})
            if len(out) == MAX_ALTERNATIVES:
                break
        return out


def _join(answers: list[Answer], language: Language) -> Answer:
    """Several questions in one message: each answer in turn, numbered."""
    text = "\n\n".join(f"{n}. {a.text}" for n, a in enumerate(answers, 1))
    return Answer(
        True,
        language,
        text,
        answers[0].short,
        min(a.confidence for a in answers),
        units=[i for a in answers for i in a.units],
        entries=list(dict.fromkeys(e for a in answers for e in a.entries)),
        references=list(dict.fromkeys(r for a in answers for r in a.references)),
        kind="multi",
    )


_engines: dict[int, tuple[KnowledgeBase, Engine]] = {}
KEEP_ENGINES = 4


def engine_for(kb: KnowledgeBase) -> Engine:
    """The engine of `kb`, built on first use (or loaded with it from the cache) and kept."""
    cached = _engines.get(id(kb))
    if cached is None or cached[0] is not kb:
        return register(Engine(kb))
    return cached[1]


def register(engine: Engine) -> Engine:
    """Keep `engine` (and its entry index) for its knowledge base; a few are kept, not all."""
    _engines[id(engine.kb)] = (engine.kb, engine)
    remember_index(engine.kb, engine.entry_index)
    while len(_engines) > KEEP_ENGINES:
        del _engines[next(iter(_engines))]
    return engine


def _in(question: u.Question, language: Language | None) -> u.Question:
    """The question, to be answered in `language` when one is asked for."""
    return question if language is None else dataclasses.replace(question, language=language)
