"""The kinds the cluster reader lists: one paginated cluster-wide list each, read-only.

The Helm chart's ClusterRole is checked against this table, so it is the single source of truth
for what meshbot may read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str  # "" for the core API
    versions: tuple[str, ...]  # preferred first; the live reader uses the first one the server serves
    plural: str
    istio: bool = False  # an Istio/Gateway CRD: absence is reported, not fatal
    verdicts: bool = True  # precheck verdicts depend on it: unread, they are `unknown` (Node: kernel warning only)


KINDS: tuple[Kind, ...] = (
    Kind("Namespace", "", ("v1",), "namespaces"),
    Kind("Node", "", ("v1",), "nodes", verdicts=False),
    Kind("Pod", "", ("v1",), "pods"),
    Kind("Service", "", ("v1",), "services"),
    Kind("Deployment", "apps", ("v1",), "deployments"),
    Kind("DaemonSet", "apps", ("v1",), "daemonsets"),
    # Ambient tunnels pod traffic over HBONE port 15008: ingress NetworkPolicies must admit it (networkpolicy.py).
    Kind("NetworkPolicy", "networking.k8s.io", ("v1",), "networkpolicies"),
    Kind("PeerAuthentication", "security.istio.io", ("v1", "v1beta1"), "peerauthentications", True),
    Kind("AuthorizationPolicy", "security.istio.io", ("v1", "v1beta1"), "authorizationpolicies", True),
    Kind("RequestAuthentication", "security.istio.io", ("v1", "v1beta1"), "requestauthentications", True),
    Kind("EnvoyFilter", "networking.istio.io", ("v1alpha3",), "envoyfilters", True),
    Kind("Sidecar", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars", True),
    Kind("VirtualService", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices", True),
    Kind("DestinationRule", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules", True),
    Kind("WasmPlugin", "extensions.istio.io", ("v1alpha1",), "wasmplugins", True),
    Kind("Telemetry", "telemetry.istio.io", ("v1", "v1alpha1"), "telemetries", True, verdicts=False),
    Kind("Gateway", "gateway.networking.k8s.io", ("v1", "v1beta1"), "gateways", True),
    # Mesh routes (parentRefs to a Service or a waypoint) are L7 work that a waypoint serves.
    Kind("HTTPRoute", "gateway.networking.k8s.io", ("v1", "v1beta1"), "httproutes", True),
    Kind("GRPCRoute", "gateway.networking.k8s.io", ("v1", "v1alpha2"), "grpcroutes", True),
    # A GatewayClass may carry istio.io/waypoint-for for all its waypoints (ambient/waypoints.go).
    Kind("GatewayClass", "gateway.networking.k8s.io", ("v1", "v1beta1"), "gatewayclasses", True),
    # VM workloads: ambient does not support them (unsupported-topology).
    Kind("WorkloadEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "workloadentries", True),
    Kind("WorkloadGroup", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "workloadgroups", True),
)

BY_KIND: dict[str, Kind] = {k.kind: k for k in KINDS}
