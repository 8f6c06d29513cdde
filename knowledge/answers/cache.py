"""The unit index, built once and kept in the user's cache dir, keyed by what it is built from.

A fresh CLI process loads the arrays (a few ms) instead of computing n-grams for every example
question. The key is a hash of the units' matched text and the vocabulary, plus a format version, so
an edited knowledge file or a changed tokenizer never meets a stale index. Any cache problem (read-only
home, a corrupt file) only means building in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from knowledge.answers.match import UnitIndex
from knowledge.base import KnowledgeBase
from knowledge.text import Analyzer

FORMAT = "units-ngram-1"
CACHE_ENV = "MESHBOT_CACHE_DIR"
"""Where the index cache lives (default: $XDG_CACHE_HOME/meshbot or ~/.cache/meshbot); `off` disables it."""


def cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshbot"


def key(kb: KnowledgeBase) -> str:
    digest = hashlib.sha256(FORMAT.encode())
    for unit in kb.units.values():
        digest.update(
            json.dumps(
                [unit.id, unit.questions.en, unit.questions.ko, unit.claim.en, unit.claim.ko, unit.terms, unit.answers],
                ensure_ascii=False,
            ).encode()
        )
    if kb.vocabulary is not None:
        digest.update(kb.vocabulary.model_dump_json().encode())
    return digest.hexdigest()[:32]


def unit_index(kb: KnowledgeBase, analyzer: Analyzer) -> UnitIndex:
    where = cache_dir()
    name = f"unit-index-{key(kb)}"
    if where is not None:
        loaded = _read(where, name)
        if loaded is not None:
            return loaded
    index = UnitIndex.build(analyzer, list(kb.units.values()))
    if where is not None:
        _write(where, name, index)
    return index


def _read(where: Path, name: str) -> UnitIndex | None:
    try:
        meta = json.loads((where / f"{name}.json").read_text(encoding="utf-8"))
        with np.load(where / f"{name}.npz", allow_pickle=False) as arrays:
            return UnitIndex.from_arrays(meta, {k: arrays[k] for k in arrays.files})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(where: Path, name: str, index: UnitIndex) -> None:
    try:
        where.mkdir(parents=True, exist_ok=True)
        # Written under temporary names and renamed: a concurrent process never reads half a file.
        with tempfile.NamedTemporaryFile(dir=where, suffix=".npz", delete=False) as tmp:
            np.savez(tmp, **index.to_arrays())  # type: ignore[arg-type]
        os.replace(tmp.name, where / f"{name}.npz")
        with tempfile.NamedTemporaryFile("w", dir=where, suffix=".json", delete=False, encoding="utf-8") as tmp_json:
            json.dump(index.meta(), tmp_json, ensure_ascii=False)
        os.replace(tmp_json.name, where / f"{name}.json")
    except OSError:
        return
