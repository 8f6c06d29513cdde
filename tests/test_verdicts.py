"""Precheck verdicts: blocked if any blocker; else needs-waypoint if a waypoint need is unserved; else ready."""

from __future__ import annotations

from snapshot_helpers import istiod, namespace, node, peer_auth, pod, resource, run, service, waypoint

from cluster.analysis.findings import Finding
from cluster.analysis.verdict import reaches, verdict

SIDECAR = {"istio-injection": "enabled"}
L7_RULES = {"rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}


def test_verdict_function() -> None:
    blocker = Finding("lua-filter", "EnvoyFilter a/b", "a")
    need = Finding("l7-authz-needs-waypoint", "AuthorizationPolicy a/p", "a")
    served = Finding("l7-authz-needs-waypoint", "AuthorizationPolicy a/p", "a", served=True)
    warning = Finding("hostnetwork-pod", "Pod a/x", "a")
    assert verdict([]) == "ready"
    assert verdict([warning, Finding("telemetry-detail-loss", "Namespace a", "a")]) == "ready"
    assert verdict([need, warning]) == "needs-waypoint"
    assert verdict([served]) == "ready"
    assert verdict([need, blocker]) == "blocked"
    assert verdict([warning], cluster_blocked=True) == "blocked"


def test_fail_on_thresholds() -> None:
    assert reaches("blocked", "needs-waypoint") and reaches("needs-waypoint", "needs-waypoint")
    assert reaches("blocked", "blocked") and not reaches("needs-waypoint", "blocked")
    assert not reaches("ready", "needs-waypoint")


def test_ready_namespace_with_warnings_only() -> None:
    a = run(namespace("legacy"), pod("legacy", "exporter-1", host_network=True), node("n", "5.4.0"))
    assert a.namespace("legacy").verdict == "ready"  # type: ignore[union-attr]  # warnings never block


def test_needs_waypoint_then_ready_once_a_waypoint_serves_the_target() -> None:
    policy = resource(
        "AuthorizationPolicy", "shop", "p", {"targetRefs": [{"kind": "Service", "name": "api"}], **L7_RULES}
    )
    sidecar = run(
        namespace("shop", **SIDECAR), pod("shop", "api-1", app="api", sidecar=True), service("shop", "api"), policy
    )
    assert sidecar.namespace("shop").verdict == "needs-waypoint"  # type: ignore[union-attr]
    ready = run(
        namespace("shop", **SIDECAR, **{"istio.io/use-waypoint": "waypoint"}),
        waypoint("shop"),
        pod("shop", "api-1", app="api", sidecar=True),
        service("shop", "api"),
        policy,
    )
    assert ready.namespace("shop").verdict == "ready"  # type: ignore[union-attr]


def test_selector_bound_policy_needs_rebinding_even_with_a_waypoint() -> None:
    policy = resource("AuthorizationPolicy", "shop", "p", {"selector": {"matchLabels": {"app": "api"}}, **L7_RULES})
    a = run(
        namespace("shop", **SIDECAR, **{"istio.io/use-waypoint": "waypoint"}),
        waypoint("shop"),
        pod("shop", "api-1", app="api", sidecar=True),
        policy,
    )
    assert a.namespace("shop").verdict == "needs-waypoint"  # type: ignore[union-attr]


def test_blocked_by_a_namespace_blocker_or_a_cluster_blocker() -> None:
    ns = namespace("shop", **SIDECAR)
    api = pod("shop", "api-1", app="api", sidecar=True)
    assert run(ns, api, peer_auth("shop", "default", "DISABLE")).namespace("shop").verdict == "blocked"  # type: ignore[union-attr]
    assert run(ns, api, istiod("1.21.0")).namespace("shop").verdict == "blocked"  # type: ignore[union-attr]
    assert run(ns, api, istiod("1.24.1")).namespace("shop").verdict == "ready"  # type: ignore[union-attr]


def test_system_namespaces_are_not_candidates() -> None:
    a = run(
        namespace("kube-system"),
        namespace("istio-system"),
        namespace("mesh-root"),
        namespace("shop"),
        root_namespace="mesh-root",
    )
    assert [ns.name for ns in a.candidates] == ["istio-system", "shop"]
