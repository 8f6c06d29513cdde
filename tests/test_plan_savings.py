"""`plan`: real names in the exact commands; `savings`: requests where set, documented defaults otherwise."""

from __future__ import annotations

import pytest
from snapshot_helpers import (
    container,
    namespace,
    pod,
    proxy,
    resource,
    run,
    waypoint,
    workload,
)

from cluster.analysis.plan import plan
from cluster.analysis.savings import HELM_WAYPOINT, HELM_ZTUNNEL, SEED_SIDECAR, cpu_m, memory_mib, savings

ZTUNNEL = workload(
    "DaemonSet", "istio-system", "ztunnel", [proxy("ztunnel", cpu="200m", memory="512Mi")], labels={"app": "ztunnel"}
)


def _orders(**ns_labels: str) -> list[object]:
    return [
        namespace("orders", **ns_labels),
        ZTUNNEL,
        pod("orders", "api-7c9f-a", app="api", sidecar=True, owner=("ReplicaSet", "api-7c9f")),
        pod("orders", "api-7c9f-b", app="api", sidecar=True, owner=("ReplicaSet", "api-7c9f")),
        pod("orders", "db-0", app="db", sidecar=True, owner=("StatefulSet", "db")),
        pod("orders", "debug", sidecar=True),
        pod("orders", "cron-1", app="cron", owner=("ReplicaSet", "cron-5d6f")),  # no sidecar: no restart needed
    ]


def _commands(p: object) -> list[str]:
    return [c for step in p.steps for c in step.commands]  # type: ignore[attr-defined]


def test_plan_for_a_revision_labelled_namespace() -> None:
    a = run(*_orders(**{"istio.io/rev": "1-24-2"}))
    p = plan(a, a.namespace("orders"))  # type: ignore[arg-type]
    commands = _commands(p)
    assert "kubectl label namespace orders istio.io/rev-" in commands
    assert not any("istio-injection-" in c for c in commands)  # the namespace never had it
    assert "kubectl label namespace orders istio.io/dataplane-mode=ambient" in commands
    restarts = [c for c in commands if c.startswith(("kubectl rollout restart", "kubectl delete pod"))]
    assert restarts == [
        "kubectl rollout restart deployment/api -n orders",
        "kubectl rollout restart statefulset/db -n orders",
        "kubectl delete pod debug -n orders",
    ]
    assert "istioctl analyze -n orders" in commands and "istioctl ztunnel-config workloads" in commands
    assert not any("waypoint apply" in c for c in commands)  # nothing needs L7
    assert p.rollback == [
        "kubectl label namespace orders istio.io/dataplane-mode-",
        "kubectl label namespace orders istio.io/rev=1-24-2 --overwrite",
        "kubectl rollout restart deployment/api -n orders",
        "kubectl rollout restart statefulset/db -n orders",
    ]


def test_plan_with_injection_label_l7_policy_and_blockers() -> None:
    policy = resource(
        "AuthorizationPolicy",
        "orders",
        "api-write",
        {"selector": {"matchLabels": {"app": "api"}}, "rules": [{"to": [{"operation": {"methods": ["POST"]}}]}]},
    )
    disable = resource("PeerAuthentication", "orders", "default", {"mtls": {"mode": "DISABLE"}})
    a = run(*_orders(**{"istio-injection": "enabled"}), policy, disable)
    p = plan(a, a.namespace("orders"))  # type: ignore[arg-type]
    commands = _commands(p)
    assert [f.code for f in p.fix_first] == ["mtls-disable-unsupported"]
    assert "kubectl get peerauthentication default -n orders -o yaml" in commands
    assert "istioctl waypoint apply -n orders --enroll-namespace --wait" in commands
    assert any(c.startswith("kubectl edit authorizationpolicy api-write -n orders") for c in commands)
    assert commands.index("istioctl waypoint apply -n orders --enroll-namespace --wait") < commands.index(
        "kubectl label namespace orders istio-injection-"
    )  # waypoint and rebinding before the switch
    assert "kubectl label namespace orders istio-injection=enabled --overwrite" in p.rollback
    assert "istioctl waypoint delete waypoint -n orders" in p.rollback


def test_plan_removes_pod_level_injection_labels() -> None:
    a = run(
        namespace("orders", **{"istio-injection": "enabled"}),
        ZTUNNEL,
        pod(
            "orders",
            "api-7c9f-a",
            app="api",
            sidecar=True,
            owner=("ReplicaSet", "api-7c9f"),
            labels={"sidecar.istio.io/inject": "true"},
        ),
    )
    commands = _commands(plan(a, a.namespace("orders")))  # type: ignore[arg-type]
    assert (
        "kubectl patch deployment api -n orders --type=json "
        '-p \'[{"op":"remove","path":"/spec/template/metadata/labels/sidecar.istio.io~1inject"}]\''
    ) in commands


def test_plan_for_a_namespace_without_mesh_and_missing_ambient_components() -> None:
    a = run(namespace("legacy"), pod("legacy", "erp-1"))
    p = plan(a, a.namespace("legacy"))  # type: ignore[arg-type]
    commands = _commands(p)
    assert "helm install ztunnel istio/ztunnel -n istio-system --wait" in commands
    assert not any(c.startswith(("kubectl rollout restart", "kubectl delete pod")) for c in commands)
    assert not any(c.endswith("-") and "label namespace" in c for c in commands)  # no label to remove
    assert p.rollback == ["kubectl label namespace legacy istio.io/dataplane-mode-"]


def test_plan_installs_gateway_api_crds_when_missing_before_a_waypoint() -> None:
    from snapshot_helpers import build

    from cluster.analysis import Options, analyze
    from cluster.analysis.plan import GATEWAY_API_CRDS

    snap = build(
        namespace("orders"),
        pod("orders", "api-1", app="api"),
        resource("RequestAuthentication", "orders", "jwt", {"jwtRules": [{"issuer": "x"}]}),
    )
    assert GATEWAY_API_CRDS not in _commands(plan(analyze(snap), analyze(snap).namespace("orders")))  # type: ignore[arg-type]
    snap.missing_kinds.append("Gateway")
    a = analyze(snap, Options())
    commands = _commands(plan(a, a.namespace("orders")))  # type: ignore[arg-type]
    assert commands.index(GATEWAY_API_CRDS) + 1 == commands.index(
        "istioctl waypoint apply -n orders --enroll-namespace --wait"
    )


def test_plan_for_an_ambient_namespace_needs_no_switch() -> None:
    a = run(
        namespace("catalog", **{"istio.io/dataplane-mode": "ambient"}), ZTUNNEL, pod("catalog", "a", ambient="enabled")
    )
    p = plan(a, a.namespace("catalog"))  # type: ignore[arg-type]
    assert [s.key for s in p.steps] == ["plan.step.prepare", "plan.step.already-ambient", "plan.step.verify"]
    assert p.rollback == []


@pytest.mark.parametrize(
    ("quantity", "cpu", "memory"),
    [
        ("100m", 100, None),
        ("0.5", 500, None),
        ("2", 2000, None),
        ("128Mi", None, 128),
        ("1Gi", None, 1024),
        ("134217728", None, 128),
        ("1G", None, 1e9 / 2**20),
        ("bogus", None, None),
    ],
)
def test_quantities(quantity: str, cpu: float | None, memory: float | None) -> None:
    if cpu is not None:
        assert cpu_m(quantity) == pytest.approx(cpu)
    if memory is not None:
        assert memory_mib(quantity) == pytest.approx(memory)
    if quantity == "bogus":
        assert cpu_m(quantity) is None and memory_mib(quantity) is None


def test_savings_reads_requests_and_falls_back_to_documented_figures() -> None:
    measured = pod(
        "shop",
        "a-1",
        containers=[container("a"), proxy(cpu="200m", memory="256Mi")],
        annotations={"sidecar.istio.io/status": "{}"},
        node="n1",
    )
    unmeasured = pod("shop", "b-1", containers=[container("b"), proxy(cpu=None, memory=None)], node="n2")
    a = run(
        namespace("shop", **{"istio-injection": "enabled"}),
        measured,
        unmeasured,
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}},
    )
    s = savings(a, list(a.namespaces.values()))
    assert (s.pods_with_sidecar, s.sidecar_from_requests, s.nodes) == (2, 1, 2)
    assert s.sidecar.memory_mib == pytest.approx(256 + SEED_SIDECAR[1])
    assert s.sidecar.cpu_m == pytest.approx(200 + SEED_SIDECAR[0])
    assert s.ztunnel_basis == "helm-default"  # no ztunnel DaemonSet in this snapshot
    assert s.ambient.memory_mib == pytest.approx(2 * HELM_ZTUNNEL[1])
    expected = round((256 + SEED_SIDECAR[1] - 2 * HELM_ZTUNNEL[1]) / (256 + SEED_SIDECAR[1]) * 100, 1)
    assert s.saving_percent == expected  # negative here: two ztunnels outweigh two sidecars, said honestly


def test_savings_counts_real_ztunnel_requests_and_waypoints() -> None:
    small_ztunnel = workload("DaemonSet", "istio-system", "ztunnel", [proxy("ztunnel", cpu="100m", memory="64Mi")])
    sidecars = [pod("shop", f"a-{i}", sidecar=True, node=f"n{i % 2}") for i in range(10)]
    wp_pod = pod(
        "mall",
        "waypoint-1",
        labels={"gateway.networking.k8s.io/gateway-name": "waypoint"},
        containers=[proxy("waypoint", cpu="50m", memory="100Mi")],
        node="n0",
    )
    l7 = resource("RequestAuthentication", "shop", "jwt", {"jwtRules": [{"issuer": "x"}]})
    a = run(
        namespace("shop", **{"istio-injection": "enabled"}),
        namespace("mall", **{"istio.io/use-waypoint": "waypoint"}),
        *sidecars,
        small_ztunnel,
        waypoint("mall"),
        wp_pod,
        l7,
    )
    s = savings(a, list(a.namespaces.values()))
    assert s.ztunnel_basis == "requests" and s.ztunnel_each == (100.0, 64.0)
    assert (s.nodes, s.waypoints, s.waypoints_new) == (2, 2, 1)  # mall's waypoint + one new for shop's JWT
    assert s.ambient.memory_mib == pytest.approx(2 * 64 + 100 + HELM_WAYPOINT[1])
    assert s.sidecar.memory_mib == pytest.approx(10 * 128)
    assert s.saving_percent == round((1280 - s.ambient.memory_mib) / 1280 * 100, 1)
    only_mall = savings(a, [a.namespace("mall")])  # type: ignore[list-item]
    assert (only_mall.pods_with_sidecar, only_mall.waypoints, only_mall.saving_percent) == (0, 1, 0.0)


def test_plan_restarts_sidecar_pods_left_in_an_ambient_namespace() -> None:
    a = run(
        namespace("catalog", **{"istio.io/dataplane-mode": "ambient"}),
        ZTUNNEL,
        pod("catalog", "web-6b7c-a", app="web", sidecar=True, owner=("ReplicaSet", "web-6b7c")),
    )
    p = plan(a, a.namespace("catalog"))  # type: ignore[arg-type]
    assert [s.key for s in p.steps] == [
        "plan.step.prepare",
        "plan.step.already-ambient",
        "plan.step.restart",
        "plan.step.verify",
    ]
    assert "kubectl rollout restart deployment/web -n catalog" in _commands(p)


def test_marginal_savings_count_what_already_runs_as_paid() -> None:
    """A cluster that already runs ztunnel everywhere and a waypoint: moving the sidecars only frees their requests
    (minus new waypoints); the from-scratch total still counts every ztunnel and waypoint."""
    ztunnel = workload("DaemonSet", "istio-system", "ztunnel", [proxy("ztunnel", cpu="200m", memory="512Mi")])
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}"}} for i in range(3)]
    sidecars = [pod("shop", f"a-{i}", sidecar=True, node=f"n{i % 3}") for i in range(4)]  # 4 x 128Mi / 100m
    a = run(
        namespace("shop", **{"istio-injection": "enabled"}),
        namespace("mall", **{"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}),
        waypoint("mall"),
        ztunnel,
        *nodes,
        *sidecars,
    )
    s = savings(a, list(a.namespaces.values()))
    assert s.ztunnel_running and s.waypoints_new == 0
    assert (s.marginal.memory_mib, s.marginal.cpu_m, s.marginal_percent) == (512.0, 400.0, 100.0)
    assert s.ambient.memory_mib == 3 * 512 + HELM_WAYPOINT[1]  # from scratch: every ztunnel and the waypoint
    assert s.saving_percent < 0  # which is what the old single figure said ("ambient costs more")
    no_ztunnel = run(namespace("shop", **{"istio-injection": "enabled"}), *nodes, *sidecars)
    fresh = savings(no_ztunnel, list(no_ztunnel.namespaces.values()))
    assert not fresh.ztunnel_running
    assert fresh.marginal.memory_mib == 4 * 128 - 3 * HELM_ZTUNNEL[1]  # installing ztunnel is part of the move
