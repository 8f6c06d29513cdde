"""Does each part of `ask`'s text pipeline pay for itself? Top-1 accuracy and latency per variant.

Run: python benchmarks/compare_tokenizers.py [--kiwi]   (kiwipiepy costs ~2-3 s and ~500 MB to load)

Variants, each adding one part to the previous (the last is what `ask` uses):
  whitespace     lower-cased \\w+ tokens, nothing else
  +synonyms      variants -> canonical terms (synonyms.yaml): bridges Korean and English words
  +stem/bigrams  English Snowball stems (PyStemmer); Korean particles stripped, bigram fallback
  +phrasings     best single example question added to the whole-entry BM25 score
  +rapidfuzz     misspelt words mapped to the nearest indexed word  (= production)
  kiwi           production, but Korean words split by kiwipiepy's morphological analyser
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import knowledge.search as search_module  # noqa: E402
from knowledge import KnowledgeBase, load  # noqa: E402
from knowledge.search import FALLBACK_VOCABULARY, Index  # noqa: E402
from knowledge.text import Analyzer, Unit, clean, has_hangul  # noqa: E402

EVAL = ROOT / "tests" / "eval_questions.yaml"


class Whitespace(Analyzer):
    def units(self, text: str) -> list[Unit]:
        return [Unit(w, w) for w in re.findall(r"\w+", clean(text))]


class NoStemNoBigrams(Analyzer):
    """Synonyms only: words as written after canonicalization."""

    def units(self, text: str) -> list[Unit]:
        return [Unit(w, w) for w in re.findall(r"\w+", self.canonicalize(text))]


class KiwiAnalyzer(Analyzer):
    """Production pipeline, but each Hangul word is split into kiwipiepy morphemes (nouns, stems)."""

    KEEP = ("NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SH", "SN", "MAG")

    def __init__(self, *args: Any, kiwi: Any, **kwargs: Any) -> None:
        self.kiwi = kiwi
        super().__init__(*args, **kwargs)

    def units(self, text: str) -> list[Unit]:
        units: list[Unit] = []
        for unit in super().units(text):
            if not has_hangul(unit.word):
                units.append(unit)
                continue
            forms = [t.form for t in self.kiwi.tokenize(unit.word) if t.tag.split("-")[0] in self.KEEP]
            units.extend(Unit(f, f) for f in forms if f not in self.stop_ko)
        return units


@contextmanager
def settings(phrasing: float, fuzzy: float) -> Iterator[None]:
    saved = search_module.PHRASING_WEIGHT, search_module.FUZZY_CUTOFF
    search_module.PHRASING_WEIGHT, search_module.FUZZY_CUTOFF = phrasing, fuzzy
    try:
        yield
    finally:
        search_module.PHRASING_WEIGHT, search_module.FUZZY_CUTOFF = saved


def evaluate(
    kb: KnowledgeBase, evalset: dict[str, Any], make: Callable[[], Analyzer], phrasing: float, fuzzy: float
) -> dict[str, float]:
    with settings(phrasing, fuzzy):
        index = Index(kb, make())
        ranked = found = 0
        timings: list[float] = []
        for item in evalset["in_scope"]:
            start = time.perf_counter()
            result = index.search(item["q"])
            timings.append(time.perf_counter() - start)
            wanted = [item["id"], *item.get("alt", [])]
            ranked += bool(result.matches) and result.matches[0].entry_id in wanted
            found += result.best is not None and result.best.entry_id in wanted
        refused = 0
        for question in evalset["out_of_scope"]:
            start = time.perf_counter()
            refused += not index.search(question).found
            timings.append(time.perf_counter() - start)
    n_in, n_out = len(evalset["in_scope"]), len(evalset["out_of_scope"])
    timings.sort()
    return {
        "rank@1": ranked / n_in,
        "answered@1": found / n_in,
        "refusal": refused / n_out,
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[int(len(timings) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiwi", action="store_true", help="also measure kiwipiepy (slow to load, ~500 MB)")
    parser.add_argument("--eval", type=Path, default=EVAL, help="questions file (tests/eval_questions.yaml shape)")
    args = parser.parse_args()
    evalset = yaml.safe_load(args.eval.read_text(encoding="utf-8"))
    kb = load()
    vocab = kb.vocabulary or FALLBACK_VOCABULARY
    off = 100.0  # only identical words pass, and known words never reach rapidfuzz: fuzzy matching is off
    variants: list[tuple[str, Callable[[], Analyzer], float, float]] = [
        ("whitespace", lambda: Whitespace(vocab, synonyms=False), 0.0, off),
        ("+synonyms", lambda: NoStemNoBigrams(vocab), 0.0, off),
        ("+stem/bigrams", lambda: Analyzer(vocab), 0.0, off),
        ("+phrasings", lambda: Analyzer(vocab), search_module.PHRASING_WEIGHT, off),
        ("+rapidfuzz (ask)", lambda: Analyzer(vocab), search_module.PHRASING_WEIGHT, search_module.FUZZY_CUTOFF),
    ]
    if args.kiwi:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        from kiwipiepy import Kiwi

        kiwi = Kiwi()
        kiwi.tokenize("워밍업")  # the model finishes loading on first use
        load_s = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        print(f"kiwipiepy: load + first call {load_s:.2f} s, peak RSS +{grown:.0f} MiB")
        variants.append(
            (
                "kiwi instead of bigrams",
                lambda: KiwiAnalyzer(vocab, kiwi=kiwi),
                search_module.PHRASING_WEIGHT,
                search_module.FUZZY_CUTOFF,
            )
        )
    print(f"{'variant':<26}{'rank@1':>8}{'answered@1':>12}{'refusal':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, make, phrasing, fuzzy in variants:
        r = evaluate(kb, evalset, make, phrasing, fuzzy)
        print(
            f"{name:<26}{r['rank@1']:>8.3f}{r['answered@1']:>12.3f}{r['refusal']:>9.3f}"
            f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
        )


if __name__ == "__main__":
    main()
