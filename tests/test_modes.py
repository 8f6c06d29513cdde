"""Namespace and pod data-plane modes, infrastructure pods, waypoint use and the Istio version (Istio's rules)."""

from __future__ import annotations

import pytest
from snapshot_helpers import build, container, istiod, namespace, pod, proxy, run, service, waypoint, workload

from cluster.analysis.modes import namespace_mode, pod_mode, pod_role, workload_of
from cluster.analysis.version import image_tag, istio_version, parse_revision, parse_version


@pytest.mark.parametrize(
    ("labels", "mode"),
    [
        ({"istio.io/dataplane-mode": "ambient"}, "ambient"),
        ({"istio-injection": "enabled"}, "sidecar"),
        ({"istio.io/rev": "1-24-2"}, "sidecar"),
        ({"istio.io/rev": ""}, "none"),  # an empty revision injects nothing
        ({"istio.io/rev": "canary", "istio-injection": "disabled"}, "none"),  # disabled blocks injection entirely
        ({"istio-injection": "disabled"}, "none"),
        ({"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"}, "mixed"),
        ({"istio.io/rev": "canary", "istio.io/dataplane-mode": "ambient"}, "mixed"),
        ({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"}, "ambient"),
        ({"istio.io/dataplane-mode": "none"}, "none"),
        ({"istio-injection": "true"}, "none"),  # only "enabled" turns injection on
        ({}, "none"),
    ],
)
def test_namespace_mode(labels: dict[str, str], mode: str) -> None:
    assert namespace_mode(labels) == mode


def _pod(**kw: object) -> object:
    snap = build(pod("ns", "p", **kw))  # type: ignore[arg-type]
    return snap.pods[0]


def test_pod_modes_follow_istio() -> None:
    assert pod_mode(_pod(sidecar=True)) == "sidecar"
    assert pod_mode(_pod(containers=[container("app"), proxy()])) == "sidecar"  # istio-proxy container alone
    assert pod_mode(_pod(annotations={"sidecar.istio.io/status": "{}"})) == "sidecar"  # annotation alone
    native = proxy()
    native["restartPolicy"] = "Always"
    assert pod_mode(_pod(init=[native])) == "sidecar"  # native sidecar (init container that keeps running)
    assert pod_mode(_pod(init=[proxy()])) == "none"  # an init container named istio-proxy that exits is no sidecar
    assert pod_mode(_pod(ambient="enabled")) == "ambient"
    assert pod_mode(_pod(ambient="pending")) == "ambient"  # partly enrolled (1.26+)
    assert pod_mode(_pod(ambient="disabled")) == "none"
    assert pod_mode(_pod(ambient="enabled", sidecar=True)) == "sidecar"  # a sidecar pod is never enrolled
    assert pod_mode(_pod(ambient="enabled", labels={"istio.io/dataplane-mode": "none"})) == "none"  # opt-out
    assert pod_mode(_pod(ambient="enabled", host_network=True)) == "none"  # hostNetwork is never enrolled
    assert pod_mode(_pod()) == "none"


def test_gateways_waypoints_and_control_plane_are_counted_apart() -> None:
    ingress = pod("istio-system", "istio-ingressgateway-7d9f", app="istio-ingressgateway", containers=[proxy("router")])
    wp = pod(
        "shop",
        "waypoint-5d9c",
        labels={"gateway.networking.k8s.io/gateway-name": "waypoint"},
        containers=[proxy("waypoint")],
    )
    istiod_pod = pod("istio-system", "istiod-6f7d", app="istiod")
    ztunnel = pod("istio-system", "ztunnel-x2x", app="ztunnel")
    app = pod("shop", "web-1", sidecar=True)
    snap = build(ingress, wp, istiod_pod, ztunnel, app)
    roles = {p.meta.name: pod_role(p) for p in snap.pods}
    assert roles == {
        "istio-ingressgateway-7d9f": "gateway",
        "waypoint-5d9c": "gateway",
        "istiod-6f7d": "control-plane",
        "ztunnel-x2x": "control-plane",
        "web-1": "workload",
    }
    a = run(namespace("shop", **{"istio-injection": "enabled"}), ingress, wp, istiod_pod, ztunnel, app)
    shop = a.namespace("shop")
    assert shop is not None
    assert shop.counts() == {"sidecar": 1, "ambient": 0, "none": 0}  # the waypoint's istio-proxy is no sidecar
    assert shop.infrastructure == 1
    system = a.namespace("istio-system")
    assert system is not None and system.counts() == {"sidecar": 0, "ambient": 0, "none": 0}
    assert system.infrastructure == 3


def test_completed_pods_are_not_counted() -> None:
    a = run(namespace("jobs"), pod("jobs", "backup-1", phase="Succeeded"), pod("jobs", "api-1"))
    view = a.namespace("jobs")
    assert view is not None and view.counts()["none"] == 1


def test_workload_of_resolves_deployments_through_replicasets() -> None:
    snap = build(
        pod("shop", "web-7c9f-abcde", owner=("ReplicaSet", "web-7c9f")),
        pod("shop", "db-0", owner=("StatefulSet", "db")),
        pod("shop", "bare"),
    )
    assert [workload_of(p) for p in snap.pods] == [("Deployment", "web"), ("StatefulSet", "db"), ("Pod", "bare")]


def test_waypoint_use_own_label_wins_and_none_opts_out() -> None:
    a = run(
        namespace("shop", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}),
        waypoint("shop"),
        waypoint("platform", "edge", serves="all", allowed_from="All"),  # 1.23+: the listener must admit shop
        service("shop", "cart"),
        service("shop", "legacy", **{"istio.io/use-waypoint": "none"}),
        service("shop", "search", **{"istio.io/use-waypoint": "edge", "istio.io/use-waypoint-namespace": "platform"}),
        service("shop", "ghost", **{"istio.io/use-waypoint": "missing"}),
    )
    wps = a.waypoints
    assert wps.for_namespace("shop") is not None
    assert wps.for_service_name("shop", "cart").key == "shop/waypoint"  # type: ignore[union-attr]  # namespace label
    assert wps.for_service_name("shop", "legacy") is None  # none opts out
    assert wps.for_service_name("shop", "search").key == "platform/edge"  # type: ignore[union-attr]  # cross-namespace
    assert wps.for_service_name("shop", "ghost") is None  # a waypoint that does not exist serves nothing
    assert [w.key for w in a.waypoints_of("shop")] == ["shop/waypoint", "platform/edge"]


def test_waypoint_for_decides_which_traffic_it_takes() -> None:
    a = run(
        namespace("shop", **{"istio.io/use-waypoint": "wl"}),
        waypoint("shop", "wl", serves="workload"),
        service("shop", "cart"),
        pod("shop", "cart-1", app="cart", ambient="enabled"),
    )
    assert a.waypoints.for_service_name("shop", "cart") is None  # a workload waypoint takes no service traffic
    assert a.waypoints.for_pod(a.snapshot.pods[0]) is not None
    plain = run(namespace("shop"), waypoint("shop", "gw"))
    assert plain.waypoints.for_namespace("shop") is None  # deployed but nothing opts in


def test_not_a_waypoint_gateway_is_ignored() -> None:
    gateway = waypoint("shop", "ingress")
    gateway["spec"]["gatewayClassName"] = "istio"
    a = run(namespace("shop", **{"istio.io/use-waypoint": "ingress"}), gateway)
    assert a.waypoints.by_key == {}


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("1.24.0-distroless", (1, 24, 0)),
        ("1.23.2", (1, 23, 2)),
        ("1.22", (1, 22, 0)),
        ("v1.25.1", (1, 25, 1)),
        ("latest", None),
        ("", None),
    ],
)
def test_parse_version(text: str, version: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == version


def test_image_tags_and_revisions() -> None:
    assert image_tag("registry.local:5000/istio/pilot:1.24.1") == "1.24.1"
    assert image_tag("docker.io/istio/pilot@sha256:abc") is None
    assert image_tag("gcr.io/istio-release/pilot:1.23.0@sha256:abc") == "1.23.0"
    assert parse_revision("1-23-2") == (1, 23, 2)
    assert parse_revision("canary") is None


def test_istio_version_from_deployment_pods_and_revision() -> None:
    assert istio_version(build(istiod("1.24.0-distroless"))).newest == (1, 24, 0)
    two = build(
        istiod("1.22.3"), {**istiod("1.24.1"), "metadata": {"name": "istiod-1-24", "namespace": "istio-system"}}
    )
    assert istio_version(two).versions == ((1, 22, 3), (1, 24, 1))  # canary upgrade: both revisions, newest used
    from_pod = pod(
        "istio-system", "istiod-5d8c", app="istiod", containers=[{"name": "discovery", "image": "pilot:1.23.1"}]
    )
    assert istio_version(build(from_pod)).newest == (1, 23, 1)
    by_rev = workload(
        "Deployment",
        "istio-system",
        "istiod-1-21-0",
        [{"name": "discovery", "image": "pilot@sha256:1"}],
        labels={"app": "istiod", "istio.io/rev": "1-21-0"},
    )
    assert istio_version(build(by_rev)).newest == (1, 21, 0)
    labelled_ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "a", "labels": {"istio.io/rev": "1-22-1"}},
    }
    assert istio_version(build(labelled_ns)).newest == (1, 22, 1)  # last resort: a revision named after its version
    # An istiod-labelled pod running some other image (istioctl analyze's test data) says nothing about Istio.
    other = pod("istio-system", "istiod-x", app="istiod", containers=[{"name": "server", "image": "adservice:v0.1.1"}])
    assert istio_version(build(other)).newest is None
