"""Effective mTLS: Istio's PeerAuthentication precedence (pilot/pkg/security/authn/policy_applier.go)."""

from __future__ import annotations

from snapshot_helpers import namespace, peer_auth, pod, run

from cluster.analysis.mtls import DEFAULT_SOURCE

APP = {"app": "api"}


def test_default_is_permissive() -> None:
    a = run(namespace("shop"))
    assert a.mtls.mesh.mode == "PERMISSIVE" and a.mtls.mesh.source == DEFAULT_SOURCE
    assert a.namespace_mtls("shop").mode == "PERMISSIVE"


def test_mesh_policy_applies_to_every_namespace() -> None:
    a = run(namespace("shop"), peer_auth("istio-system", "default", "STRICT"))
    assert a.namespace_mtls("shop").mode == "STRICT"
    assert a.namespace_mtls("shop").source == "PeerAuthentication istio-system/default"


def test_root_namespace_is_configurable() -> None:
    objs = (namespace("shop"), peer_auth("mesh-root", "default", "STRICT"), peer_auth("istio-system", "x", "DISABLE"))
    assert run(*objs, root_namespace="mesh-root").namespace_mtls("shop").mode == "STRICT"
    default_root = run(*objs)  # mesh-root/default is then a plain namespace policy of another namespace
    assert default_root.namespace_mtls("shop").mode == "DISABLE"
    assert default_root.namespace_mtls("mesh-root").mode == "STRICT"


def test_namespace_overrides_mesh_and_workload_overrides_namespace() -> None:
    a = run(
        namespace("shop"),
        peer_auth("istio-system", "default", "STRICT"),
        peer_auth("shop", "default", "PERMISSIVE"),
        peer_auth("shop", "api", "STRICT", selector=APP),
    )
    assert a.namespace_mtls("shop").mode == "PERMISSIVE"
    assert a.mtls.workload("shop", APP).mode == "STRICT"
    assert a.mtls.workload("shop", {"app": "web"}).mode == "PERMISSIVE"  # selector does not match


def test_unset_inherits_from_the_parent_level() -> None:
    a = run(
        namespace("shop"),
        peer_auth("istio-system", "default", "STRICT"),
        peer_auth("shop", "default", "UNSET"),
        peer_auth("shop", "api", None, selector=APP),  # no mtls block at all: UNSET
    )
    assert a.namespace_mtls("shop").mode == "STRICT"
    assert a.namespace_mtls("shop").source == "PeerAuthentication istio-system/default"
    assert a.mtls.workload("shop", APP).mode == "STRICT"


def test_oldest_policy_wins_at_each_level_then_name() -> None:
    a = run(
        namespace("shop"),
        peer_auth("shop", "newer", "PERMISSIVE", created="2025-06-01T00:00:00Z"),
        peer_auth("shop", "older", "STRICT", created="2025-01-01T00:00:00Z"),
        peer_auth("shop", "w-new", "DISABLE", selector=APP, created="2025-06-01T00:00:00Z"),
        peer_auth("shop", "w-old", "STRICT", selector=APP, created="2025-02-01T00:00:00Z"),
        peer_auth("istio-system", "b-mesh", "PERMISSIVE", created="2025-01-01T00:00:00Z"),
        peer_auth("istio-system", "a-mesh", "STRICT", created="2025-01-01T00:00:00Z"),
    )
    assert a.namespace_mtls("shop").source == "PeerAuthentication shop/older"
    assert a.mtls.workload("shop", APP).source == "PeerAuthentication shop/w-old"
    assert a.mtls.mesh.source == "PeerAuthentication istio-system/a-mesh"  # same timestamp: name decides
    assert a.mtls.mesh.mode == "STRICT"


def test_oldest_unset_still_wins_and_inherits() -> None:
    a = run(
        namespace("shop"),
        peer_auth("shop", "old-unset", "UNSET", created="2025-01-01T00:00:00Z"),
        peer_auth("shop", "new-strict", "STRICT", created="2025-06-01T00:00:00Z"),
    )
    assert a.namespace_mtls("shop").mode == "PERMISSIVE"


def test_port_level_mtls_only_from_workload_policies_and_unset_ports_inherit() -> None:
    a = run(
        namespace("shop"),
        peer_auth("shop", "default", "STRICT"),
        peer_auth("shop", "api", "PERMISSIVE", selector=APP, ports={9090: "STRICT", 8080: "UNSET"}),
        peer_auth("shop", "ns-ports", None, ports={7070: "DISABLE"}, created="2026-01-01T00:00:00Z"),
    )
    workload = a.mtls.workload("shop", APP)
    assert workload.mode == "PERMISSIVE"
    assert workload.ports == {"8080": "PERMISSIVE", "9090": "STRICT"}  # UNSET port inherits the workload mode
    other = a.mtls.workload("shop", {"app": "web"})
    assert other.ports == {}  # a namespace-wide policy's portLevelMtls is never read
    assert other.mode == "STRICT"


def test_port_inherits_an_inherited_mode() -> None:
    a = run(
        namespace("shop"),
        peer_auth("istio-system", "default", "STRICT"),
        peer_auth("shop", "api", None, selector=APP, ports={9090: "PERMISSIVE", 8080: "UNSET"}),
    )
    assert a.mtls.workload("shop", APP).ports == {"8080": "STRICT", "9090": "PERMISSIVE"}


def test_selector_policies_in_the_root_namespace_are_ignored() -> None:
    a = run(
        namespace("shop"),
        peer_auth("istio-system", "default", "STRICT"),
        peer_auth("istio-system", "api-disable", "DISABLE", selector=APP),
        pod("shop", "api-1", app="api", sidecar=True),
    )
    assert a.mtls.workload("shop", APP).mode == "STRICT"
    assert not [f for f in a.namespace("shop").findings if f.code == "mtls-disable-unsupported"]  # type: ignore[union-attr]


def test_workload_listing_groups_pods_and_lists_policies_that_select_nothing() -> None:
    a = run(
        namespace("shop"),
        pod("shop", "api-7c9f-a", app="api", owner=("ReplicaSet", "api-7c9f"), sidecar=True),
        pod("shop", "api-7c9f-b", app="api", owner=("ReplicaSet", "api-7c9f"), sidecar=True),
        peer_auth("shop", "api", "STRICT", selector=APP, ports={9090: "PERMISSIVE"}),
        peer_auth("shop", "gone", "DISABLE", selector={"app": "gone"}),
    )
    listed = {w.name: (w.pods, w.decision.mode, w.decision.ports) for w in a.workload_mtls("shop")}
    assert listed == {
        "Deployment/api": (2, "STRICT", {"9090": "PERMISSIVE"}),
        "app=gone": (0, "DISABLE", {}),
    }
