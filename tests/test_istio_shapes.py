"""Istio-shaped manifests (tests/fixtures/istio, and PeerAuthentication cases built here) load and analyse as
Istio derives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.dump import read_dump
from handlers import Context, run_text
from knowledge import default as default_kb

FIXTURES = Path(__file__).with_name("fixtures") / "istio"
FILES = sorted(FIXTURES.glob("*.yaml"))
S, P, U = "STRICT", "PERMISSIVE", "UNSET"


def peer_authentication(name: str, namespace: str, mode: str | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(spec)
    if mode:
        body["mtls"] = {"mode": mode}
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def workload(mode: str | None, ports: dict[int, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "a"}}}
    if ports:
        spec["portLevelMtls"] = {port: {"mode": m} for port, m in ports.items()}
    return peer_authentication("workload", "foo", mode, **spec)


# (root mode, namespace mode, workload mode, workload ports) -> (mesh, namespace foo, workload app=a, its ports),
# as istiod derives them (pilot/pkg/security/authn/policy_applier.go): the default is PERMISSIVE; a level overrides
# its parent only when its mode is set; an UNSET port inherits the workload's mode; None means no policy there.
PEER_AUTHN_CASES = {
    "permissive-root-permissive-ns-strict-ports": ((P, P, None, {8080: S, 9090: S}), (P, P, P, {"8080": S, "9090": S})),
    "permissive-root-permissive-workload": ((P, None, P, {9090: P}), (P, P, P, {"9090": P})),
    "permissive-root-strict-ns-permissive-port": ((P, S, None, {9090: P}), (P, S, S, {"9090": P})),
    "permissive-root-unset-ns-mixed-ports": ((P, U, None, {8080: U, 9090: S}), (P, P, P, {"8080": P, "9090": S})),
    "strict-root-permissive-ns-strict-port": ((S, P, None, {9090: S}), (S, P, P, {"9090": S})),
    "strict-root-unset-workload-mixed-ports": ((S, None, U, {8080: S, 9090: P}), (S, S, S, {"8080": S, "9090": P})),
}  # fmt: skip


def write_case(
    tmp_path: Path, root: str | None, namespace: str | None, workload_mode: str | None, ports: dict[int, str]
) -> Path:
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo"}}]
    if root:
        docs.append(peer_authentication("default-mesh", "istio-system", root))
    if namespace:
        docs.append(peer_authentication("default-foo", "foo", namespace))
    docs.append(workload(workload_mode, ports))
    path = tmp_path / "peer-authn.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return path


def context(path: Path) -> Context:
    return Context(kb=default_kb(), read_cluster=lambda: read_dump(path))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_fixture_analyses_without_a_crash(path: Path) -> None:
    ctx = context(path)
    for command in ("status", "mtls", "precheck", "savings"):
        reply = run_text(command, [], ctx)
        assert not reply.error, reply.sections
        assert reply.data


@pytest.mark.parametrize("case", sorted(PEER_AUTHN_CASES))
def test_peer_authentication_precedence_matches_istio(case: str, tmp_path: Path) -> None:
    (root, namespace, workload_mode, ports), (mesh, foo_mode, workload_expected, ports_expected) = PEER_AUTHN_CASES[
        case
    ]
    data = run_text("mtls", [], context(write_case(tmp_path, root, namespace, workload_mode, ports))).data
    assert data["mesh"]["mode"] == mesh
    foo = next(n for n in data["namespaces"] if n["name"] == "foo")
    assert foo["mode"] == foo_mode
    [selected] = [w for w in foo["workloads"] if w["name"] == "app=a"]
    assert (selected["mode"], selected["ports"]) == (workload_expected, ports_expected)


def test_injection_labels_and_pod_modes() -> None:
    data = run_text("status", [], context(FIXTURES / "injection.yaml")).data
    namespaces = {n["name"]: n for n in data["namespaces"]}
    modes = {name: n["mode"] for name, n in namespaces.items()}
    assert modes == {
        "shop": "sidecar",
        "canary": "sidecar",
        "pinned-off": "none",
        "both": "mixed",
        "mesh-ambient": "ambient",
        "plain": "none",
    }
    # the ingress gateway is infrastructure; the opted-out and not-yet-restarted pods have no proxy
    assert namespaces["shop"]["pods"] == {"sidecar": 1, "ambient": 0, "none": 2}
    assert namespaces["canary"]["pods"] == {"sidecar": 1, "ambient": 0, "none": 0}  # native sidecar
    assert namespaces["mesh-ambient"]["pods"] == {"sidecar": 0, "ambient": 1, "none": 1}  # hostNetwork stays out


def test_policies_on_a_gateway_only_need_nothing_before_the_move() -> None:
    data = run_text("precheck", [], context(FIXTURES / "gateway-selector.yaml")).data
    [edge] = [n for n in data["namespaces"] if n["name"] == "edge"]
    assert [f["code"] for f in edge["findings"] if f["severity"] in ("blocker", "waypoint")] == []


def test_virtualservice_mirroring_needs_a_waypoint() -> None:
    data = run_text("precheck", [], context(FIXTURES / "virtualservice-mirror.yaml")).data
    [books] = [n for n in data["namespaces"] if n["name"] == "books"]
    flagged = [(f["code"], f["resource"]) for f in books["findings"] if f["code"] == "l7-traffic-needs-waypoint"]
    assert flagged == [("l7-traffic-needs-waypoint", "VirtualService books/reviews-shadow")]
    assert books["verdict"] == "needs-waypoint"
