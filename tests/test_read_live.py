"""The live reader over real HTTP against the kube-apiserver double: parity with the dump reader,
pagination, one list per kind, and every fault answered clearly."""

from __future__ import annotations

import math
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from kube_double import KubeDouble
from test_read_dump import normalised

from cluster.dump import read_dump
from cluster.errors import ClusterError
from cluster.kinds import KINDS
from cluster.live import read_live
from cluster.snapshot import Snapshot

FIXTURE = Path(__file__).with_name("fixtures") / "small-cluster.yaml"
DEMO = Path(__file__).parents[1] / "cluster" / "demo"  # the analysis helper's demo cluster, read as one folder
PARITY_DUMPS = [FIXTURE, *([DEMO] if list(DEMO.glob("*.yaml")) else [])]
ISTIO_KINDS = sorted(k.kind for k in KINDS if k.istio)

Factory = Callable[..., KubeDouble]


def live(double: KubeDouble, tmp_path: Path, *, timeout: float = 5.0, page_size: int = 500, **kc: str) -> Snapshot:
    kubeconfig = double.kubeconfig(tmp_path / "kubeconfig", **kc)
    return read_live(kubeconfig=kubeconfig, context=None, timeout=timeout, page_size=page_size)


@pytest.mark.parametrize("dump", PARITY_DUMPS, ids=[p.name for p in PARITY_DUMPS])
def test_live_reads_what_the_dump_holds(dump: Path, kube_double_factory: Factory, tmp_path: Path) -> None:
    double = kube_double_factory(dump, crd_groups="all")
    from_api = live(double, tmp_path, page_size=3)
    from_file = read_dump(dump)
    # The objects are the same; only a dump without a manifest lists its absent Istio kinds (taken as empty).
    assert from_api.missing_kinds == [] and from_file.issues == []
    from_file.exported_kinds = None  # what the dump held, for the analysis's completeness rule
    assert normalised(from_api) == normalised(from_file)
    assert from_api.source == f"live:{double.url}" and from_api.complete
    assert len(from_api.pods) == len(from_file.pods) > 0


def test_pagination_and_exactly_one_list_per_kind(kube_double: KubeDouble, tmp_path: Path) -> None:
    snap = live(kube_double, tmp_path, page_size=2)
    assert len(snap.pods) == 6
    pod_calls = kube_double.list_calls("pods")
    assert len(pod_calls) == math.ceil(6 / 2)
    assert [c.query.get("limit") for c in pod_calls] == ["2", "2", "2"]
    assert [bool(c.query.get("continue")) for c in pod_calls] == [False, True, True]
    # One list per kind: each kind's path is started (no continue token) once, cluster-wide.
    lists = [r for r in kube_double.requests if "limit" in r.query]
    starts = Counter(r.path for r in lists if "continue" not in r.query)
    assert len(starts) == len(KINDS) and set(starts.values()) == {1}
    assert not [r for r in kube_double.requests if "/namespaces/" in r.path]
    # Discovery: once per Istio/Gateway API group, never per kind.
    discovery = Counter(r.path for r in kube_double.requests if "limit" not in r.query)
    assert set(discovery) == {f"/apis/{g}" for g in {k.group for k in KINDS if k.istio}}
    assert set(discovery.values()) == {1}
    assert all(r.method == "GET" for r in kube_double.requests)


def test_istio_crds_absent_are_reported_missing_not_a_crash(kube_double_factory: Factory, tmp_path: Path) -> None:
    double = kube_double_factory(FIXTURE, absent_groups={k.group for k in KINDS if k.istio})
    snap = live(double, tmp_path)
    assert sorted(snap.missing_kinds) == ISTIO_KINDS
    assert snap.issues == [] and len(snap.pods) == 6 and snap.resources == {}


def test_one_crd_absent_in_a_served_group(kube_double_factory: Factory, tmp_path: Path) -> None:
    """Only the security group is installed: the kinds of other groups are missing, its own are read."""
    double = kube_double_factory(FIXTURE, absent_groups={"networking.istio.io", "gateway.networking.k8s.io"})
    snap = live(double, tmp_path)
    assert {"EnvoyFilter", "Gateway", "Sidecar", "WasmPlugin", "Telemetry"} <= set(snap.missing_kinds)
    assert "PeerAuthentication" not in snap.missing_kinds and len(snap.of_kind("PeerAuthentication")) == 1


def test_older_istio_serving_only_v1beta1(kube_double_factory: Factory, tmp_path: Path) -> None:
    double = kube_double_factory(FIXTURE, crd_groups="all", served_versions={"security.istio.io": ("v1beta1",)})
    snap = live(double, tmp_path)
    assert len(snap.of_kind("PeerAuthentication")) == 1 and "PeerAuthentication" not in snap.missing_kinds
    assert double.list_calls("peerauthentications")[0].path == "/apis/security.istio.io/v1beta1/peerauthentications"


def test_forbidden_kind_gives_a_partial_answer_naming_the_permission(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="pods", status=403, message='pods is forbidden: User "meshbot" cannot list resource "pods"')
    snap = live(kube_double, tmp_path)
    assert snap.pods == [] and not snap.complete
    [issue] = snap.issues
    assert issue.kind == "Pod" and issue.status == 403
    assert "list pods (group '') at cluster scope" in issue.message
    assert 'cannot list resource "pods"' in issue.message  # the server's own words are kept
    assert "권한 없음" in issue.explain("ko") and "pods" in issue.explain("ko") and issue.explain("en") == issue.message
    assert len(snap.namespaces) == 4 and len(snap.workloads) == 2  # the other kinds are still read


def test_forbidden_istio_kind_names_its_group(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="envoyfilters", status=403)
    [issue] = live(kube_double, tmp_path).issues
    assert "list envoyfilters (group 'networking.istio.io')" in issue.message


def test_server_error_on_one_kind(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="deployments", status=500, message="etcdserver: request timed out")
    snap = live(kube_double, tmp_path)
    [issue] = snap.issues
    assert (issue.kind, issue.status) == ("Deployment", 500)
    assert "500" in issue.message and "etcdserver: request timed out" in issue.message
    assert [w.kind for w in snap.workloads] == ["DaemonSet"] and len(snap.pods) == 6


def test_failure_in_the_middle_of_pagination_says_the_list_is_incomplete(
    kube_double: KubeDouble, tmp_path: Path
) -> None:
    kube_double.fault(kind="pods", status=503, after=1)
    snap = live(kube_double, tmp_path, page_size=2)
    [issue] = snap.issues
    assert issue.status == 503 and "after 2 objects" in issue.message and "incomplete" in issue.message
    assert len(snap.pods) == 2


def test_timeout_on_one_kind(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="pods", delay=3.0)
    started = time.monotonic()
    snap = live(kube_double, tmp_path, timeout=0.5)
    assert time.monotonic() - started < 2.5  # one timeout, no read retries
    [issue] = snap.issues
    assert issue.kind == "Pod" and issue.status is None and "timed out" in issue.message
    assert "시간이 초과" in issue.explain("ko")
    assert snap.pods == [] and len(snap.namespaces) == 4


def test_everything_timing_out_is_cluster_unreachable(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(path="/", delay=2.0)
    with pytest.raises(ClusterError) as caught:
        live(kube_double, tmp_path, timeout=0.3)
    assert "cluster unreachable" in caught.value.en and "timed out" in caught.value.en
    assert "Read so far: nothing" in caught.value.en
    assert "연결할 수 없습니다" in caught.value.ko


def test_rejected_credentials(kube_double_factory: Factory, tmp_path: Path) -> None:
    double = kube_double_factory(FIXTURE, token="the-right-token")
    with pytest.raises(ClusterError) as caught:
        live(double, tmp_path, token="a-stale-token")
    assert "rejected meshbot's credentials (401" in caught.value.en and double.url in caught.value.en
    assert "자격 증명" in caught.value.ko
    # and with the right token the same server answers
    assert len(live(double, tmp_path, token="the-right-token").pods) == 6


def test_unreachable_closed_port(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    with pytest.raises(ClusterError) as caught:
        read_live(kubeconfig=kubeconfig, context=None, timeout=2.0)
    assert time.monotonic() - started < 10
    assert f"cluster unreachable at http://127.0.0.1:{port}" in caught.value.en
    assert "connection refused" in caught.value.en and "Read so far: nothing" in caught.value.en
    assert "클러스터에 연결할 수 없습니다" in caught.value.ko


def test_no_kubeconfig_outside_a_cluster_says_how_to_point_meshbot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    with pytest.raises(ClusterError) as caught:
        read_live(kubeconfig=None, context=None, timeout=1.0)
    assert "--kubeconfig" in caught.value.en and "--from-file" in caught.value.en
    assert "--kubeconfig" in caught.value.ko and "클러스터" in caught.value.ko


def test_unusable_kubeconfig(tmp_path: Path, kube_double: KubeDouble) -> None:
    garbage = tmp_path / "kubeconfig"
    garbage.write_text("this: is: not: yaml\n", encoding="utf-8")
    with pytest.raises(ClusterError) as caught:
        read_live(kubeconfig=garbage, context=None, timeout=1.0)
    assert "cannot use kubeconfig" in caught.value.en and str(garbage) in caught.value.en
    good = kube_double.kubeconfig(tmp_path / "good")
    with pytest.raises(ClusterError) as caught:
        read_live(kubeconfig=good, context="no-such-context", timeout=1.0)
    assert "no-such-context" in caught.value.en
    with pytest.raises(ClusterError) as caught:
        read_live(kubeconfig=tmp_path / "absent", context=None, timeout=1.0)
    assert "absent" in caught.value.en


def test_expired_continue_token_restarts_the_list_once(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="pods", status=410, after=1, times=1, message="The provided continue parameter is too old")
    snap = live(kube_double, tmp_path, page_size=2)
    assert snap.issues == [] and len(snap.pods) == 6  # no pod counted twice
    starts = [c for c in kube_double.list_calls("pods") if "continue" not in c.query]
    assert len(starts) == 2


def test_throttled_requests_are_retried_after_retry_after(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="pods", status=429, times=2, retry_after=0)
    snap = live(kube_double, tmp_path)
    assert snap.issues == [] and len(snap.pods) == 6
    assert len(kube_double.list_calls("pods")) == 3


def test_throttling_that_never_ends_is_reported(kube_double: KubeDouble, tmp_path: Path) -> None:
    kube_double.fault(kind="services", status=429, retry_after=0, message="too many requests")
    [issue] = live(kube_double, tmp_path).issues
    assert (issue.kind, issue.status) == ("Service", 429) and "too many requests" in issue.message
    assert len(kube_double.list_calls("services")) == 4


def test_synthetic_cluster_parity_and_paging(kube_double_factory: Factory, tmp_path: Path) -> None:
    """The benchmark's generator (full-size pods: managedFields, status, probes) read live and from its dump."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from synth_cluster import synth_objects

    objects = list(synth_objects(namespaces=20, pods=100, nodes=4))
    dump = tmp_path / "synth.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "items": objects, "kind": "List"}, indent=2), encoding="utf-8")
    double = kube_double_factory(dump, crd_groups="all")
    from_api = live(double, tmp_path, page_size=25)
    from_file = read_dump(dump)
    from_file.exported_kinds = None  # a dump without a manifest records the kinds it held; the objects are equal
    assert normalised(from_api) == normalised(from_file)
    assert len(from_api.pods) == 100 and len(double.list_calls("pods")) == math.ceil(100 / 25)
    sidecars = [p for p in from_api.pods if any(c.name == "istio-proxy" for c in p.containers)]
    assert 0 < len(sidecars) < 100
