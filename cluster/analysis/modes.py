"""Data-plane mode of namespaces and pods, per Istio's own rules (DESIGN.md, ISTIO-FACTS.md)."""

from __future__ import annotations

from typing import Literal

from cluster.analysis import labels as L
from cluster.snapshot import Pod

NamespaceMode = Literal["ambient", "sidecar", "mixed", "none"]
PodMode = Literal["sidecar", "ambient", "none"]
PodRole = Literal["workload", "gateway", "control-plane"]

TERMINATED_PHASES = frozenset({"Succeeded", "Failed"})


def sidecar_labels(labels: dict[str, str]) -> bool:
    """Namespace labels that make the injection webhook add sidecars."""
    injection = labels.get(L.INJECTION)
    if injection == "enabled":
        return True
    # `istio-injection=disabled` blocks injection entirely, even with a revision label.
    return bool(labels.get(L.REVISION)) and injection != "disabled"


def namespace_mode(labels: dict[str, str]) -> NamespaceMode:
    ambient = labels.get(L.DATAPLANE_MODE) == "ambient"
    sidecar = sidecar_labels(labels)
    if ambient and sidecar:
        return "mixed"  # Istio lets the sidecar labels win; reported so that someone picks one.
    if ambient:
        return "ambient"
    return "sidecar" if sidecar else "none"


def has_sidecar(pod: Pod) -> bool:
    if L.SIDECAR_STATUS in pod.meta.annotations:
        return True
    if any(c.name == L.PROXY_CONTAINER for c in pod.containers):
        return True
    # Native sidecar (Kubernetes 1.29+): istio-proxy as an init container that keeps running.
    return any(c.name == L.PROXY_CONTAINER and c.restart_policy == "Always" for c in pod.init_containers)


def pod_mode(pod: Pod) -> PodMode:
    if has_sidecar(pod):
        return "sidecar"  # pods with a sidecar are never enrolled in ambient
    if pod.host_network or pod.meta.labels.get(L.DATAPLANE_MODE) == "none":
        return "none"
    # "pending" (Istio 1.26+): istio-cni enrolled the pod, ztunnel has not confirmed yet.
    return "ambient" if pod.meta.annotations.get(L.REDIRECTION) in ("enabled", "pending") else "none"


def redirection_pending(pod: Pod) -> bool:
    return pod_mode(pod) == "ambient" and pod.meta.annotations.get(L.REDIRECTION) == "pending"


def proxy_args(pod: Pod) -> tuple[str, ...]:
    for c in pod.containers:
        if c.name == L.PROXY_CONTAINER:
            return c.args
    return ()


def pod_role(pod: Pod) -> PodRole:
    """Gateways, waypoints and the control plane are mesh infrastructure, counted apart from workloads."""
    labels = pod.meta.labels
    if L.GATEWAY_NAME in labels or "router" in proxy_args(pod):
        return "gateway"
    if labels.get("istio") in ("ingressgateway", "egressgateway", "eastwestgateway"):
        return "gateway"
    apps = {labels.get("app"), labels.get("k8s-app"), labels.get("app.kubernetes.io/name")}
    if apps & L.CONTROL_PLANE_APPS or labels.get("istio") == "pilot":
        return "control-plane"
    return "workload"


def is_running(pod: Pod) -> bool:
    """Completed Job pods neither carry traffic nor move to ambient."""
    return pod.phase not in TERMINATED_PHASES


def workload_of(pod: Pod) -> tuple[str, str]:
    """The controller a person restarts: (kind, name), a ReplicaSet resolved to its Deployment."""
    kind, _, name = pod.owner.partition("/")
    if not kind:
        return "Pod", pod.meta.name
    if kind == "ReplicaSet":
        suffix = pod.meta.labels.get(L.POD_TEMPLATE_HASH)
        if suffix and name.endswith(f"-{suffix}"):
            return "Deployment", name[: -len(suffix) - 1]
        return "ReplicaSet", name
    return kind, name


def app_init_containers(pod: Pod) -> list[str]:
    """Init containers the application added (not Istio's own, not native sidecars that keep running)."""
    return [
        c.name for c in pod.init_containers if c.name not in L.ISTIO_INIT_CONTAINERS and c.restart_policy != "Always"
    ]
