"""Find the knowledge entries that answer a free-text question, or say that none does.

Ranking is BM25 (knowledge.bm25, scores as bm25s) over each entry's titles, tags, example questions and body in both
languages, tokenized by `knowledge.text.Analyzer`. Whether the top entry really answers is a
separate decision, because BM25 always ranks something first:

1. the question must be about an Istio mesh: one strong domain term (istio, 사이드카, ztunnel …),
   or two weak ones (migration + tracing …); without a strong term, no word naming another
   product (kafka, nginx …); and never another mesh or gateway (linkerd, kong …) unless the top
   entry's title, tags or questions name it too. Other products may come up in a mesh question
   ("our init container pulls from vault … in ambient?"), competing meshes are another subject.
   One weak term is not enough: "how do I roll back a deployment?" and "init container 순서" are
   Kubernetes questions, and refusing wrongly costs less than answering wrongly;
2. a mesh topic the knowledge base is known not to cover (rate limiting, circuit breaking …,
   listed in synonyms.yaml) is refused unless the top entry's title, tags or questions name it;
3. the top entry must cover some of the question: the idf-weighted share of the question's
   words found in it ("istio on a raspberry pi" covers little).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from knowledge.base import KnowledgeBase
from knowledge.bm25 import BM25
from knowledge.schema import Entry, Language, Term, Vocabulary
from knowledge.text import Analyzer, Unit, has_hangul

MIN_COVERAGE = 0.15
"""Share of the question (idf-weighted) the top entry must contain to count as an answer. Low on
purpose: Slack questions carry many words no entry has (bunch, survive, 한줄로); the domain check and
`not_covered` topics do most of the refusing."""
SEE_ALSO_RATIO = 0.6
"""A runner-up whose score is at least this share of the top score is offered as "see also"."""
FUZZY_MIN_LENGTH = 5
FUZZY_CUTOFF = 85.0
"""Typos (waypiont, envoyfiltr) are mapped to a known word at this rapidfuzz ratio or above."""
FIELD_WEIGHTS = {"title": 3, "tags": 3, "questions": 2, "body": 1}
"""How many times each part of an entry is repeated in its indexed document."""
PHRASING_WEIGHT = 1.0
"""Weight of the best-matching single example question (or title) next to the whole-entry score:
a short Slack question resembles one phrasing more than the entry as a whole (the largest single
gain in benchmarks/compare_tokenizers.py)."""
MODE_TITLE_BOOST = 0.15
"""Share added to the score of an entry whose title names the one mode the question names (vocabulary
`modes`): "ambient architecture" then prefers the ambient architecture entry over the sidecar one,
where both words occur everywhere. Measured on tests/eval_questions.yaml: 0.1-0.3 help, 0.5 hurts."""
TOP_K = 5

Refusal = Literal["empty", "off-topic", "no-domain", "not-covered", "low-coverage"]
FALLBACK_VOCABULARY = Vocabulary(terms=[Term(term="istio", domain="strong"), Term(term="mesh", domain="strong")])


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    found: bool
    language: Language
    matches: tuple[Match, ...]
    """Ranked best first, even when not found (useful for debugging and benchmarks)."""
    coverage: float
    refusal: Refusal | None

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.found and self.matches else None

    def see_also(self, limit: int = 2) -> list[str]:
        """Runners-up close enough to the best match to be worth a pointer."""
        if not self.found or not self.matches:
            return []
        floor = self.matches[0].score * SEE_ALSO_RATIO
        return [m.entry_id for m in self.matches[1:] if m.score >= floor][:limit]


def language_of(question: str) -> Language:
    """Korean if the question has any Hangul (mixed Slack text included), else English."""
    return "ko" if has_hangul(question) else "en"


class Index:
    """BM25 over the entries plus what the refusal check needs; build once per knowledge base."""

    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or Analyzer(kb.vocabulary or FALLBACK_VOCABULARY)
        self.ids = list(kb.entries)
        docs = [self._document(entry) for entry in kb.entries.values()]
        self.doc_sets = [set(doc) for doc in docs]
        self.head_sets = [set(self._document(entry, body=False)) for entry in kb.entries.values()]
        self.bm25 = BM25(docs)
        phrasings = [
            (n, text)
            for n, entry in enumerate(kb.entries.values())
            for text in [entry.title.en, entry.title.ko, *entry.questions.en, *entry.questions.ko]
        ]
        self.phrasing_entry = np.array([n for n, _ in phrasings])
        self.phrasing_bm25 = BM25([self.analyzer.tokens(text) for _, text in phrasings])
        df = Counter(token for doc in self.doc_sets for token in doc)
        n = len(docs)
        self.idf = {token: math.log(1 + (n - count + 0.5) / (count + 0.5)) for token, count in df.items()}
        # A word no entry has weighs like the rarest known word, not more: Slack filler is unknown too.
        self.unknown_idf = max(self.idf.values(), default=1.0)
        self.mode_titles = self._mode_titles(kb)
        self.latin_vocabulary = sorted(t for t in df if t.isascii() and len(t) >= FUZZY_MIN_LENGTH)

    def _mode_titles(self, kb: KnowledgeBase) -> dict[str, npt.NDArray[np.float64]]:
        """For each mode term, 1.0 for the entries whose title names it and no other mode."""
        modes = set(kb.vocabulary.modes if kb.vocabulary else [])
        titles = [set(self.analyzer.tokens(f"{e.title.en} {e.title.ko}")) for e in kb.entries.values()]
        return {
            mode: np.array([float(mode in title and not title & (modes - {mode})) for title in titles])
            for mode in modes
        }

    def _document(self, entry: Entry, *, body: bool = True) -> list[str]:
        tokens = self.analyzer.tokens
        parts = {
            "title": tokens(f"{entry.title.en} {entry.title.ko}"),
            "tags": tokens(" ".join(entry.tags)) + tokens(entry.id.replace("-", " ")),
            "questions": tokens(" ".join([*entry.questions.en, *entry.questions.ko])),
            "body": tokens(f"{entry.body.en} {entry.body.ko}") if body else [],
        }
        return [token for name, part in parts.items() for _ in range(FIELD_WEIGHTS[name]) for token in part]

    def search(self, question: str, *, mesh_context: bool = False) -> SearchResult:
        language = language_of(question)
        units = [self._correct(unit) for unit in self.analyzer.units(question)]
        tokens = [token for unit in units for token in self._query_tokens(unit)]
        if not tokens:
            return SearchResult(False, language, (), 0.0, "empty")
        scores = self._scores(tokens)
        order = sorted(range(len(self.ids)), key=lambda i: -float(scores[i]))[:TOP_K]
        matches = tuple(Match(self.ids[i], round(float(scores[i]), 4)) for i in order if scores[i] > 0)
        top_doc = self.doc_sets[order[0]] if matches else set()
        top_head = self.head_sets[order[0]] if matches else set()
        coverage = self._coverage(units, top_doc)
        present = {t for unit in units for t in unit.tokens}
        refusal = self._refusal(question, present, top_head, coverage, mesh_context=mesh_context)
        return SearchResult(refusal is None, language, matches, round(coverage, 3), refusal)

    def _scores(self, tokens: list[str]) -> npt.NDArray[np.float64]:
        """Whole-entry BM25 plus the best single phrasing of each entry."""
        best_phrasing = np.zeros(len(self.ids))
        np.maximum.at(best_phrasing, self.phrasing_entry, self.phrasing_bm25.get_scores(tokens))
        whole: npt.NDArray[np.float64] = self.bm25.get_scores(tokens).astype(np.float64)
        total = whole + PHRASING_WEIGHT * best_phrasing
        named = [mode for mode in self.mode_titles if mode in tokens]
        if len(named) == 1:
            total = total * (1 + MODE_TITLE_BOOST * self.mode_titles[named[0]])
        return total

    def _refusal(
        self, question: str, present: set[str], top_head: set[str], coverage: float, *, mesh_context: bool
    ) -> Refusal | None:
        analyzer = self.analyzer
        strong = bool(present & analyzer.strong) or analyzer.names_strong_pattern(question)
        if not strong and analyzer.mentions_off_topic(question):
            return "off-topic"
        if any(not set(toks) <= top_head for _, toks in analyzer.other_meshes_named(present)):
            return "off-topic"  # "envoy gateway vs kong gateway": the mesh word does not make it ours
        # In a mesh conversation one weak term is enough: "how do I roll back?" asked in a migration thread.
        if not strong and len(present & analyzer.weak) < (1 if mesh_context else 2):
            return "no-domain"
        if any(not set(toks) <= top_head for _, toks in analyzer.uncovered_topics(present)):
            return "not-covered"
        if coverage < MIN_COVERAGE:
            return "low-coverage"
        return None

    def _coverage(self, units: list[Unit], doc: set[str]) -> float:
        """Idf-weighted share of the question's words that the entry contains."""
        total = covered = 0.0
        for unit in units:
            weight = self.idf.get(unit.word, self.idf.get(unit.stem, self.unknown_idf))
            total += weight
            if unit.word in doc or unit.stem in doc:
                covered += weight
            elif unit.grams:
                covered += weight * sum(g in doc for g in unit.grams) / len(unit.grams)
        return covered / total if total else 0.0

    def _query_tokens(self, unit: Unit) -> tuple[str, ...]:
        """The written word if known, else its stem, else its known bigrams (전환하려면 -> 전환 …)."""
        for form in (unit.word, unit.stem):
            if form in self.idf:
                return (form,)
        grams = tuple(gram for gram in unit.grams if gram in self.idf)
        return grams or (unit.stem,)

    def _correct(self, unit: Unit) -> Unit:
        """Map a misspelt Latin word to the closest indexed one (rapidfuzz); leave the rest alone."""
        word = unit.word
        if word in self.idf or unit.grams or not word.isascii() or len(word) < FUZZY_MIN_LENGTH:
            return unit
        best = None
        for form in dict.fromkeys((word, unit.surface or word)):
            hit = process.extractOne(form, self.latin_vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if hit and (best is None or hit[1] > best[1]):
                best = hit
        return Unit(best[0], best[0]) if best else unit


_indexes: dict[int, tuple[KnowledgeBase, Index]] = {}
_lock = threading.Lock()
KEEP_INDEXES = 4
"""A process normally has one knowledge base; a few more (tests, a reload) are kept, not all."""


def index_for(kb: KnowledgeBase) -> Index:
    """The index of `kb`, built on first use and kept for the life of the process."""
    with _lock:
        cached = _indexes.get(id(kb))
        if cached is None or cached[0] is not kb:
            cached = (kb, Index(kb))
            _indexes[id(kb)] = cached
            while len(_indexes) > KEEP_INDEXES:
                del _indexes[next(iter(_indexes))]
        return cached[1]


def remember_index(kb: KnowledgeBase, index: Index) -> None:
    """Keep an index built elsewhere (loaded from the cache with its knowledge base)."""
    with _lock:
        _indexes[id(kb)] = (kb, index)
        while len(_indexes) > KEEP_INDEXES:
            del _indexes[next(iter(_indexes))]


def search(kb: KnowledgeBase, question: str, *, mesh_context: bool = False) -> SearchResult:
    """Rank the entries for `question`; `mesh_context`: the conversation is already about the mesh."""
    return index_for(kb).search(question, mesh_context=mesh_context)
