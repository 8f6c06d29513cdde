"""A large `kubectl get … -A -o yaml` List decoded by several processes.

libyaml's parser costs about 1.7 µs an event in PyYAML's binding, whatever is built from the events: a
20k-pod YAML List takes several times the CPU of the same JSON. kubectl prints a List in block style, each
item starting at column 0 with `- ` (item content is indented), so the items can be cut at those lines into
chunks that are each a valid YAML sequence. Each chunk is decoded in its own process into a lean Snapshot part
(the raw objects never leave the worker); the parts are merged in file order. Anything unexpected (another
layout, several documents, a YAML error) falls back to the sequential reader, which reports errors exactly.
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import yaml

from cluster._yaml_stream import iter_yaml
from cluster.snapshot import Snapshot, SnapshotBuilder

MIN_BYTES = 32 * 2**20  # below this, starting processes costs more than it saves
MAX_WORKERS = 4
_ITEMS = re.compile(rb"(?:\A|\n)items:[ \t]*\r?\n")
_TOP_LEVEL_END = re.compile(rb"\n(?![ \-#\r\n])")  # a line starting at column 0 with neither `- ` nor a comment
_ITEM_START = b"\n- "


@dataclass
class Part:
    """What one chunk of items holds, built in a worker."""

    snapshot: Snapshot
    present: set[str] = field(default_factory=set)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    objects: int = 0


def workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS)


def plan(path: Path) -> tuple[bytes, list[tuple[int, int]]] | None:
    """(the List without its items, the items' byte ranges per chunk), or None when the file is not one
    large block-style List that can be cut safely."""
    if workers() < 2 or path.stat().st_size < MIN_BYTES:
        return None
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = _ITEMS.search(data)
        if found is None or data.find(b"\n---", 0) != -1 or data.find(b"\n...", 0) != -1:
            return None  # not a List, or several documents
        start = found.end()
        if data[start : start + 2] != b"- ":
            return None  # an empty or flow-style items list
        ended = _TOP_LEVEL_END.search(data, start)
        end = ended.start() + 1 if ended else len(data)
        rest = data[: found.start()] + b"\n" + data[end:]
        count = workers()
        cuts = [start]
        for index in range(1, count):
            at = data.find(_ITEM_START, start + (end - start) * index // count, end)
            if at != -1 and at + 1 > cuts[-1]:
                cuts.append(at + 1)
        cuts.append(end)
    return rest, [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def read_parts(path: Path, rest: bytes, chunks: list[tuple[int, int]]) -> list[Part]:
    """Decode the chunks in worker processes (spawned: the caller may run threads); in file order."""
    head = next((d for d in iter_yaml(rest) if isinstance(d, dict)), {})
    item_kind = str(head.get("kind") or "")
    item_kind = item_kind.removesuffix("List") if item_kind.endswith("List") and item_kind != "List" else ""
    api_version = str(head.get("apiVersion") or "")
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        futures = [pool.submit(decode_chunk, str(path), a, b, item_kind, api_version) for a, b in chunks]
        return [future.result() for future in futures]


def decode_chunk(path: str, start: int, end: int, item_kind: str, api_version: str) -> Part:
    """One chunk of items (a YAML block sequence) into a lean Snapshot part."""
    from cluster.completeness import is_manifest
    from cluster.dump import expand_list

    with open(path, "rb") as handle:
        handle.seek(start)
        chunk = handle.read(end - start)
    builder = SnapshotBuilder()
    part = Part(builder.snapshot)
    for document in iter_yaml(chunk, stream_sequences=True):
        if not isinstance(document, dict):
            continue
        if item_kind and not document.get("kind"):
            document["kind"] = item_kind
            document.setdefault("apiVersion", api_version)
        for obj in expand_list(document):
            part.objects += 1
            if is_manifest(obj):
                part.manifests.append(obj)
                continue
            before = len(builder.snapshot.notes)
            if builder.add(obj) or len(builder.snapshot.notes) > before:
                part.present.add(str(obj.get("kind")))
    return part


FALLBACK_ERRORS: tuple[type[BaseException], ...] = (yaml.YAMLError, UnicodeDecodeError, OSError, RuntimeError)
"""Failures of the parallel path (RuntimeError covers a broken process pool): the file is then read
sequentially, which reports a real problem with its line and column."""
