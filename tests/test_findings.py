"""Every finding code fires on its case and stays quiet on the near-miss."""

from __future__ import annotations

from typing import Any

import pytest
from snapshot_helpers import (
    codes,
    container,
    istiod,
    namespace,
    node,
    peer_auth,
    pod,
    proxy,
    resource,
    run,
    service,
    waypoint,
    workload,
)

from cluster.analysis.findings import SEVERITY, render
from knowledge import default as default_kb

SIDECAR_NS = namespace("shop", **{"istio-injection": "enabled"})
AMBIENT_NS = namespace("shop", **{"istio.io/dataplane-mode": "ambient"})
APP_POD = pod("shop", "api-1", app="api", sidecar=True)
SELECT_API = {"selector": {"matchLabels": {"app": "api"}}}
TARGET_API = {"targetRefs": [{"kind": "Service", "group": "", "name": "api"}]}


def authz(name: str, spec: dict[str, Any], ns: str = "shop") -> dict[str, Any]:
    return resource("AuthorizationPolicy", ns, name, spec)


def rule(
    to: dict[str, Any] | None = None, source: dict[str, Any] | None = None, when: list[Any] | None = None
) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if to is not None:
        r["to"] = [{"operation": to}]
    if source is not None:
        r["from"] = [{"source": source}]
    if when is not None:
        r["when"] = when
    return r


def lua_filter(ns: str, name: str = "lua") -> dict[str, Any]:
    value = {
        "name": "envoy.filters.http.lua",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "inlineCode": "function envoy_on_request(h) end",
        },
    }
    patch = {
        "applyTo": "HTTP_FILTER",
        "match": {"context": "SIDECAR_INBOUND"},
        "patch": {"operation": "INSERT_BEFORE", "value": value},
    }
    return resource("EnvoyFilter", ns, name, {"configPatches": [patch]})


def plain_filter(
    ns: str, name: str, *, context: str = "SIDECAR_OUTBOUND", selector: dict[str, str] | None = None
) -> dict[str, Any]:
    patch = {
        "applyTo": "NETWORK_FILTER",
        "match": {"context": context},
        "patch": {"operation": "MERGE", "value": {"typed_config": {"xff_num_trusted_hops": 1}}},
    }
    spec: dict[str, Any] = {"configPatches": [patch]}
    if selector:
        spec["workloadSelector"] = {"labels": selector}
    return resource("EnvoyFilter", ns, name, spec)


def vs(name: str, route: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hosts": ["api"], **spec}
    if route is not None:
        body["http"] = [route]
    return resource("VirtualService", "shop", name, body)


ROUTE = {"route": [{"destination": {"host": "api"}}]}


# --- cluster-level ---


def test_istio_version_too_old_fires_below_the_minimum_only() -> None:
    old = run(istiod("1.21.4"), SIDECAR_NS, APP_POD)
    assert [f.code for f in old.cluster_findings] == ["istio-version-too-old"]
    finding = old.cluster_findings[0]
    assert (finding.version, finding.minimum, finding.resource) == ("1.21.4", "1.22", "Deployment istio-system/istiod")
    assert old.namespace("shop").verdict == "blocked"  # type: ignore[union-attr]  # a cluster blocker blocks all
    for version in ("1.22.0", "1.23.2", "1.24.0-distroless"):
        assert not run(istiod(version)).cluster_findings
    assert not run(SIDECAR_NS).cluster_findings  # version unknown: no guess
    assert [f.code for f in run(istiod("1.23.2"), version_minimum="1.24").cluster_findings] == ["istio-version-too-old"]


def istiod_revision(revision: str, version: str) -> dict[str, Any]:
    """A canary-upgrade control plane: Deployment istiod-<rev>, labelled istio.io/rev=<rev>."""
    c = {"name": "discovery", "image": f"docker.io/istio/pilot:{version}"}
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": revision}
    return workload("Deployment", "istio-system", f"istiod-{revision}", [c], labels=labels)


def pinned(name: str, revision: str, **labels: str) -> dict[str, Any]:
    return namespace(name, **{"istio.io/rev": revision, **labels})


def test_a_namespace_on_an_old_revision_is_blocked_by_it_alone() -> None:
    a = run(
        istiod("1.23.2"),
        istiod_revision("1-21", "1.21.6"),
        pinned("billing", "1-21"),
        pod("billing", "api-1", app="api", sidecar=True),
        pinned("orders", "default"),  # near-miss: the default revision, new enough
        namespace("shop", **{"istio-injection": "enabled"}),  # near-miss: no revision label, default revision
        pinned("mixed", "1-21", **{"istio-injection": "enabled"}),  # near-miss: istio-injection wins (default)
        pinned("tagged", "prod-stable"),  # near-miss: a revision (or tag) no istiod Deployment carries
    )
    assert not a.cluster_findings  # the newest (default) control plane is new enough
    [finding] = a.namespace("billing").findings[:1]  # type: ignore[union-attr]
    assert (finding.code, finding.severity, finding.resource, finding.namespace) == (
        "istio-version-too-old",
        "blocker",
        "Deployment istio-system/istiod-1-21",
        "billing",
    )
    assert (finding.detail, finding.version, finding.minimum) == ("1-21", "1.21.6", "1.22")
    assert a.namespace("billing").verdict == "blocked"  # type: ignore[union-attr]
    for quiet in ("orders", "shop", "mixed", "tagged"):
        assert "istio-version-too-old" not in codes(a, quiet), quiet
        assert a.namespace(quiet).verdict == "ready", quiet  # type: ignore[union-attr]
    _, message, _ = render(finding, default_kb(), "ko")
    assert "revision 1-21" in message and "istiod-1-21" in message and "1.21.6" in message


def test_a_revision_at_the_minimum_is_not_old_and_the_cluster_finding_is_not_repeated() -> None:
    api = pod("billing", "api-1", app="api", sidecar=True)
    at_minimum = run(istiod("1.24.1"), istiod_revision("1-22", "1.22.0"), pinned("billing", "1-22"), api)
    assert "istio-version-too-old" not in codes(at_minimum, "billing")
    stricter = run(
        istiod("1.24.1"), istiod_revision("1-22", "1.22.0"), pinned("billing", "1-22"), api, version_minimum="1.23"
    )
    assert "istio-version-too-old" in codes(stricter, "billing")  # the configured minimum decides
    both_old = run(istiod("1.21.6"), istiod_revision("1-20", "1.20.8"), pinned("billing", "1-20"), api)
    assert [f.code for f in both_old.cluster_findings] == ["istio-version-too-old"]
    assert "istio-version-too-old" not in codes(both_old, "billing")  # the cluster-level finding already blocks it
    assert both_old.namespace("billing").verdict == "blocked"  # type: ignore[union-attr]


def test_an_old_default_revision_beside_a_newer_canary_blocks_the_namespaces_it_serves() -> None:
    a = run(
        istiod("1.21.6"),
        istiod_revision("1-24", "1.24.1"),
        namespace("legacy"),
        pod("legacy", "web-1", app="web"),
        pinned("moved", "1-24"),
        pod("moved", "api-1", app="api", sidecar=True),
    )
    assert not a.cluster_findings  # the newest control plane is new enough
    assert codes(a, "legacy") == ["istio-version-too-old"]  # no label: served by the default revision
    assert [f.resource for f in a.namespace("legacy").findings] == ["Deployment istio-system/istiod"]  # type: ignore[union-attr]
    assert "istio-version-too-old" not in codes(a, "moved")


def test_kernel_too_old_uses_the_configured_minimum() -> None:
    nodes = (node("n-old", "5.4.0-1103-aws"), node("n-new", "5.10.220-209.869.amzn2.x86_64"), node("n-odd", "unknown"))
    assert [f.resource for f in run(*nodes).cluster_findings] == ["Node n-old"]
    assert [f.resource for f in run(*nodes, kernel_minimum="5.13").cluster_findings] == ["Node n-new", "Node n-old"]


def test_cni_compatibility_cilium_and_calico_ebpf_only() -> None:
    cilium = workload(
        "DaemonSet", "kube-system", "cilium", [container("cilium-agent", image="quay.io/cilium/cilium:v1.15.6")]
    )
    calico_ebpf = workload(
        "DaemonSet",
        "calico-system",
        "calico-node",
        [container("calico-node")],
        env=[{"name": "FELIX_BPFENABLED", "value": "true"}],
    )
    calico_iptables = workload(
        "DaemonSet",
        "kube-system",
        "calico-node",
        [container("calico-node")],
        env=[{"name": "FELIX_BPFENABLED", "value": "false"}],
    )
    found = run(cilium, calico_ebpf, calico_iptables).cluster_findings
    assert sorted((f.resource, f.detail) for f in found) == [
        ("DaemonSet calico-system/calico-node", "Calico eBPF"),
        ("DaemonSet kube-system/cilium", "Cilium"),
    ]
    assert not run(calico_iptables).cluster_findings
    envoy = workload(
        "DaemonSet",
        "kube-system",
        "cilium-envoy",
        [container("cilium-envoy", image="quay.io/cilium/cilium-envoy:v1.29")],
    )
    assert [f.resource for f in run(cilium, envoy).cluster_findings] == ["DaemonSet kube-system/cilium"]  # one per CNI


# --- EnvoyFilter / Lua ---


def test_envoyfilter_in_the_namespace_or_root_applies() -> None:
    other_pod = pod("other", "web-1", app="web")
    a = run(
        SIDECAR_NS,
        namespace("other"),
        APP_POD,
        other_pod,
        plain_filter("shop", "own"),
        plain_filter("other", "elsewhere"),
    )
    assert codes(a, "shop") == ["envoyfilter-unsupported", "telemetry-detail-loss"]
    other = [f.resource for f in a.namespace("other").findings if f.code == "envoyfilter-unsupported"]  # type: ignore[union-attr]
    assert other == ["EnvoyFilter other/elsewhere"]  # each namespace gets only its own
    mesh_wide = run(SIDECAR_NS, namespace("other"), APP_POD, other_pod, plain_filter("istio-system", "mesh"))
    assert "envoyfilter-unsupported" in codes(mesh_wide, "shop")
    assert "envoyfilter-unsupported" in codes(mesh_wide, "other")


def test_envoyfilter_in_another_namespace_does_not_apply() -> None:
    a = run(SIDECAR_NS, namespace("other"), APP_POD, plain_filter("other", "elsewhere"))
    assert "envoyfilter-unsupported" not in codes(a, "shop")


def test_root_envoyfilter_for_the_ingress_gateway_only_does_not_apply() -> None:
    ingress = plain_filter("istio-system", "xff", context="GATEWAY", selector={"istio": "ingressgateway"})
    scoped = plain_filter("istio-system", "api-only", selector={"app": "api"})
    a = run(SIDECAR_NS, namespace("other"), APP_POD, pod("other", "web-1", app="web"), ingress, scoped)
    assert "envoyfilter-unsupported" not in codes(a, "other")  # neither selects a workload there
    assert [f.resource for f in a.namespace("shop").findings if f.code == "envoyfilter-unsupported"] == [  # type: ignore[union-attr]
        "EnvoyFilter istio-system/api-only"
    ]


def test_lua_filter_fires_with_the_lua_type_only() -> None:
    a = run(SIDECAR_NS, APP_POD, lua_filter("shop"))
    assert "lua-filter" in codes(a, "shop") and "envoyfilter-unsupported" in codes(a, "shop")
    not_lua = run(SIDECAR_NS, APP_POD, plain_filter("shop", "lua-named-but-no-lua"))
    assert "lua-filter" not in codes(not_lua, "shop")
    by_type_url = lua_filter("shop", "typed")
    del by_type_url["spec"]["configPatches"][0]["patch"]["value"]["name"]
    assert "lua-filter" in codes(run(SIDECAR_NS, APP_POD, by_type_url), "shop")


# --- PeerAuthentication DISABLE ---


def test_mtls_disable_namespace_workload_and_port_level() -> None:
    ns_level = run(SIDECAR_NS, APP_POD, peer_auth("shop", "default", "DISABLE"))
    assert "mtls-disable-unsupported" in codes(ns_level, "shop")
    port = run(
        SIDECAR_NS, APP_POD, peer_auth("shop", "api", "STRICT", selector={"app": "api"}, ports={8080: "DISABLE"})
    )
    [finding] = [f for f in port.namespace("shop").findings if f.code == "mtls-disable-unsupported"]  # type: ignore[union-attr]
    assert finding.detail == "port 8080 DISABLE"
    mesh = run(SIDECAR_NS, APP_POD, peer_auth("istio-system", "default", "DISABLE"))
    assert "mtls-disable-unsupported" in codes(mesh, "shop")


def test_mtls_disable_near_misses() -> None:
    assert "mtls-disable-unsupported" not in codes(
        run(SIDECAR_NS, APP_POD, peer_auth("shop", "d", "PERMISSIVE")), "shop"
    )
    shadowed = run(
        SIDECAR_NS,
        APP_POD,
        peer_auth("shop", "old", "STRICT", created="2025-01-01T00:00:00Z"),
        peer_auth("shop", "new", "DISABLE", created="2025-06-01T00:00:00Z"),  # the older policy wins
    )
    assert "mtls-disable-unsupported" not in codes(shadowed, "shop")
    overridden = run(
        SIDECAR_NS, APP_POD, peer_auth("istio-system", "default", "DISABLE"), peer_auth("shop", "d", "STRICT")
    )
    assert "mtls-disable-unsupported" not in codes(overridden, "shop")


# --- L7 authorization ---


@pytest.mark.parametrize(
    "spec",
    [
        {"rules": [rule(to={"methods": ["GET"]})]},
        {"rules": [rule(to={"paths": ["/admin*"]})]},
        {"rules": [rule(to={"hosts": ["api.example.com"]})]},
        {"rules": [rule(to={"notMethods": ["DELETE"]})]},
        {"rules": [rule(to={"notPaths": ["/internal"]})]},
        {"rules": [rule(to={"notHosts": ["x"]})]},
        {"rules": [rule(source={"requestPrincipals": ["https://auth.example.com/*"]})]},
        {"rules": [rule(source={"notRequestPrincipals": ["*"]})]},
        {"rules": [rule(when=[{"key": "request.headers[x-tenant]", "values": ["a"]}])]},
        {"rules": [rule(when=[{"key": "request.auth.claims[iss]", "values": ["a"]}])]},
        {"action": "CUSTOM", "provider": {"name": "ext-authz"}, "rules": [{}]},
        {"action": "AUDIT", "rules": [{}]},
    ],
)
def test_l7_authz_attributes_fire(spec: dict[str, Any]) -> None:
    a = run(SIDECAR_NS, APP_POD, authz("p", {**TARGET_API, **spec}))
    assert "l7-authz-needs-waypoint" in codes(a, "shop")
    assert "selector-policy-l7" not in codes(a, "shop")  # bound with targetRefs


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"action": "DENY", "rules": [rule(to={"ports": ["8080"]})]},
        {"rules": [rule(to={"notPorts": ["9090"]})]},
        {"rules": [rule(source={"principals": ["cluster.local/ns/a/sa/b"]})]},
        {"rules": [rule(source={"namespaces": ["a"], "notNamespaces": ["b"], "ipBlocks": ["10.0.0.0/8"]})]},
        {
            "rules": [
                rule(when=[{"key": "source.ip", "values": ["10.0.0.1"]}, {"key": "destination.port", "values": ["80"]}])
            ]
        },
    ],
)
def test_l4_only_authz_does_not_fire(spec: dict[str, Any]) -> None:
    a = run(SIDECAR_NS, APP_POD, authz("p", {**SELECT_API, **spec}))
    assert {"l7-authz-needs-waypoint", "selector-policy-l7"}.isdisjoint(codes(a, "shop"))


def test_selector_policy_l7_for_selector_bound_l7_authz_and_request_authn() -> None:
    l7 = {"rules": [rule(to={"methods": ["POST"]})]}
    a = run(
        SIDECAR_NS,
        APP_POD,
        authz("p", {**SELECT_API, **l7}),
        resource("RequestAuthentication", "shop", "jwt", {**SELECT_API, "jwtRules": [{"issuer": "x"}]}),
    )
    found = sorted((f.code, f.resource) for f in a.namespace("shop").findings if f.severity == "waypoint")  # type: ignore[union-attr]
    assert found == [
        ("l7-authz-needs-waypoint", "AuthorizationPolicy shop/p"),
        ("request-authn-needs-waypoint", "RequestAuthentication shop/jwt"),
        ("selector-policy-l7", "AuthorizationPolicy shop/p"),
        ("selector-policy-l7", "RequestAuthentication shop/jwt"),
    ]
    rebound = run(
        SIDECAR_NS,
        APP_POD,
        authz("p", {**TARGET_API, **l7}),
        resource("RequestAuthentication", "shop", "jwt", {**TARGET_API, "jwtRules": [{"issuer": "x"}]}),
    )
    assert "selector-policy-l7" not in codes(rebound, "shop")


def test_policies_bound_to_gateway_pods_or_ingress_gateways_do_not_concern_the_namespace() -> None:
    gateway_pod = pod(
        "shop", "gw-1", labels={"gateway.networking.k8s.io/gateway-name": "ingress"}, containers=[proxy("router")]
    )
    selects_gw = {"selector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "ingress"}}}
    targets_gw = {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "ingress"}]}
    a = run(
        SIDECAR_NS,
        APP_POD,
        gateway_pod,
        resource("RequestAuthentication", "shop", "ra-gw", {**selects_gw, "jwtRules": [{"issuer": "x"}]}),
        authz("ap-gw", {**targets_gw, "rules": [rule(to={"paths": ["/x"]})]}),
    )
    assert {"request-authn-needs-waypoint", "l7-authz-needs-waypoint", "selector-policy-l7"}.isdisjoint(
        codes(a, "shop")
    )


def test_root_namespace_l7_policies_apply_mesh_wide() -> None:
    a = run(SIDECAR_NS, APP_POD, authz("mesh-l7", {"rules": [rule(to={"methods": ["GET"]})]}, ns="istio-system"))
    assert "l7-authz-needs-waypoint" in codes(a, "shop")


def test_request_authn_needs_waypoint() -> None:
    a = run(SIDECAR_NS, APP_POD, resource("RequestAuthentication", "shop", "jwt", {"jwtRules": [{"issuer": "x"}]}))
    assert codes(a, "shop") == ["request-authn-needs-waypoint", "telemetry-detail-loss"]
    assert "request-authn-needs-waypoint" not in codes(run(SIDECAR_NS, APP_POD), "shop")


# --- VirtualService ---


@pytest.mark.parametrize(
    ("http", "feature"),
    [
        ({**ROUTE, "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 1}}}}, "fault injection"),
        ({**ROUTE, "mirror": {"host": "api-shadow"}}, "mirroring"),
        ({**ROUTE, "mirrors": [{"destination": {"host": "api-shadow"}}]}, "mirroring"),
        ({**ROUTE, "headers": {"request": {"set": {"x-env": "prod"}}}}, "header changes"),
        (
            {"route": [{"destination": {"host": "api"}, "headers": {"response": {"remove": ["server"]}}}]},
            "header changes",
        ),
        ({**ROUTE, "retries": {"attempts": 3, "perTryTimeout": "2s"}}, "retries"),
        (  # with the default route the test adds: a header-based canary
            {"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [{"destination": {"host": "api-v2"}}]},
            "traffic splitting",
        ),
        (
            {
                "route": [
                    {"destination": {"host": "api", "subset": "v1"}, "weight": 90},
                    {"destination": {"host": "api", "subset": "v2"}, "weight": 10},
                ]
            },
            "traffic splitting, subset routing",
        ),
        (  # all traffic pinned to one version: without Envoy every pod behind the Service gets traffic
            {
                "route": [
                    {"destination": {"host": "api", "subset": "v1"}, "weight": 100},
                    {"destination": {"host": "api", "subset": "v2"}, "weight": 0},
                ]
            },
            "subset routing",
        ),
    ],
)
def test_l7_traffic_features_fire(http: dict[str, Any], feature: str) -> None:
    a = run(SIDECAR_NS, APP_POD, vs("api", http=[http, ROUTE]))
    [finding] = [f for f in a.namespace("shop").findings if f.code == "l7-traffic-needs-waypoint"]  # type: ignore[union-attr]
    assert finding.detail == feature


@pytest.mark.parametrize(
    "body",
    [
        {"http": [ROUTE]},
        {"http": [{"match": [{"uri": {"prefix": "/v1"}}], **ROUTE}, ROUTE]},  # matched, but one destination
        {"http": [{"match": [{"port": 8080}], "route": [{"destination": {"host": "b"}}]}, ROUTE]},  # port is L4
        {"http": [{**ROUTE, "retries": {"attempts": 0}}]},
        {"http": [{**ROUTE, "fault": {"delay": {"fixedDelay": "1s"}}}], "gateways": ["istio-system/public"]},
        {
            "tcp": [
                {
                    "route": [
                        {"destination": {"host": "api"}, "weight": 50},
                        {"destination": {"host": "b"}, "weight": 50},
                    ]
                }
            ]
        },
    ],
)
def test_l7_traffic_near_misses(body: dict[str, Any]) -> None:
    a = run(SIDECAR_NS, APP_POD, vs("api", **body))
    assert "l7-traffic-needs-waypoint" not in codes(a, "shop")


def test_mesh_gateway_keyword_counts_as_mesh_traffic() -> None:
    body = {"http": [{**ROUTE, "mirror": {"host": "x"}}], "gateways": ["istio-system/public", "mesh"]}
    assert "l7-traffic-needs-waypoint" in codes(run(SIDECAR_NS, APP_POD, vs("api", **body)), "shop")


# --- ambient without a waypoint ---


def test_ambient_l7_without_waypoint_fires_only_when_nothing_serves_the_target() -> None:
    policy = authz("p", {**TARGET_API, "rules": [rule(to={"methods": ["GET"]})]})
    api = pod("shop", "api-1", app="api", ambient="enabled")
    bare = run(AMBIENT_NS, api, service("shop", "api"), policy)
    assert codes(bare, "shop") == ["ambient-l7-without-waypoint", "l7-authz-needs-waypoint"]
    served = run(
        AMBIENT_NS, api, service("shop", "api", **{"istio.io/use-waypoint": "waypoint"}), waypoint("shop"), policy
    )
    assert codes(served, "shop") == ["l7-authz-needs-waypoint"]
    sidecar = run(SIDECAR_NS, APP_POD, service("shop", "api"), policy)
    assert "ambient-l7-without-waypoint" not in codes(sidecar, "shop")


def test_ambient_selector_bound_l7_is_never_served_by_a_waypoint() -> None:
    ns = namespace("shop", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    policy = authz("p", {**SELECT_API, "rules": [rule(to={"methods": ["GET"]})]})
    a = run(ns, waypoint("shop"), pod("shop", "api-1", app="api", ambient="enabled"), policy)
    assert "ambient-l7-without-waypoint" in codes(a, "shop")


# --- pods ---


def test_hostnetwork_pod_grouped_by_workload() -> None:
    pods = [
        pod("shop", f"exporter-{i}", app="exporter", host_network=True, owner=("DaemonSet", "exporter"))
        for i in range(3)
    ]
    a = run(SIDECAR_NS, *pods, APP_POD)
    [finding] = [f for f in a.namespace("shop").findings if f.code == "hostnetwork-pod"]  # type: ignore[union-attr]
    assert (finding.resource, finding.count) == ("DaemonSet shop/exporter", 3)
    assert "hostnetwork-pod" not in codes(run(SIDECAR_NS, APP_POD), "shop")
    system = run(namespace("kube-system"), pod("kube-system", "kube-proxy-1", host_network=True))
    assert system.namespace("kube-system").findings == []  # type: ignore[union-attr]  # system namespaces are not prechecked


def test_init_container_networking_for_app_init_containers_only() -> None:
    app_init = pod("shop", "api-1", app="api", sidecar=True, init=[container("wait-for-db")])
    a = run(SIDECAR_NS, app_init)
    [finding] = [f for f in a.namespace("shop").findings if f.code == "init-container-networking"]  # type: ignore[union-attr]
    assert finding.detail == "wait-for-db"
    native = proxy()
    native["restartPolicy"] = "Always"
    istio_only = pod("shop", "api-2", app="api", init=[container("istio-init"), container("istio-validation"), native])
    assert "init-container-networking" not in codes(run(SIDECAR_NS, APP_POD, istio_only), "shop")


def test_mixed_mode_namespace() -> None:
    mixed = namespace("shop", **{"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"})
    app = pod("shop", "api-1", app="api", sidecar=True)
    assert "mixed-mode-namespace" in codes(run(mixed, app), "shop")
    fine = namespace("shop", **{"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"})
    assert "mixed-mode-namespace" not in codes(run(fine, app), "shop")
    assert codes(run(mixed), "shop") == []  # no workloads: nothing to break, no findings


def test_strict_with_unmeshed_pods() -> None:
    strict = peer_auth("shop", "default", "STRICT")
    plain = pod("shop", "legacy-1", app="legacy", owner=("ReplicaSet", "legacy-5f6d"))
    a = run(SIDECAR_NS, APP_POD, plain, strict)
    [finding] = [f for f in a.namespace("shop").findings if f.code == "strict-with-unmeshed-pods"]  # type: ignore[union-attr]
    assert (finding.resource, finding.count, finding.detail) == ("PeerAuthentication shop/default", 1, "shop/legacy")
    assert "strict-with-unmeshed-pods" not in codes(run(SIDECAR_NS, APP_POD, strict), "shop")  # all meshed
    assert "strict-with-unmeshed-pods" not in codes(
        run(SIDECAR_NS, plain, peer_auth("shop", "d", "PERMISSIVE")), "shop"
    )
    done = pod("shop", "job-1", phase="Succeeded")
    assert "strict-with-unmeshed-pods" not in codes(run(SIDECAR_NS, APP_POD, done, strict), "shop")
    ambient = run(AMBIENT_NS, pod("shop", "a-1", ambient="enabled"), strict)
    assert "strict-with-unmeshed-pods" not in codes(ambient, "shop")  # ztunnel is the proxy
    port_only = peer_auth("shop", "legacy", "PERMISSIVE", selector={"app": "legacy"}, ports={8080: "STRICT"})
    [by_port] = [
        f
        for f in run(SIDECAR_NS, plain, port_only).namespace("shop").findings  # type: ignore[union-attr]
        if f.code == "strict-with-unmeshed-pods"
    ]
    assert by_port.resource == "PeerAuthentication shop/legacy"


def test_waypoint_without_l7_need() -> None:
    ns = namespace("shop", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    api = pod("shop", "api-1", app="api", ambient="enabled")
    idle = run(ns, waypoint("shop"), api, service("shop", "api"))
    [finding] = [f for f in idle.namespace("shop").findings if f.code == "waypoint-without-l7-need"]  # type: ignore[union-attr]
    assert finding.resource == "Gateway shop/waypoint"
    needed = run(
        ns,
        waypoint("shop"),
        api,
        service("shop", "api"),
        authz("p", {**TARGET_API, "rules": [rule(to={"methods": ["GET"]})]}),
    )
    assert "waypoint-without-l7-need" not in codes(needed, "shop")
    wasm = resource(
        "WasmPlugin",
        "shop",
        "auth",
        {
            "targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}],
            "url": "oci://x",
        },
    )
    assert "waypoint-without-l7-need" not in codes(run(ns, waypoint("shop"), api, wasm), "shop")


def test_cross_namespace_waypoint_need_is_found_in_the_namespaces_it_serves() -> None:
    user = namespace(
        "shop",
        **{
            "istio.io/dataplane-mode": "ambient",
            "istio.io/use-waypoint": "edge",
            "istio.io/use-waypoint-namespace": "infra",
        },
    )
    a = run(
        user,
        namespace("infra"),
        waypoint("infra", "edge", allowed_from="All"),  # Gateway API's default admits the same namespace only
        pod("shop", "api-1", app="api", ambient="enabled"),
        service("shop", "api"),
        resource(
            "RequestAuthentication",
            "shop",
            "jwt",
            {"targetRefs": [{"kind": "Service", "group": "", "name": "api"}], "jwtRules": [{"issuer": "x"}]},
        ),
    )
    assert "waypoint-without-l7-need" not in codes(a, "infra")
    assert codes(a, "shop") == ["request-authn-needs-waypoint"]  # served by infra/edge: no blocker


def test_sidecar_resource_ignored() -> None:
    sidecar = resource("Sidecar", "shop", "default", {"egress": [{"hosts": ["./*"]}]})
    app = pod("shop", "a-1", app="a", ambient="enabled")
    assert "sidecar-resource-ignored" in codes(run(AMBIENT_NS, app, sidecar), "shop")
    elsewhere = resource("Sidecar", "other", "default", {"egress": [{"hosts": ["./*"]}]})
    assert "sidecar-resource-ignored" not in codes(run(AMBIENT_NS, app, namespace("other"), elsewhere), "shop")


def test_telemetry_detail_loss_for_sidecar_namespaces_only() -> None:
    assert "telemetry-detail-loss" in codes(run(SIDECAR_NS, APP_POD), "shop")
    assert "telemetry-detail-loss" not in codes(run(AMBIENT_NS, pod("shop", "a", ambient="enabled")), "shop")
    assert "telemetry-detail-loss" not in codes(run(namespace("shop"), pod("shop", "a")), "shop")


# --- texts ---


def test_every_code_has_a_knowledge_text_with_the_same_severity() -> None:
    kb = default_kb()
    assert set(kb.findings) == set(SEVERITY)
    assert {code: text.severity for code, text in kb.findings.items()} == SEVERITY


def test_messages_are_filled_in_both_languages() -> None:
    a = run(SIDECAR_NS, APP_POD, lua_filter("shop"), istiod("1.20.1"), node("n1", "4.19.0"))
    kb = default_kb()
    for finding in [*a.cluster_findings, *a.namespace("shop").findings]:  # type: ignore[union-attr]
        for language in ("en", "ko"):
            title, message, kb_id = render(finding, kb, language)  # type: ignore[arg-type]
            assert "{" not in message and title and kb_id in kb.entries
            if finding.code == "istio-version-too-old":
                assert "1.20.1" in message and "1.22" in message
            elif finding.code not in ("telemetry-detail-loss", "mixed-mode-namespace"):
                assert finding.resource in message


def test_gateway_api_mesh_routes_count_as_a_waypoint_need() -> None:
    from snapshot_helpers import build

    from cluster.analysis import Options, analyze
    from cluster.snapshot import Meta, Resource

    ns = namespace("shop", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    snap = build(ns, waypoint("shop"), pod("shop", "api-1", app="api", ambient="enabled"), service("shop", "api"))
    assert "waypoint-without-l7-need" in codes(analyze(snap, Options()), "shop")
    route = Resource(
        "HTTPRoute",
        "gateway.networking.k8s.io",
        Meta("api-split", "shop", {}, {}, ""),
        {"parentRefs": [{"group": "", "kind": "Service", "name": "api"}], "rules": [{}]},
    )
    snap.resources["HTTPRoute"] = [route]  # the reader lists HTTPRoutes only once kinds.py names them
    assert "waypoint-without-l7-need" not in codes(analyze(snap, Options()), "shop")


def test_virtual_service_served_through_its_host_service() -> None:
    fault = {"http": [{**ROUTE, "fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 5}}}}]}
    fqdn = resource("VirtualService", "shop", "api", {"hosts": ["api.shop.svc.cluster.local"], **fault})
    api = pod("shop", "api-1", app="api", ambient="enabled")
    served = run(
        AMBIENT_NS, api, waypoint("shop"), service("shop", "api", **{"istio.io/use-waypoint": "waypoint"}), fqdn
    )
    assert codes(served, "shop") == ["l7-traffic-needs-waypoint"]
    unserved = run(AMBIENT_NS, api, waypoint("shop"), service("shop", "api"), fqdn)
    assert "ambient-l7-without-waypoint" in codes(unserved, "shop")


def test_a_waypoint_serving_a_mesh_http_route_is_needed() -> None:
    ns = namespace("shop", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    api = pod("shop", "api-1", app="api", ambient="enabled")
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "api-canary", "namespace": "shop"},
        "spec": {
            "parentRefs": [{"group": "", "kind": "Service", "name": "api"}],
            "rules": [{"backendRefs": [{"name": "api-v1", "weight": 90}, {"name": "api-v2", "weight": 10}]}],
        },
    }
    assert "waypoint-without-l7-need" in codes(run(ns, waypoint("shop"), api, service("shop", "api")), "shop")
    assert "waypoint-without-l7-need" not in codes(
        run(ns, waypoint("shop"), api, service("shop", "api"), route), "shop"
    )


AMBIENT_WITH_WAYPOINT = {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}


def test_a_policy_bound_by_neither_selector_nor_target_refs_is_not_served_by_the_waypoint() -> None:
    """Waypoints attach only policies that name them with targetRefs; the rest stays on ztunnel."""
    ns = namespace("shop", **AMBIENT_WITH_WAYPOINT)
    api = pod("shop", "api-1", app="api", ambient="enabled")
    namespace_wide = authz("p", {"rules": [rule(to={"methods": ["GET"]})]})
    a = run(ns, waypoint("shop"), api, service("shop", "api"), namespace_wide)
    assert "ambient-l7-without-waypoint" in codes(a, "shop")
    targeted = authz("p", {**TARGET_API, "rules": [rule(to={"methods": ["GET"]})]})
    served = run(ns, waypoint("shop"), api, service("shop", "api"), targeted)
    assert "ambient-l7-without-waypoint" not in codes(served, "shop")


def test_a_root_policy_for_every_waypoint_is_served_where_a_waypoint_runs() -> None:
    spec = {
        "targetRefs": [{"kind": "GatewayClass", "group": "gateway.networking.k8s.io", "name": "istio-waypoint"}],
        "rules": [rule(to={"methods": ["GET"]})],
    }
    mesh_wide = resource("AuthorizationPolicy", "istio-system", "all-waypoints", spec)
    api = pod("shop", "api-1", app="api", ambient="enabled")
    served = run(namespace("shop", **AMBIENT_WITH_WAYPOINT), waypoint("shop"), api, service("shop", "api"), mesh_wide)
    assert "ambient-l7-without-waypoint" not in codes(served, "shop")
    without = run(namespace("shop", **{"istio.io/dataplane-mode": "ambient"}), api, mesh_wide)
    assert "ambient-l7-without-waypoint" in codes(without, "shop")


@pytest.mark.parametrize(
    "feature", [{"timeout": "5s"}, {"rewrite": {"uri": "/v2"}}, {"corsPolicy": {"allowOrigins": [{"exact": "x"}]}}]
)
def test_every_http_route_feature_needs_a_waypoint(feature: dict[str, Any]) -> None:
    vs = resource("VirtualService", "shop", "api", {"hosts": ["api"], "http": [{**ROUTE, **feature}]})
    assert "l7-traffic-needs-waypoint" in codes(run(SIDECAR_NS, APP_POD, vs), "shop")


def test_a_disable_policy_that_an_older_policy_overrides_is_not_reported() -> None:
    selector = {"selector": {"matchLabels": {"app": "api"}}}
    older = resource(
        "PeerAuthentication",
        "shop",
        "a-old",
        {**selector, "mtls": {"mode": "PERMISSIVE"}},
        created="2024-01-01T00:00:00Z",
    )
    newer = resource(
        "PeerAuthentication", "shop", "b-new", {**selector, "mtls": {"mode": "DISABLE"}}, created="2025-01-01T00:00:00Z"
    )
    assert "mtls-disable-unsupported" not in codes(run(SIDECAR_NS, APP_POD, older, newer), "shop")
    assert "mtls-disable-unsupported" in codes(run(SIDECAR_NS, APP_POD, newer), "shop")


def test_the_plan_binds_namespace_wide_l7_policies_with_target_refs() -> None:
    from cluster.analysis.plan import plan as build_plan

    namespace_wide = authz("read-only", {"rules": [rule(to={"methods": ["GET"]})]})
    a = run(SIDECAR_NS, APP_POD, service("shop", "api"), namespace_wide)
    shop = a.namespace("shop")
    assert shop is not None
    commands = [c for step in build_plan(a, shop).steps for c in step.commands]
    assert any(
        c.startswith("kubectl edit authorizationpolicy read-only -n shop") and "targetRefs" in c for c in commands
    )
