"""BM25 in plain numpy, for a few hundred short documents.

Lucene's variant, as bm25s computes it: idf = log(1 + (N - df + 0.5) / (df + 0.5)), tf part
tf / (tf + k1 (1 - b + b dl / avgdl)).

bm25s pulls in scipy.sparse (~0.3 s of a fresh CLI process's CPU) for what is here a handful of
postings lists; this keeps the same scores with numpy alone, and the index pickles into the cache.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = K1, b: float = B) -> None:
        self.n_docs = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if len(docs) else 1.0
        df: Counter[str] = Counter(token for doc in docs for token in set(doc))
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for d, doc in enumerate(docs):
            norm = k1 * (1 - b + b * lengths[d] / (avg or 1.0))
            for token, tf in Counter(doc).items():
                idf = math.log(1 + (self.n_docs - df[token] + 0.5) / (df[token] + 0.5))
                ids, weights = postings.setdefault(token, ([], []))
                ids.append(d)
                weights.append(idf * tf / (tf + norm))
        self.postings = {
            t: (np.array(i, dtype=np.int32), np.array(w, dtype=np.float64)) for t, (i, w) in postings.items()
        }

    def get_scores(self, query: list[str]) -> npt.NDArray[np.float64]:
        """Each document's score: the sum over the query's tokens, a repeated token counting again (as bm25s)."""
        scores = np.zeros(self.n_docs, dtype=np.float64)
        for token in query:
            hit = self.postings.get(token)
            if hit is not None:
                scores[hit[0]] += hit[1]
        return scores
