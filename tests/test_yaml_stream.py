"""The streaming YAML decoder (libyaml's parser events) means what PyYAML's safe loader means, document by
document, and yields a List's items one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cluster._yaml_stream import iter_yaml
from cluster.errors import ClusterError

FIXTURE = Path(__file__).with_name("fixtures") / "small-cluster.yaml"
ISTIO_SHAPES = Path(__file__).with_name("fixtures") / "istio"
SAMPLES = [
    # YAML 1.1 scalars as the safe loader reads them: booleans, octal, underscores, floats, nulls, dates
    "a: yes\nb: 0o17\nc: 017\nd: 1_000\ne: 1.5e3\nf: ~\ng: !!str 12\nh: 2001-12-14\ni: .inf\nj: '12'\nk: 0x1F\n",
    # anchors, aliases and merge keys; binary; empty keys; numeric keys
    "base: &b {p: 1, q: [1, 2]}\nuse: *b\nmerged: {<<: *b, q: 3}\nmany: {<<: [*b, {r: 4}]}\nbin: !!binary aGk=\n"
    "'': empty\n1: one\n",
    # several documents, empty ones, a bare list, a scalar document
    "---\n# only a comment\n---\n- 1\n- [a, b]\n---\nfoo\n---\nnull\n",
    # block scalars and quoting
    'text: |\n  line one\n  line two\nfolded: >\n  a\n  b\nq: "x\\ty"\nlabels: {"app.kubernetes.io/name": web}\n',
]


@pytest.mark.parametrize("text", SAMPLES)
def test_means_what_the_safe_loader_means(text: str) -> None:
    assert list(iter_yaml(text)) == list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def test_a_list_streams_its_items_then_the_rest() -> None:
    objects = [doc for doc in yaml.safe_load_all(FIXTURE.read_text(encoding="utf-8")) if doc and "items" not in doc]
    text = yaml.safe_dump({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}})
    streamed = list(iter_yaml(text.encode()))
    assert objects and streamed[:-1] == objects  # every item has a kind: yielded as soon as it is built
    assert streamed[-1] == {"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}


def test_items_without_kind_stay_in_their_list() -> None:
    text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n- kind: Pod\n  metadata: {name: b}\n"
    assert list(iter_yaml(text)) == [
        {"kind": "Pod", "metadata": {"name": "b"}},
        {"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "a"}}]},
    ]


@pytest.mark.parametrize("path", sorted(ISTIO_SHAPES.glob("*.yaml")), ids=lambda p: p.name)
def test_istio_testdata_means_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert list(iter_yaml(text)) == list(yaml.safe_load_all(text))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: !Ref x\n", "could not determine a constructor"),
        ("a: [\n", "while parsing a flow node"),
        ("? [a]\n: 1\n", "found unhashable key"),
        ("a: *nope\n", "found undefined alias"),
        ("a: {<<: 3}\n", "expected a mapping for merging"),
    ],
)
def test_malformed_yaml_is_a_yaml_error(text: str, problem: str) -> None:
    with pytest.raises(yaml.YAMLError, match=problem):
        list(iter_yaml(text))


def test_a_large_list_decoded_in_several_processes_reads_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from benchmarks.synth_cluster import synth_objects
    from cluster import _yaml_parallel
    from cluster import dump as dump_module
    from cluster.dump import read_dump

    objects = list(synth_objects(namespaces=6, pods=120, nodes=2))
    dump = tmp_path / "big.yaml"
    body = yaml.safe_dump({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}})
    dump.write_text(body, encoding="utf-8")
    sequential = read_dump(dump)
    monkeypatch.setattr(_yaml_parallel, "MIN_BYTES", 1)
    monkeypatch.setattr(_yaml_parallel, "workers", lambda: 3)
    planned = _yaml_parallel.plan(dump)
    assert planned is not None and len(planned[1]) == 3  # cut at items, in three chunks
    parts = _yaml_parallel.read_parts(dump, *planned)
    assert sum(p.objects for p in parts) == len(objects)
    monkeypatch.setattr(dump_module, "FALLBACK_ERRORS", ())  # a failing parallel read would raise here
    parallel = read_dump(dump)
    monkeypatch.undo()
    monkeypatch.setattr(_yaml_parallel, "MIN_BYTES", 1)
    assert dataclasses.asdict(parallel) == dataclasses.asdict(sequential) and len(parallel.pods) == 120
    # Several documents cannot be cut safely: read sequentially, the same.
    multi = tmp_path / "multi.yaml"
    multi.write_text(body + "---\n" + yaml.safe_dump(objects[0]), encoding="utf-8")
    assert _yaml_parallel.plan(multi) is None
    # A broken chunk falls back to the sequential reader, which names the line.
    broken = tmp_path / "broken.yaml"
    broken.write_text(body.replace("  kind: Pod\n", "  kind: [Pod\n", 1), encoding="utf-8")
    with pytest.raises(ClusterError, match=r"line \d+, column \d+"):
        read_dump(broken)
