"""The label and annotation keys Istio uses to decide data-plane modes and waypoints."""

from __future__ import annotations

INJECTION = "istio-injection"
REVISION = "istio.io/rev"
DATAPLANE_MODE = "istio.io/dataplane-mode"
REDIRECTION = "ambient.istio.io/redirection"
SIDECAR_STATUS = "sidecar.istio.io/status"
SIDECAR_INJECT = "sidecar.istio.io/inject"
USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR = "istio.io/waypoint-for"
GATEWAY_NAME = "gateway.networking.k8s.io/gateway-name"
POD_TEMPLATE_HASH = "pod-template-hash"

WAYPOINT_CLASS = "istio-waypoint"
PROXY_CONTAINER = "istio-proxy"
# Init containers Istio itself adds: they are not the application's.
ISTIO_INIT_CONTAINERS = frozenset({"istio-init", "istio-validation", PROXY_CONTAINER})
# App labels of the Istio control plane and node agents (Helm charts and istioctl profiles).
CONTROL_PLANE_APPS = frozenset({"istiod", "ztunnel", "istio-cni-node", "istio-cni"})
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
