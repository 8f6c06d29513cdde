"""The knowledge base and its answer engine, built once and kept in the user's cache dir.

A fresh CLI process would otherwise parse and validate every YAML file and build both indexes
(~1 s of CPU); loading the pickled engine takes a few ms. The key is a hash of every knowledge file
and of the code that builds the engine, so an edited file or a new release never meets a stale
cache. The cache is the user's own (their cache dir, files 0600); any problem with it (read-only
home, a corrupt or foreign file) only means building in memory.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from knowledge.base import KnowledgeBase

CACHE_ENV = "MESHBOT_CACHE_DIR"
"""Where the cache lives (default: $XDG_CACHE_HOME/meshbot or ~/.cache/meshbot); `off` disables it."""
CODE_DIR = Path(__file__).resolve().parents[1]
"""The `knowledge` package: its modules and data decide what a cached engine holds."""


def cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshbot"


def key(data_dir: Path) -> str:
    """Hash of the knowledge files, the code and data of this package, and the Python version."""
    digest = hashlib.sha256(sys.version.encode())
    files = [*sorted(data_dir.rglob("*.yaml")), *sorted(CODE_DIR.rglob("*.py")), *sorted(CODE_DIR.rglob("*.yaml"))]
    for path in dict.fromkeys(files):
        digest.update(str(path.relative_to(path.anchor)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def cached_knowledge(data_dir: Path, load: Callable[[Path], KnowledgeBase]) -> KnowledgeBase:
    """The knowledge base in `data_dir`, with its answer engine ready (from the cache when it is current)."""
    from knowledge.answers.engine import Engine, register

    where = cache_dir()
    try:
        name = f"engine-{key(data_dir)}.pickle"
    except OSError:
        where, name = None, ""
    if where is not None:
        engine = _read(where / name)
        if isinstance(engine, Engine):
            register(engine)
            return engine.kb
    kb = load(data_dir)  # raises KnowledgeError for a broken file: never cached
    engine = Engine(kb)
    register(engine)
    if where is not None:
        _write(where, name, engine)
    return kb


def _read(path: Path) -> object:
    try:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301  (the user's own cache file, written by _write)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None


def _write(where: Path, name: str, engine: object) -> None:
    try:
        where.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name (mode 0600) and renamed: a concurrent process never reads half a file.
        with tempfile.NamedTemporaryFile(dir=where, suffix=".tmp", delete=False) as tmp:
            pickle.dump(engine, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, where / name)
        for old in where.glob("engine-*.pickle"):
            if old.name != name:
                old.unlink(missing_ok=True)  # built from files that changed since
    except (OSError, pickle.PicklingError):
        return
