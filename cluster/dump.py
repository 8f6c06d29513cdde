"""Reading an offline dump (`kubectl get … -A -o yaml|json`, multi-document YAML, or a folder) into a Snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from cluster._json_stream import iter_json
from cluster._texts import cluster_error
from cluster.errors import ClusterError
from cluster.snapshot import Snapshot, SnapshotBuilder

# libyaml's loader parses large dumps several times faster than the pure-Python one.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DUMP_SUFFIXES = (".yaml", ".yml", ".json")


def read_dump(path: Path | str) -> Snapshot:
    """Read a dump file or folder; objects of kinds meshbot does not analyse are skipped.

    Istio kinds with no object in the dump are "none present", never "missing": only the live
    reader can tell that a CRD is not installed.
    """
    root = Path(path)
    builder = SnapshotBuilder(source=f"dump:{root}")
    for obj in iter_objects(root):
        builder.add(obj)
    return builder.build()


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
    root = Path(root)
    found = 0
    for file in dump_files(root):
        for index, document in enumerate(_documents(file), start=1):
            for obj in _objects_of(document, file, index):
                found += 1
                yield obj
    if found == 0:
        raise cluster_error("dump-no-objects", path=root)


def expand_list(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The items of a `v1 List` or a typed list (PodList, …), else the object itself.

    API list responses omit `kind`/`apiVersion` on their items: they are restored from the list.
    """
    kind = obj.get("kind")
    items = obj.get("items")
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
        yield from expand_list(item)


def _objects_of(document: Any, file: Path, index: int) -> Iterator[dict[str, Any]]:
    if document is None:  # an empty YAML document (`---` twice, or comments only)
        return
    if isinstance(document, list):  # a bare JSON/YAML array of objects
        for entry in document:
            yield from _objects_of(entry, file, index)
        return
    if not isinstance(document, dict):
        raise cluster_error("dump-not-manifest", path=file, index=index, found=type(document).__name__)
    # Mappings without a kind (a Helm values file in the same folder, say) are not objects: skipped.
    if isinstance(document.get("kind"), str):
        yield from expand_list(document)


def _documents(file: Path) -> Iterator[Any]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise cluster_error("dump-unreadable", path=file, reason=exc.strerror or exc) from exc
    if b"\x00" in raw[:8192]:
        raise cluster_error("dump-not-text", path=file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise cluster_error("dump-not-text", path=file) from exc
    del raw
    if text.lstrip()[:1] in ("{", "["):
        yielded = False
        try:
            for document in iter_json(text):
                yielded = True
                yield document
            return
        except json.JSONDecodeError as exc:
            if yielded or file.suffix.lower() == ".json":
                raise cluster_error(
                    "dump-bad-yaml", path=file, where=f" (line {exc.lineno}, column {exc.colno})", problem=exc.msg
                ) from exc
            # Not JSON after all: flow-style YAML also starts with a brace.
    yield from _yaml_documents(text, file)


def _yaml_documents(text: str, file: Path) -> Iterator[Any]:
    try:
        yield from yaml.load_all(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file) from exc


def _yaml_error(exc: yaml.YAMLError, file: Path) -> ClusterError:
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return cluster_error("dump-bad-yaml", path=file, where=where, problem=problem)
