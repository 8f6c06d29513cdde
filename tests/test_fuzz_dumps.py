"""Any input: dumps whose objects have fields of the wrong type never end in a traceback.

A property-based test (hypothesis) mutates the demo cluster — for every kind meshbot reads, any field at any
depth replaced by a value of another type (`spec: "oops"`, `metadata: 42`, a list where a map belongs, …) —
writes it as YAML or JSON, reads it with the real reader and runs every analysis command on it. No exception
may escape, and no object of a kind meshbot reads disappears silently: each is either in the reading or named
by a note (kind, namespace, name, field).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handlers
from bot.render_text import render_json, render_text
from cluster.demo import DEMO_PATH
from cluster.dump import iter_objects, read_dump
from cluster.kinds import KINDS
from cluster.snapshot import Snapshot
from handlers import Context
from knowledge import default as default_knowledge

EXTRA: list[dict[str, Any]] = [
    {
        "apiVersion": "extensions.istio.io/v1alpha1",
        "kind": "WasmPlugin",
        "metadata": {"name": "auth-wasm", "namespace": "payments"},
        "spec": {"selector": {"matchLabels": {"app": "payments-api"}}, "url": "oci://example/auth:1", "phase": "AUTHN"},
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "split", "namespace": "orders"},
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": "orders", "port": 8080}],
            "rules": [{"backendRefs": [{"name": "orders-v1", "port": 8080, "weight": 90}]}],
        },
    },
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GRPCRoute",
        "metadata": {"name": "grpc", "namespace": "orders"},
        "spec": {"parentRefs": [{"kind": "Service", "name": "orders"}], "rules": [{"matches": [{"method": {}}]}]},
    },
]


def base_objects() -> list[dict[str, Any]]:
    """The demo cluster plus one object of every kind meshbot reads that the demo lacks."""
    objects = [*iter_objects(DEMO_PATH), *copy.deepcopy(EXTRA)]
    present = {o["kind"] for o in objects}
    for kind in KINDS:  # kinds added later still get fuzzed
        if kind.kind not in present:
            api_version = f"{kind.group}/{kind.versions[0]}" if kind.group else kind.versions[0]
            metadata = {"name": f"fuzz-{kind.plural}", "namespace": "payments"}
            objects.append({"apiVersion": api_version, "kind": kind.kind, "metadata": metadata, "spec": {}})
    return objects


BASE = base_objects()
KNOWN = {(k.group, k.kind) for k in KINDS}
WRONG_VALUES = st.one_of(
    st.just("oops"),
    st.integers(min_value=-5, max_value=100_000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.one_of(st.integers(), st.text(max_size=4)), max_size=2),
)


def group_of(obj: dict[str, Any]) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@st.composite
def mutation(draw: st.DrawFn, objects: list[dict[str, Any]]) -> tuple[int, list[Any]]:
    """(object index, path) of a field to replace: any key or index, at any depth."""
    index = draw(st.integers(min_value=0, max_value=len(objects) - 1))
    node: Any = objects[index]
    path: list[Any] = []
    while True:
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node, key=str)))
        elif isinstance(node, list) and node:
            key = draw(st.integers(min_value=0, max_value=len(node) - 1))
        else:
            break
        if path and key in ("kind", "apiVersion") and len(path) == 0:
            break
        path.append(key)
        node = node[key]
        if not draw(st.booleans()):  # stop here, or go deeper
            break
    return index, path


def mutate(objects: list[dict[str, Any]], index: int, path: list[Any], value: Any) -> None:
    if not path or path[0] in ("kind", "apiVersion"):
        path = ["spec"]  # the kind itself is what the object is: the field under test is the rest of it
    node: Any = objects[index]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    md = obj.get("metadata")
    md = md if isinstance(md, dict) else {}
    name, namespace = md.get("name"), md.get("namespace")
    kind = str(obj.get("kind"))
    if kind in ("Namespace", "Node"):  # cluster-scoped: kept without a namespace
        namespace = None
    return kind, scalar_text(namespace), scalar_text(name)


def scalar_text(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float | bool) else ""


def kept(snapshot: Snapshot) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every object the reading kept."""
    found = {("Namespace", "", m.name) for m in snapshot.namespaces}
    found |= {("Pod", p.meta.namespace, p.meta.name) for p in snapshot.pods}
    found |= {("Node", "", n.name) for n in snapshot.nodes}
    found |= {("Service", s.meta.namespace, s.meta.name) for s in snapshot.services}
    found |= {(w.kind, w.meta.namespace, w.meta.name) for w in snapshot.workloads}
    found |= {(r.kind, r.meta.namespace, r.meta.name) for rs in snapshot.resources.values() for r in rs}
    return found


def run_every_command(snapshot: Snapshot) -> None:
    for language in ("en", "ko"):
        ctx = Context(kb=default_knowledge(), read_cluster=lambda: snapshot, language=language)
        candidates = [m.name for m in snapshot.namespaces if m.name.startswith(("pay", "ord", "cat"))][:2]
        commands: list[list[str]] = [
            ["status"],
            ["mtls"],
            ["precheck", "--fail-on", "needs-waypoint"],
            ["savings"],
            *(["plan", name] for name in candidates),
            *([command, name] for name in candidates for command in ("status", "precheck", "mtls")),
            ["ask", "is payments ready for ambient?"],
        ]
        for argv in commands:
            reply = handlers.run_text(argv[0], argv[1:], ctx)
            render_text(reply)
            json.loads(render_json(reply))


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.data(),
    count=st.integers(min_value=1, max_value=3),
    as_json=st.booleans(),
)
@pytest.mark.slow
def test_mutated_dumps_never_crash_and_no_object_vanishes(
    data: st.DataObject, count: int, as_json: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    objects = copy.deepcopy(BASE)
    mutated: set[int] = set()
    for _ in range(count):
        index, path = data.draw(mutation(objects))
        mutate(objects, index, path, data.draw(WRONG_VALUES))
        mutated.add(index)
    folder = tmp_path_factory.mktemp("fuzz")
    dump = folder / ("dump.json" if as_json else "dump.yaml")
    if as_json:
        dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
    else:
        dump.write_text(yaml.safe_dump_all(objects), encoding="utf-8")

    snapshot = read_dump(dump)
    run_every_command(snapshot)

    present = kept(snapshot)
    noted = {(n.kind, "" if n.kind in ("Namespace", "Node") else n.namespace, n.name) for n in snapshot.notes}
    for index in mutated:
        obj = objects[index]
        if (group_of(obj), obj.get("kind")) not in KNOWN:
            continue
        who = identity(obj)
        assert who in present or who in noted, f"{who} vanished without a note: {snapshot.notes}"
    for note in snapshot.notes:  # every note names its object and the field
        assert note.kind and note.field and note.expected and note.found


@pytest.mark.parametrize(
    ("kind", "field", "value", "expected", "found"),
    [
        ("Pod", "spec", "oops", "map", "string"),
        ("Pod", "metadata", 42, "map", "number"),
        ("Deployment", "spec", ["a"], "map", "list"),
        ("PeerAuthentication", "spec", {"selector": ["app"]}, "map", "list"),
        ("AuthorizationPolicy", "spec", {"rules": {"to": []}}, "list", "map"),
        ("Service", "spec", {"selector": {"app": {"nested": 1}}}, "scalar", "map"),
        ("Namespace", "metadata", {"name": "x", "labels": ["istio-injection=enabled"]}, "map", "list"),
    ],
)
def test_wrong_types_are_skipped_with_a_note(
    kind: str, field: str, value: Any, expected: str, found: str, tmp_path: Path
) -> None:
    objects = copy.deepcopy(BASE)
    target = next(o for o in objects if o["kind"] == kind)
    name = (
        target["metadata"]["name"]
        if field != "metadata"
        else (value.get("name", "") if isinstance(value, dict) else "")
    )
    namespace = target["metadata"].get("namespace", "") if field != "metadata" else ""
    target[field] = value
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
    snapshot = read_dump(dump)
    [note] = [n for n in snapshot.notes if n.kind == kind]
    assert (note.namespace, note.name, note.expected, note.found) == (namespace, name, expected, found)
    assert note.field.startswith(field)
    assert (kind, namespace, name) not in kept(snapshot)
    run_every_command(snapshot)
    ctx = Context(kb=default_knowledge(), read_cluster=lambda: snapshot)
    reply = handlers.run_text("status", [], ctx)
    assert reply.data["skipped"][0]["kind"] == kind and reply.data["skipped"][0]["field"] == note.field
    shown = " ".join(render_text(reply).split())  # the terminal wraps long lines
    assert f"Skipped 1 object(s) with a field of the wrong type: {note.resource}" in shown


def test_a_list_whose_items_is_not_a_list_is_noted(tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps([{"apiVersion": "v1", "kind": "PodList", "items": "oops"}, *BASE]), encoding="utf-8")
    snapshot = read_dump(dump)
    assert [(n.kind, n.field, n.expected, n.found) for n in snapshot.notes] == [("PodList", "items", "list", "string")]
