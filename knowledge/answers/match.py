"""Rank answer units for a question: character n-gram TF-IDF over their example questions and claims.

Why character n-grams: Slack questions are short and mix Korean and English ("ambient에서
EnvoyFilter 돼?"); Korean glues particles onto words, so word tokens miss (EnvoyFilter는 ≠
EnvoyFilter를). Character 2-4-grams inside each word match across particles, typos and spacing.
The vocabulary's variants are folded first (앰비언트 -> ambient), so both languages meet.

Measured on the tuning set against BM25 over units and a linear model trained on the units' example
questions (benchmarks/compare_matchers.py); the figures are in the README's "Answers" section.

The index is plain arrays (a CSR matrix by feature): it pickles compactly into the engine cache
(`knowledge.answers.cache`), so a fresh CLI process loads it instead of building it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.schema import Unit
from knowledge.text import Analyzer, has_hangul

NGRAMS = (2, 3, 4)
TERM_WEIGHT = 3.0
"""A vocabulary term (ztunnel, envoyfilter, 앰비언트 -> ambient) counts like this many n-grams."""
CLAIM_WEIGHT = 0.6
"""Weight of the claim/terms document next to the best example question of a unit."""
KIND_BONUS = 0.2
"""Added (times the score) when the unit answers the kind of question asked (yesno, how-much …)."""

FORM_WORDS = frozenset(
    {"meaning", "mean", "means", "define", "definition", "explained", "describe", "difference", "differences"}
)
"""Words that say what form of answer is wanted, not what it is about: the question's kind carries
them (KIND_BONUS); as n-grams they only pull towards units whose phrasings share the form."""

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]


def features(analyzer: Analyzer, text: str) -> dict[str, float]:
    """Character n-grams of each word (folded by the vocabulary), plus the vocabulary terms themselves."""
    counts: dict[str, float] = {}
    for word in analyzer.words(text):
        if word in analyzer.canonical:
            counts["t:" + word] = counts.get("t:" + word, 0.0) + TERM_WEIGHT
        if has_hangul(word):
            word = analyzer.strip_particles(word)
        elif word in analyzer.stop_en or word in FORM_WORDS:
            continue
        marked = f"<{word}>"
        for n in NGRAMS:
            for i in range(max(1, len(marked) - n + 1)):
                gram = marked[i : i + n]
                counts[gram] = counts.get(gram, 0.0) + 1
    return counts


@dataclass
class UnitIndex:
    """TF-IDF (sublinear tf, smooth idf, l2) of every unit's example questions and its claim document."""

    unit_ids: list[str]
    vocabulary: dict[str, int]
    idf: FloatArray
    indptr: IntArray
    """CSR by feature: documents of feature f are doc_ids[indptr[f]:indptr[f+1]]."""
    doc_ids: IntArray
    weights: FloatArray
    doc_unit: IntArray
    """The unit each document belongs to."""
    doc_is_claim: npt.NDArray[np.bool_]
    answers: list[frozenset[str]]

    @classmethod
    def build(cls, analyzer: Analyzer, units: list[Unit]) -> UnitIndex:
        docs: list[dict[str, float]] = []
        doc_unit: list[int] = []
        is_claim: list[bool] = []
        for n, unit in enumerate(units):
            for question in [*unit.questions.en, *unit.questions.ko]:
                docs.append(features(analyzer, question))
                doc_unit.append(n)
                is_claim.append(False)
            claim = " ".join([unit.claim.en, unit.claim.ko, *unit.terms, *unit.terms])
            docs.append(features(analyzer, claim))
            doc_unit.append(n)
            is_claim.append(True)
        vocabulary: dict[str, int] = {}
        for doc in docs:
            for feature in doc:
                vocabulary.setdefault(feature, len(vocabulary))
        df = np.zeros(len(vocabulary), dtype=np.float32)
        for doc in docs:
            for feature in doc:
                df[vocabulary[feature]] += 1
        idf = (np.log((1 + len(docs)) / (1 + df)) + 1).astype(np.float32)
        postings: list[list[tuple[int, float]]] = [[] for _ in vocabulary]
        for d, doc in enumerate(docs):
            weighted = {vocabulary[f]: (1 + math.log(c)) * float(idf[vocabulary[f]]) for f, c in doc.items()}
            norm = math.sqrt(sum(w * w for w in weighted.values())) or 1.0
            for f, w in weighted.items():
                postings[f].append((d, w / norm))
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int32)
        indptr[1:] = np.cumsum([len(p) for p in postings])
        flat = [item for p in postings for item in p]
        return cls(
            unit_ids=[u.id for u in units],
            vocabulary=vocabulary,
            idf=idf,
            indptr=indptr,
            doc_ids=np.array([d for d, _ in flat], dtype=np.int32),
            weights=np.array([w for _, w in flat], dtype=np.float32),
            doc_unit=np.array(doc_unit, dtype=np.int32),
            doc_is_claim=np.array(is_claim, dtype=np.bool_),
            answers=[frozenset(u.answers) for u in units],
        )

    def scores(self, analyzer: Analyzer, text: str, kinds: tuple[str, ...] = ()) -> FloatArray:
        """One score per unit (0..~1.2): the best example question's cosine plus a share of the claim's."""
        n_units = len(self.unit_ids)
        if n_units == 0:
            return np.zeros(0, dtype=np.float32)
        query: dict[int, float] = {}
        for feature, count in features(analyzer, text).items():
            f = self.vocabulary.get(feature)
            if f is not None:
                query[f] = (1 + math.log(count)) * float(self.idf[f])
        doc_scores = np.zeros(len(self.doc_unit), dtype=np.float32)
        if query:
            norm = math.sqrt(sum(w * w for w in query.values()))
            for f, w in query.items():
                start, end = self.indptr[f], self.indptr[f + 1]
                doc_scores[self.doc_ids[start:end]] += self.weights[start:end] * (w / norm)
        best_question = np.zeros(n_units, dtype=np.float32)
        claim = np.zeros(n_units, dtype=np.float32)
        questions = ~self.doc_is_claim
        np.maximum.at(best_question, self.doc_unit[questions], doc_scores[questions])
        claim[self.doc_unit[self.doc_is_claim]] = doc_scores[self.doc_is_claim]
        total = best_question + CLAIM_WEIGHT * claim
        if kinds:
            wanted = set(kinds[:2])
            bonus = np.array([1 + KIND_BONUS * bool(a & wanted) for a in self.answers], dtype=np.float32)
            total = total * bonus
        return total
