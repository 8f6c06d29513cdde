"""Which matcher picks the answer units best? Measured end to end on the tuning set (tests/eval/tuning.yaml).

Run: python benchmarks/compare_matchers.py        (scikit-learn needed for the `linear` variants:
                                                   pip install scikit-learn; never imported by meshbot)

Every variant plugs a unit ranking into the same engine (knowledge/answers/engine.py) and is scored
by the same module as the tests (tests/eval/scoring.py). Only the tuning set is used to choose: the
hold-out is never compared across variants.

- ngram+entry   character 2-4-gram TF-IDF over the units' example questions and claims, with the
                entries' BM25 choosing the topic (what meshbot uses)
- ngram         the n-gram ranking alone, the entries' BM25 not consulted for the topic
- bm25-units    word-token BM25 over units (questions + claim + terms), with the entries' BM25
- ngram+bm25    the sum of both unit rankings (each scaled to its top), with the entries' BM25
- linear        scikit-learn: char_wb 2-4-gram TF-IDF + LogisticRegression trained on the units'
                example questions (one class per unit), probabilities as scores, with the entries' BM25
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import default as default_kb  # noqa: E402
from knowledge.answers import engine as engine_module  # noqa: E402
from knowledge.answers.engine import Engine, register  # noqa: E402
from knowledge.answers.understand import Question  # noqa: E402
from knowledge.bm25 import BM25  # noqa: E402
from knowledge.schema import Unit  # noqa: E402
from knowledge.search import SearchResult  # noqa: E402
from tests.eval.scoring import TUNING, figures, load, run  # noqa: E402

Scorer = Callable[[Engine, Question], npt.NDArray[np.float32]]


def ngram(engine: Engine, question: Question) -> npt.NDArray[np.float32]:
    return engine.index.scores(engine.entry_index.analyzer, question.text, question.kinds)


def bm25_units(engine: Engine) -> Scorer:
    analyzer = engine.entry_index.analyzer
    docs = [
        analyzer.tokens(" ".join([*u.questions.en, *u.questions.ko, u.claim.en, u.claim.ko, *u.terms]))
        for u in engine.units
    ]
    bm25 = BM25(docs)

    def score(_: Engine, question: Question) -> npt.NDArray[np.float32]:
        raw = bm25.get_scores(analyzer.tokens(question.text))
        top = float(raw.max()) if raw.size and raw.max() > 0 else 1.0
        return (0.6 * raw / top).astype(np.float32)  # on the n-gram scale (its strong answers are ~0.6)

    return score


def combined(engine: Engine) -> Scorer:
    words = bm25_units(engine)

    def score(e: Engine, question: Question) -> npt.NDArray[np.float32]:
        return (0.5 * ngram(e, question) + 0.5 * words(e, question)).astype(np.float32)

    return score


def linear(engine: Engine) -> Scorer:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    analyzer = engine.entry_index.analyzer
    texts, labels = [], []
    for n, unit in enumerate(engine.units):
        for q in [*unit.questions.en, *unit.questions.ko]:
            texts.append(analyzer.canonicalize(q))
            labels.append(n)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    model = LogisticRegression(max_iter=300, C=10.0)
    model.fit(vectorizer.fit_transform(texts), labels)

    def score(_: Engine, question: Question) -> npt.NDArray[np.float32]:
        proba = model.predict_proba(vectorizer.transform([analyzer.canonicalize(question.text)]))[0]
        out = np.zeros(len(engine.units), dtype=np.float32)
        out[model.classes_] = proba
        return (out / (out.max() or 1.0) * 0.6).astype(np.float32)

    return score


def ranked_by(scorer: Scorer) -> Callable[[Engine, Question, SearchResult | None], list[tuple[Unit, float]]]:
    def rank(self: Engine, question: Question, search: SearchResult | None = None) -> list[tuple[Unit, float]]:
        scores = scorer(self, question)
        order = np.argsort(-scores)[: engine_module.RANKED]
        return [(self.units[i], float(scores[i])) for i in order if scores[i] > 0]

    return rank


def measure(name: str, build: Callable[[Engine], Scorer] | None, *, route_by_entry: bool = True) -> None:
    kb = default_kb()
    engine = Engine(kb)
    original = Engine.rank
    try:
        if build is not None:
            Engine.rank = ranked_by(build(engine))  # type: ignore[method-assign]
        engine_module.ROUTE_BY_ENTRY = route_by_entry
        register(engine)
        started = time.perf_counter()
        result = figures(run(kb, load(TUNING)))
        elapsed = (time.perf_counter() - started) / result.count * 1000
    finally:
        Engine.rank = original  # type: ignore[method-assign]
        engine_module.ROUTE_BY_ENTRY = True
    print(
        f"{name:<14} right {result.right:6.1%}   answer-first {result.answer_first:6.1%}   "
        f"refusals {result.refusals:6.1%}   {elapsed:5.1f} ms/question"
    )


def main() -> None:
    measure("ngram+entry", None)
    measure("ngram", None, route_by_entry=False)
    measure("bm25-units", bm25_units)
    measure("ngram+bm25", combined)
    try:
        measure("linear", linear)
    except ImportError:
        print("linear         (scikit-learn not installed)")


if __name__ == "__main__":
    main()
