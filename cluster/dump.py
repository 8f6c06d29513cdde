"""Reading an offline dump (`kubectl get … -A -o yaml|json`, multi-document YAML, a folder, or stdin) into a Snapshot.

Objects are streamed one at a time into the SnapshotBuilder (JSON by `cluster._json_stream`, YAML by libyaml's
parser through `cluster._yaml_stream`), so a List of 20k pods is never held whole as Python objects.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from cluster._json_stream import iter_json
from cluster._texts import cluster_error, text
from cluster._yaml_parallel import FALLBACK_ERRORS, Part, plan, read_parts
from cluster._yaml_stream import Readable, iter_yaml
from cluster.completeness import Manifest, apply_manifest, is_manifest
from cluster.errors import ClusterError
from cluster.shapes import json_type
from cluster.snapshot import ReadNote, Snapshot, SnapshotBuilder

DUMP_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"
HEAD_BYTES = 8192
PROGRESS_EVERY = 2.0  # seconds between progress lines

Progress = Callable[[str], None]
"""Receives a one-line progress text (the CLI shows it on stderr when that is a terminal)."""
Skipped = Callable[[str, str, str], None]
"""Told of a List skipped whole: (kind, where, the type its items had)."""


def read_dump(
    path: Path | str, *, progress: Progress | None = None, language: str = "en", stdin: IO[bytes] | None = None
) -> Snapshot:
    """Read a dump file, folder, or `-` (stdin); objects of kinds meshbot does not analyse are skipped, and so
    are objects with a field of the wrong type (with a note).

    With a `meshbot collect` manifest the reading knows what was read; without one, DESIGN's rules for
    kubectl dumps decide which absent kinds make it incomplete (cluster.completeness).
    """
    root = Path(path) if str(path) != STDIN else None
    label = str(root) if root is not None else "stdin"
    builder = SnapshotBuilder(source=f"dump:{label}")
    builder.snapshot.cluster = _cluster_name(root)
    manifest: Manifest | None = None
    present: set[str] = set()
    ticker = _Ticker(progress, label, language)
    for obj, file in _objects(root, stdin, builder, ticker):
        if isinstance(obj, Part):  # a chunk of a large YAML List, decoded in another process
            builder.absorb(obj.snapshot)
            present |= obj.present
            for found in obj.manifests:
                manifest = Manifest.from_object(found, str(file))
            ticker.objects += obj.objects
            continue
        if is_manifest(obj):
            manifest = Manifest.from_object(obj, str(file))
            continue
        kind = obj.get("kind")
        if builder.add(obj) or any(n.kind == kind for n in builder.snapshot.notes[-1:]):
            present.add(str(kind))
        ticker.tick()
    snapshot = builder.build()
    if manifest is not None:
        apply_manifest(snapshot, manifest)
    else:
        snapshot.exported_kinds = frozenset(present)  # the analysis decides what their absence means
    return snapshot


def _cluster_name(root: Path | None) -> str:
    """A dump without a manifest is named after its file or folder (a manifest names its cluster)."""
    if root is None:
        return "stdin"
    name = root.resolve().name
    for suffix in DUMP_SUFFIXES:
        name = name.removesuffix(suffix)
    return name or str(root)


class _Ticker:
    """Progress lines at most every PROGRESS_EVERY seconds, with the share of bytes read when known."""

    def __init__(self, progress: Progress | None, label: str, language: str) -> None:
        self.progress, self.label, self.language = progress, label, language
        self.objects = 0
        self.next_at = time.monotonic() + PROGRESS_EVERY
        self.position: Callable[[], tuple[int, int]] | None = None

    def tick(self) -> None:
        self.objects += 1
        if self.progress is None or self.objects % 256 or time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + PROGRESS_EVERY
        share = ""
        if self.position is not None:
            done, total = self.position()
            share = f" ({min(99, 100 * done // max(total, 1))}%)" if total else ""
        self.progress(text("progress-dump", self.language, path=self.label, objects=self.objects, share=share))


def _objects(
    root: Path | None, stdin: IO[bytes] | None, builder: SnapshotBuilder, ticker: _Ticker
) -> Iterator[tuple[dict[str, Any] | Part, Path | str]]:
    def skipped(kind: str, where: str, found: str) -> None:
        builder.snapshot.notes.append(ReadNote(kind, "", where, "items", "list", found))

    if root is None:
        source = stdin if stdin is not None else sys.stdin.buffer
        for obj in _objects_of_stream(source, "stdin", skipped, ticker):
            yield obj, "stdin"
        return
    yield from _iter_objects(root, skipped, ticker, parallel=True)


def dump_files(root: Path) -> list[Path]:
    """The files a dump path stands for: itself, or a folder's YAML/JSON files, sorted, recursively."""
    if not root.exists():
        raise cluster_error("dump-not-found", path=root)
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in DUMP_SUFFIXES)
    if not files:
        raise cluster_error("dump-empty-folder", path=root)
    return files


def iter_objects(root: Path | str) -> Iterator[dict[str, Any]]:
    """Every Kubernetes object of a dump, Lists flattened; raises ClusterError for unreadable input."""
    for obj, _ in _iter_objects(Path(root), None, None):
        if isinstance(obj, dict):
            yield obj


def _iter_objects(
    root: Path, skipped: Skipped | None, ticker: _Ticker | None, *, parallel: bool = False
) -> Iterator[tuple[dict[str, Any] | Part, Path]]:
    """The objects of every file; with `parallel`, a large YAML List comes as Snapshot parts instead."""
    found = 0
    for file in dump_files(root):
        parts = _parallel_parts(file) if parallel and file.suffix.lower() in (".yaml", ".yml") else None
        if parts is not None:
            for part in parts:
                found += part.objects
                yield part, file
            continue
        with _open(file) as stream:
            if ticker is not None:
                size = file.stat().st_size
                ticker.position = lambda stream=stream, size=size: (stream.tell(), size)
            for obj in _objects_of_stream(stream, file, skipped, ticker):
                found += 1
                yield obj, file
    if found == 0:
        raise cluster_error("dump-no-objects", path=root)


def _parallel_parts(file: Path) -> list[Part] | None:
    """A large block-style YAML List decoded by several processes; None to read it sequentially."""
    try:
        planned = plan(file)
        return read_parts(file, *planned) if planned is not None else None
    except FALLBACK_ERRORS:
        return None  # the sequential reader says what is wrong, with its line and column


def _open(file: Path) -> IO[bytes]:
    try:
        return file.open("rb")
    except OSError as exc:
        raise cluster_error("dump-unreadable", path=file, reason=exc.strerror or exc) from exc


def _objects_of_stream(
    stream: IO[bytes], where: Path | str, skipped: Skipped | None, ticker: _Ticker | None
) -> Iterator[dict[str, Any]]:
    found = 0
    for index, document in enumerate(_documents(stream, where), start=1):
        for obj in _objects_of(document, where, index, skipped):
            found += 1
            yield obj
    if found == 0 and where == "stdin":
        raise cluster_error("dump-no-objects", path=where)


def expand_list(obj: dict[str, Any], skipped: Skipped | None = None, where: str = "") -> Iterator[dict[str, Any]]:
    """The items of a `v1 List` or a typed list (PodList, …), else the object itself.

    API list responses omit `kind`/`apiVersion` on their items: they are restored from the list.
    """
    kind = obj.get("kind")
    items = obj.get("items")
    if isinstance(kind, str) and kind.endswith("List") and "items" in obj and not isinstance(items, list | None):
        if skipped is not None:
            skipped(kind, where, json_type(items))
        return
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        yield obj
        return
    item_kind = kind[: -len("List")] if kind != "List" else None
    for item in items:
        if not isinstance(item, dict):
            continue
        if item_kind and not item.get("kind"):
            item["kind"] = item_kind
            item.setdefault("apiVersion", obj.get("apiVersion"))
        yield from expand_list(item, skipped, where)


def _objects_of(document: Any, file: Path | str, index: int, skipped: Skipped | None) -> Iterator[dict[str, Any]]:
    if document is None:  # an empty YAML document (`---` twice, or comments only)
        return
    if isinstance(document, list):  # a bare JSON/YAML array of objects
        for entry in document:
            yield from _objects_of(entry, file, index, skipped)
        return
    if not isinstance(document, dict):
        raise cluster_error("dump-not-manifest", path=file, index=index, found=type(document).__name__)
    # Mappings without a kind (a Helm values file in the same folder, say) are not objects: skipped.
    if isinstance(document.get("kind"), str):
        yield from expand_list(document, skipped, str(file))


def _documents(stream: IO[bytes], where: Path | str) -> Iterator[Any]:
    """JSON is decoded from the whole text (streamed by items); YAML is parsed from the stream as it is read."""
    try:
        head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise cluster_error("dump-unreadable", path=where, reason=exc.strerror or exc) from exc
    if b"\x00" in head:
        raise cluster_error("dump-not-text", path=where)
    if head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):
        raw = head + stream.read()
        try:
            text_ = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise cluster_error("dump-not-text", path=where) from exc
        del raw
        yielded = False
        try:
            for document in iter_json(text_):
                yielded = True
                yield document
            return
        except json.JSONDecodeError as exc:
            if yielded or str(where).lower().endswith(".json"):
                raise cluster_error(
                    "dump-bad-yaml", path=where, where=f" (line {exc.lineno}, column {exc.colno})", problem=exc.msg
                ) from exc
        # Not JSON after all: flow-style YAML also starts with a brace.
        yield from _yaml_documents(io.BytesIO(text_.encode()), where)
        return
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut by the head's end
            raise cluster_error("dump-not-text", path=where) from exc
    yield from _yaml_documents(_Prefixed(head, stream), where)


class _Prefixed(io.RawIOBase):
    """The bytes already read (the head), then the rest of the stream: stdin cannot be read twice."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest, self.offset = head, rest, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = (
                (self.head, b"")
                if size < 0 or size >= len(self.head)
                else (
                    self.head[:size],
                    self.head[size:],
                )
            )
        else:
            chunk = self.rest.read(size)
        self.offset += len(chunk)
        return chunk

    def tell(self) -> int:
        return self.offset


def _yaml_documents(stream: Readable, where: Path | str) -> Iterator[Any]:
    try:
        yield from iter_yaml(stream)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where) from exc


def _yaml_error(exc: yaml.YAMLError, file: Path | str) -> ClusterError:
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return cluster_error("dump-bad-yaml", path=file, where=where, problem=problem)
