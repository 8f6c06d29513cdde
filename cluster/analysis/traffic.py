"""Mesh traffic configuration that only Envoy applies (sidecars today, waypoints in ambient) and whose hosts it is for.

ztunnel applies no VirtualService, DestinationRule or Gateway API route at all: it forwards L4 only
(architecture/ambient/ztunnel.md). In ambient mode these reach a destination only through its waypoint:
- DestinationRule traffic policy (connection pool, outlier detection, load balancing, subsets): applied by the
  waypoint (istio.io docs, ambient/migrate: "DestinationRule traffic policies ... are supported by waypoints").
- HTTPRoute/GRPCRoute whose parentRef is a Service (GAMMA): the waypoint of that Service serves them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cluster.snapshot import Resource

DR_FEATURES = (
    ("connectionPool", "connection pool"),
    ("outlierDetection", "outlier detection"),
    ("loadBalancer", "load balancing"),
)
SERVICE_KINDS = frozenset({"Service"})


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


@dataclass(frozen=True, slots=True)
class Host:
    """A mesh host resolved to a Kubernetes Service name, or kept as a pattern (namespace or mesh wide)."""

    namespace: str
    service: str  # "" for a wildcard covering the whole namespace ("*.ns.svc.cluster.local") or mesh ("*")


def resolve_host(host: str, config_namespace: str) -> Host | None:
    """Kubernetes service hostnames: "name", "name.ns", "name.ns.svc[.cluster.local]"; None for external hosts.

    Short names resolve in the namespace of the config that names them (Istio's convention for
    VirtualService and DestinationRule hosts).
    """
    host = host.strip().lower()
    if not host:
        return None
    if host == "*":
        return Host("*", "")
    parts = host.split(".")
    if parts[0] == "*":
        if len(parts) >= 3 and parts[2] == "svc":
            return Host(parts[1], "")
        if host in ("*.local", "*.cluster.local", "*.svc.cluster.local"):
            return Host("*", "")
        return None
    if len(parts) == 1:
        return Host(config_namespace, parts[0])
    if len(parts) == 2 or parts[2] == "svc":
        return Host(parts[1], parts[0])
    return None  # an external name (ServiceEntry), not this cluster's workloads


def destination_rule_features(dr: Resource) -> list[str]:
    """The traffic-policy features of a DestinationRule that only Envoy applies (TLS settings alone are not)."""
    found: list[str] = []
    policies = [dr.spec.get("trafficPolicy")]
    policies += [s.get("trafficPolicy") for s in _dicts(dr.spec.get("subsets"))]
    for policy in policies:
        if not isinstance(policy, dict):
            continue
        levels = [policy, *_dicts(policy.get("portLevelSettings"))]
        for level in levels:
            found.extend(name for key, name in DR_FEATURES if level.get(key))
    # Subsets alone select nothing: they matter through the VirtualService routes that name them.
    return list(dict.fromkeys(found))


def destination_rule_tls_origination(dr: Resource) -> list[str]:
    """`tls.mode` SIMPLE or MUTUAL: the client's sidecar originates TLS to a host outside the mesh."""
    policies = [dr.spec.get("trafficPolicy")] + [s.get("trafficPolicy") for s in _dicts(dr.spec.get("subsets"))]
    for policy in policies:
        if not isinstance(policy, dict):
            continue
        for level in [policy, *_dicts(policy.get("portLevelSettings"))]:
            tls = level.get("tls")
            if isinstance(tls, dict) and str(tls.get("mode") or "") in ("SIMPLE", "MUTUAL"):
                return ["TLS origination"]
    return []


def service_parents(route: Resource) -> list[Host]:
    """GAMMA: the Services a HTTPRoute/GRPCRoute attaches to (parentRefs of kind Service, core group)."""
    out: list[Host] = []
    for parent in _dicts(route.spec.get("parentRefs")):
        if str(parent.get("kind")) in SERVICE_KINDS and str(parent.get("group") or "") in ("", "core"):
            out.append(Host(str(parent.get("namespace") or route.meta.namespace), str(parent.get("name") or "")))
    return out


def route_features(route: Resource) -> list[str]:
    """What a mesh route does, for the finding's detail."""
    found: list[str] = []
    for rule in _dicts(route.spec.get("rules")):
        if any(True for _ in _dicts(rule.get("matches"))):
            found.append("request matching")
        backends = [b for b in _dicts(rule.get("backendRefs")) if b.get("weight", 1) != 0]
        if len(backends) > 1:
            found.append("traffic splitting")
        for f in _dicts(rule.get("filters")):
            found.append(str(f.get("type") or "filter"))
        if rule.get("timeouts"):
            found.append("timeouts")
        if rule.get("retry"):
            found.append("retries")
    return list(dict.fromkeys(found)) or ["routing"]
