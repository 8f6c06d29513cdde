"""Build Snapshots for the analysis tests from small Kubernetes objects, through the real SnapshotBuilder."""

from __future__ import annotations

import json
from typing import Any

import yaml

from cluster.analysis import Analysis, Options, analyze
from cluster.snapshot import Snapshot, SnapshotBuilder

Obj = dict[str, Any]
PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.2"
SIDECAR_STATUS = json.dumps({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "revision": "default"})


def build(*objects: Obj | str) -> Snapshot:
    """Objects as dicts or YAML text (multi-document, `kind: List` unwrapped)."""
    builder = SnapshotBuilder(source="test")
    for obj in objects:
        docs = list(yaml.safe_load_all(obj)) if isinstance(obj, str) else [obj]
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            for item in doc.get("items", []) if doc.get("kind") == "List" else [doc]:
                builder.add(item)
    return builder.build()


def run(*objects: Obj | str, **options: Any) -> Analysis:
    return analyze(build(*objects), Options(**options))


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def container(name: str, *, cpu: str | None = None, memory: str | None = None, **extra: Any) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": name, "image": f"registry.example.com/{name}:1.0", "resources": {"requests": requests}, **extra}


def proxy(role: str = "sidecar", *, cpu: str | None = "100m", memory: str | None = "128Mi", **extra: Any) -> Obj:
    c = container("istio-proxy", cpu=cpu, memory=memory, **extra)
    c["image"] = PROXY_IMAGE
    c["args"] = ["proxy", role, "--domain", "$(POD_NAMESPACE).svc.cluster.local"]
    return c


def pod(
    ns: str,
    name: str,
    *,
    app: str | None = None,
    sidecar: bool = False,
    ambient: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    init: list[Obj] | None = None,
    host_network: bool = False,
    owner: tuple[str, str] | None = None,
    node: str = "node-1",
    phase: str = "Running",
) -> Obj:
    """A pod as it looks after injection (`sidecar`) or ambient enrollment (`ambient="enabled"`)."""
    app = app or name
    meta_labels = {"app": app, **(labels or {})}
    meta_annotations = dict(annotations or {})
    spec_containers = list(containers or [container(app)])
    init_containers = list(init or [])
    if sidecar:
        meta_labels.update({"security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": app})
        meta_annotations["sidecar.istio.io/status"] = SIDECAR_STATUS
        init_containers.insert(0, container("istio-init", args=["istio-iptables", "-p", "15001"]))
        spec_containers.append(proxy())
    if ambient:
        meta_annotations["ambient.istio.io/redirection"] = ambient
    metadata: Obj = {"name": name, "namespace": ns, "labels": meta_labels, "annotations": meta_annotations}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
        if owner[0] == "ReplicaSet":
            meta_labels["pod-template-hash"] = owner[1].rsplit("-", 1)[1]
    spec: Obj = {"containers": spec_containers, "nodeName": node}
    if init_containers:
        spec["initContainers"] = init_containers
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": {"phase": phase}}


def resource(
    kind: str,
    ns: str,
    name: str,
    spec: Obj,
    *,
    created: str = "2025-01-01T00:00:00Z",
    labels: dict[str, str] | None = None,
    status: Obj | None = None,
) -> Obj:
    groups = {
        "PeerAuthentication": "security.istio.io/v1",
        "AuthorizationPolicy": "security.istio.io/v1",
        "RequestAuthentication": "security.istio.io/v1",
        "EnvoyFilter": "networking.istio.io/v1alpha3",
        "Sidecar": "networking.istio.io/v1",
        "VirtualService": "networking.istio.io/v1",
        "DestinationRule": "networking.istio.io/v1",
        "WasmPlugin": "extensions.istio.io/v1alpha1",
        "Telemetry": "telemetry.istio.io/v1",
        "Gateway": "gateway.networking.k8s.io/v1",
        "GatewayClass": "gateway.networking.k8s.io/v1",
        "HTTPRoute": "gateway.networking.k8s.io/v1",
        "GRPCRoute": "gateway.networking.k8s.io/v1",
        "WorkloadEntry": "networking.istio.io/v1",
        "WorkloadGroup": "networking.istio.io/v1",
    }
    metadata: Obj = {"name": name, "namespace": ns, "creationTimestamp": created, "labels": labels or {}}
    obj: Obj = {"apiVersion": groups[kind], "kind": kind, "metadata": metadata, "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def peer_auth(ns: str, name: str, mode: str | None = None, *, selector: dict[str, str] | None = None, **kw: Any) -> Obj:
    spec: Obj = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if "ports" in kw:
        spec["portLevelMtls"] = {str(p): {"mode": m} for p, m in kw.pop("ports").items()}
    return resource("PeerAuthentication", ns, name, spec, **kw)


def waypoint(
    ns: str,
    name: str = "waypoint",
    serves: str | None = None,
    *,
    programmed: bool = True,
    allowed_from: str | None = None,
    allowed_selector: dict[str, str] | None = None,
) -> Obj:
    """A waypoint Gateway; `programmed` gives it the status istiod's gateway controller writes once its pod is ready."""
    labels = {"istio.io/waypoint-for": serves} if serves else {}
    listener: Obj = {"name": "mesh", "port": 15008, "protocol": "HBONE"}
    if allowed_from:
        namespaces: Obj = {"from": allowed_from}
        if allowed_selector:
            namespaces["selector"] = {"matchLabels": allowed_selector}
        listener["allowedRoutes"] = {"namespaces": namespaces}
    spec = {"gatewayClassName": "istio-waypoint", "listeners": [listener]}
    status = (
        {
            "addresses": [{"type": "Hostname", "value": f"{name}.{ns}.svc.cluster.local"}],
            "conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed"}],
        }
        if programmed
        else {"conditions": [{"type": "Programmed", "status": "False", "reason": "NoResources"}]}
    )
    return resource("Gateway", ns, name, spec, labels=labels, status=status)


def service(ns: str, name: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"selector": {"app": name}, "ports": [{"port": 8080}]},
    }


def workload(
    kind: str,
    ns: str,
    name: str,
    containers: list[Obj],
    *,
    labels: dict[str, str] | None = None,
    env: list[Obj] | None = None,
) -> Obj:
    if env:
        containers = [{**containers[0], "env": env}, *containers[1:]]
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": {"containers": containers}}},
    }


def istiod(version: str, ns: str = "istio-system") -> Obj:
    c = {"name": "discovery", "image": f"docker.io/istio/pilot:{version}"}
    return workload("Deployment", ns, "istiod", [c], labels={"app": "istiod", "istio": "pilot"})


def node(name: str, kernel: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"nodeInfo": {"kernelVersion": kernel}},
    }


def codes(analysis: Analysis, ns: str) -> list[str]:
    view = analysis.namespace(ns)
    assert view is not None, f"namespace {ns} not analysed"
    return sorted(f.code for f in view.findings)
