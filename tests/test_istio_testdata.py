"""Istio's own test manifests (/work/shared/istio-testdata) load and analyse; PeerAuthentication cases match Istio."""

from __future__ import annotations

from pathlib import Path

import pytest

from cluster.dump import read_dump
from handlers import Context, run_text
from knowledge import default as default_kb
from tests.shared_paths import ISTIO_TESTDATA as TESTDATA

FILES = sorted(TESTDATA.glob("*.yaml"))
S, P = "STRICT", "PERMISSIVE"

# file -> (mesh, namespace foo, workload app=a, its ports), as istiod derives them (policy_applier.go):
# the name says root / namespace / workload; an UNSET level or port inherits from its parent.
PEER_AUTHN = {
    "peer-authn-permissive-root-permissive-namespace-strict-workload-ports-in.yaml": (P, P, P, {"8080": S, "9090": S}),
    "peer-authn-permissive-root-permissive-workload-in.yaml": (P, P, P, {"9090": P}),
    "peer-authn-permissive-root-strict-namespace-permissive-workload-in.yaml": (P, S, S, {"9090": P}),
    "peer-authn-permissive-root-unset-namespace-mixed-workload-ports-in.yaml": (P, P, P, {"8080": P, "9090": S}),
    "peer-authn-strict-root-permissive-namespace-strict-workload-in.yaml": (S, P, P, {"9090": S}),
    "peer-authn-strict-root-unset-workload-port-mtls-strict-and-permissive-in.yaml": (S, S, S, {"8080": S, "9090": P}),
}


def context(path: Path) -> Context:
    return Context(kb=default_kb(), read_cluster=lambda: read_dump(path))


def test_testdata_is_there() -> None:
    assert len(FILES) >= 10
    assert {p.name for p in FILES if p.name.startswith("peer-authn-")} == set(PEER_AUTHN)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_file_analyses_without_a_crash(path: Path) -> None:
    ctx = context(path)
    for command in ("status", "mtls", "precheck", "savings"):
        reply = run_text(command, [], ctx)
        assert not reply.error, reply.sections
        assert reply.data


@pytest.mark.parametrize("name", sorted(PEER_AUTHN))
def test_peer_authentication_precedence_matches_istio(name: str) -> None:
    mesh, namespace, workload, ports = PEER_AUTHN[name]
    data = run_text("mtls", [], context(TESTDATA / name)).data
    assert data["mesh"]["mode"] == mesh
    foo = next(n for n in data["namespaces"] if n["name"] == "foo")
    assert foo["mode"] == namespace
    [selected] = [w for w in foo["workloads"] if w["name"] == "app=a"]
    assert (selected["mode"], selected["ports"]) == (workload, ports)


APP_POD = """
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-1, namespace: default, labels: {app: reviews, version: v1}}
spec: {containers: [{name: reviews, image: reviews:1}]}
status: {phase: Running}
"""


def test_known_analyzer_cases(tmp_path: Path) -> None:
    injection = run_text("status", [], context(TESTDATA / "injection.yaml")).data
    modes = {n["name"]: n["mode"] for n in injection["namespaces"]}
    assert modes["default"] == "sidecar" and modes["ambient"] == "ambient" and modes["foo"] == "none"
    assert modes["canary-test"] == "sidecar" and modes["busted"] == "sidecar" and modes["multi-ns-2"] == "mixed"
    default = next(n for n in injection["namespaces"] if n["name"] == "default")
    assert default["pods"] == {"sidecar": 1, "ambient": 0, "none": 5}
    gateway = run_text("precheck", [], context(TESTDATA / "k8sgateway-selector.yaml")).data
    assert gateway["namespaces"][0]["findings"] == []  # policies selecting the gateway's pods only
    config_only = run_text("precheck", [], context(TESTDATA / "virtualservice_destinationrules.yaml")).data
    assert config_only["namespaces"][0]["findings"] == []  # no workload in the namespace: nothing to break
    (tmp_path / "config.yaml").write_text((TESTDATA / "virtualservice_destinationrules.yaml").read_text())
    (tmp_path / "pod.yaml").write_text(APP_POD)
    vs = run_text("precheck", [], context(tmp_path)).data
    assert sorted(f["resource"] for f in vs["namespaces"][0]["findings"] if f["code"] != "telemetry-detail-loss") == [
        "VirtualService default/reviews",  # routes to subset v1 only: without Envoy every version gets traffic
        "VirtualService default/reviews-bogussubset",
        "VirtualService default/reviews-fqdn",
        "VirtualService default/reviews-mirror",
        "VirtualService default/reviews-mirror-bogussubset",
    ]
