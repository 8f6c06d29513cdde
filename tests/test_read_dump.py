"""Reading offline dumps: every input format, the real Istio test data, and bad input as clear errors."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.analysis import analyze
from cluster.dump import iter_objects, read_dump
from cluster.errors import ClusterError
from cluster.snapshot import Snapshot

FIXTURE = Path(__file__).with_name("fixtures") / "small-cluster.yaml"

ISTIO_SHAPES = Path(__file__).with_name("fixtures") / "istio"
ISTIO_FILES = sorted(ISTIO_SHAPES.glob("*.yaml"))


def normalised(snapshot: Snapshot) -> dict[str, Any]:
    """Order-free, source-free form of a Snapshot, for comparing two reads of the same cluster."""
    data = dataclasses.asdict(snapshot)
    data.pop("source")
    data.pop("cluster")  # named after the dump's file
    for key in ("namespaces", "pods", "nodes", "services", "workloads", "issues"):
        data[key] = sorted(data[key], key=repr)
    data["resources"] = {k: sorted(v, key=repr) for k, v in data["resources"].items() if v}
    data["missing_kinds"] = sorted(data["missing_kinds"])
    return data


def fixture_objects() -> list[dict[str, Any]]:
    return list(iter_objects(FIXTURE))


def test_fixture_yaml_list_and_multi_document() -> None:
    snap = read_dump(FIXTURE)
    assert sorted(ns.name for ns in snap.namespaces) == ["istio-system", "legacy", "orders", "payments"]
    assert len(snap.pods) == 6 and len(snap.nodes) == 2 and len(snap.services) == 2
    assert {(w.kind, w.meta.name) for w in snap.workloads} == {("Deployment", "istiod"), ("DaemonSet", "ztunnel")}
    istiod = next(w for w in snap.workloads if w.meta.name == "istiod")
    assert istiod.containers[0].image == "docker.io/istio/pilot:1.24.2"
    assert [r.meta.name for r in snap.of_kind("PeerAuthentication")] == ["default"]
    assert snap.of_kind("EnvoyFilter")[0].spec["configPatches"][0]["patch"]["value"]["name"] == "envoy.filters.http.lua"
    checkout = next(p for p in snap.pods if p.meta.name.startswith("checkout"))
    assert [c.name for c in checkout.containers] == ["checkout", "istio-proxy"]
    assert "sidecar.istio.io/status" in checkout.meta.annotations
    assert snap.source == f"dump:{FIXTURE}"
    # No manifest: the reader records what the dump held; the analysis decides what the absent kinds mean.
    assert snap.exported_kinds is not None and "PeerAuthentication" in snap.exported_kinds
    assert "AuthorizationPolicy" not in snap.exported_kinds and snap.cluster == "small-cluster"
    # Some Istio configuration is in the dump: the absent kinds are taken as empty, listed as a note only.
    analyze(snap)
    assert "AuthorizationPolicy" in snap.missing_kinds and "PeerAuthentication" not in snap.missing_kinds
    assert snap.issues == [] and snap.complete


def test_json_list_reads_like_yaml(tmp_path: Path) -> None:
    dump = tmp_path / "cluster.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": fixture_objects()}), encoding="utf-8")
    assert normalised(read_dump(dump)) == normalised(read_dump(FIXTURE))


def test_json_without_suffix_and_bare_array(tmp_path: Path) -> None:
    dump = tmp_path / "cluster.txt"
    dump.write_text(json.dumps(fixture_objects()), encoding="utf-8")
    assert normalised(read_dump(dump)) == normalised(read_dump(FIXTURE))


def test_typed_api_list_items_get_their_kind(tmp_path: Path) -> None:
    """A raw API response (PodList) has items without kind/apiVersion."""
    pods = [
        {k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in fixture_objects() if o["kind"] == "Pod"
    ]
    dump = tmp_path / "pods.json"
    dump.write_text(
        json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": pods}), encoding="utf-8"
    )
    assert sorted(p.meta.name for p in read_dump(dump).pods) == sorted(p["metadata"]["name"] for p in pods)


def test_multi_document_with_empty_and_null_documents(tmp_path: Path) -> None:
    dump = tmp_path / "multi.yaml"
    docs = "\n---\n".join(yaml.safe_dump(o) for o in fixture_objects())
    dump.write_text("---\n# only a comment\n---\nnull\n---\n" + docs + "\n---\n---\n", encoding="utf-8")
    assert normalised(read_dump(dump)) == normalised(read_dump(FIXTURE))


def test_folder_recursive_sorted_skipping_other_files(tmp_path: Path) -> None:
    objects = fixture_objects()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").mkdir()
    (tmp_path / "a" / "first.yml").write_text(yaml.safe_dump_all(objects[:5]), encoding="utf-8")
    (tmp_path / "a" / "b" / "second.json").write_text(json.dumps({"kind": "List", "items": objects[5:9]}))
    (tmp_path / "third.yaml").write_text(yaml.safe_dump_all(objects[9:]), encoding="utf-8")
    (tmp_path / "README.md").write_text("# not a manifest: ignored by suffix\n", encoding="utf-8")
    (tmp_path / "values.yaml").write_text("replicas: 3\nimage: {tag: x}\n", encoding="utf-8")  # no kind: skipped
    assert normalised(read_dump(tmp_path)) == normalised(read_dump(FIXTURE))


def test_unanalysed_kinds_are_skipped_and_gateway_groups_told_apart(tmp_path: Path) -> None:
    dump = tmp_path / "gateways.yaml"
    dump.write_text(
        yaml.safe_dump_all(
            [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}},
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "x"}},
                {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "istio-gw"}},
                {
                    "apiVersion": "gateway.networking.k8s.io/v1",
                    "kind": "Gateway",
                    "metadata": {"name": "waypoint", "namespace": "x"},
                    "spec": {"gatewayClassName": "istio-waypoint"},
                },
            ]
        ),
        encoding="utf-8",
    )
    snap = read_dump(dump)
    assert [(r.group, r.meta.name) for r in snap.of_kind("Gateway")] == [("gateway.networking.k8s.io", "waypoint")]
    assert sum(len(v) for v in snap.resources.values()) == 1


@pytest.mark.parametrize("path", ISTIO_FILES, ids=[p.name for p in ISTIO_FILES])
def test_every_istio_shaped_file_loads(path: Path) -> None:
    snap = read_dump(path)
    read = len(snap.namespaces) + len(snap.pods) + len(snap.services) + sum(len(v) for v in snap.resources.values())
    assert read > 0


def test_istio_shapes_folder_loads() -> None:
    assert len(ISTIO_FILES) >= 3
    snap = read_dump(ISTIO_SHAPES)
    assert len(snap.of_kind("AuthorizationPolicy")) == 1 and len(snap.of_kind("VirtualService")) == 1
    assert {ns.name for ns in snap.namespaces} >= {"shop", "mesh-ambient", "edge", "books"}
    # Minimal manifests: no uid, no status.
    assert all(p.phase == "" for p in snap.pods)


# ---- bad input: a clear error naming the file, in English and Korean -------------------------------------


def _error(path: Path) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        read_dump(path)
    return caught.value


def test_missing_path(tmp_path: Path) -> None:
    error = _error(tmp_path / "nope.yaml")
    assert "nope.yaml" in error.en and "does not exist" in error.en
    assert "nope.yaml" in error.ko and "없습니다" in error.ko


def test_binary_file(tmp_path: Path) -> None:
    dump = tmp_path / "dump.yaml.gz"
    dump.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    error = _error(dump)
    assert "dump.yaml.gz" in error.en and "not a text file" in error.en
    assert "텍스트 파일이 아닙니다" in error.explain("ko")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    dump = tmp_path / "broken.yaml"
    dump.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n  namespace: x\n", encoding="utf-8")
    error = _error(dump)
    assert "broken.yaml" in error.en and "line 5" in error.en and "not valid YAML" in error.en


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    dump = tmp_path / "broken.json"
    dump.write_text('{"kind": "List",\n "items": [\n  {"kind": "Pod",}\n]}', encoding="utf-8")
    error = _error(dump)
    assert "broken.json" in error.en and "line 3" in error.en


def test_empty_file_and_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert "no Kubernetes objects" in _error(empty).en
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    error = _error(folder)
    assert "nothing" in error.en and ".yaml" in error.en and "폴더" in error.ko


def test_plain_text_is_not_a_manifest(tmp_path: Path) -> None:
    dump = tmp_path / "notes.yaml"
    dump.write_text("just some words, not a manifest\n", encoding="utf-8")
    error = _error(dump)
    assert "notes.yaml" in error.en and "document 1 is not a Kubernetes object" in error.en


def test_json_list_streams_with_keys_in_any_order(tmp_path: Path) -> None:
    """kubectl sorts keys (items before kind); API lists put kind first. Both, pretty or compact, read alike."""
    pods = [o for o in fixture_objects() if o["kind"] == "Pod"]
    bare = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in pods]
    names = sorted(p["metadata"]["name"] for p in pods)
    for index, (document, indent) in enumerate(
        [
            ({"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {"resourceVersion": ""}}, 4),
            ({"apiVersion": "v1", "items": bare, "kind": "PodList", "metadata": {}}, None),
            ({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": bare}, 2),
        ]
    ):
        dump = tmp_path / f"list-{index}.json"
        dump.write_text(json.dumps(document, indent=indent), encoding="utf-8")
        assert sorted(p.meta.name for p in read_dump(dump).pods) == names


def test_single_json_object(tmp_path: Path) -> None:
    dump = tmp_path / "pod.json"
    pod = next(o for o in fixture_objects() if o["kind"] == "Pod")
    dump.write_text(json.dumps(pod), encoding="utf-8")
    assert [p.meta.name for p in read_dump(dump).pods] == [pod["metadata"]["name"]]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('{"kind": "List", "items": [{"kind": "Namespace", "metadata": {"name": "a"}}\n {"kind": "Pod"}]}', 2),
        ('{"kind": "List", "items": []}\n{"kind": "List"}', 2),
        ('{"kind": "List",\n\n "items": [1, 2,]}', 3),
    ],
)
def test_broken_json_list_stream(tmp_path: Path, content: str, line: int) -> None:
    dump = tmp_path / "broken.json"
    dump.write_text(content, encoding="utf-8")
    error = _error(dump)
    assert "broken.json" in error.en and f"line {line}" in error.en
