"""istiod's own verdicts, where it writes them, read beside meshbot's.

pilot/pkg/model/service.go (ConditionType): `ZtunnelAccepted` on policies converted for ztunnel (policies.go
sets it True when a policy was converted, with reason UnsupportedValue and authorization.go's message when HTTP
attributes were dropped; False when the policy is not sent at all, e.g. CUSTOM/AUDIT), `WaypointAccepted` on
policies bound with targetRefs (False: TargetNotFound, AncestorNotBound, Invalid), and `istio.io/WaypointBound`
on Services (False with istiod's reason when the waypoint they name cannot serve them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cluster.snapshot import Condition, Resource, Service

if TYPE_CHECKING:
    from cluster.analysis.model import Analysis, NamespaceView

ISTIOD_POLICY_KINDS = ("AuthorizationPolicy", "RequestAuthentication", "WasmPlugin", "Telemetry")
POLICY_CONDITIONS = frozenset({"ZtunnelAccepted", "WaypointAccepted"})
WAYPOINT_BOUND = "istio.io/WaypointBound"
UNSUPPORTED = "UnsupportedValue"


def _ref(resource: Resource) -> str:
    return f"{resource.kind} {resource.meta.namespace}/{resource.meta.name}"


def _written(policies: list[Resource], services: list[Service]) -> Iterator[tuple[str, Condition]]:
    for r in policies:
        yield from ((_ref(r), c) for c in r.conditions if c.type in POLICY_CONDITIONS)
    for s in services:
        yield from ((f"Service {s.meta.namespace}/{s.meta.name}", c) for c in s.conditions if c.type == WAYPOINT_BOUND)


def not_applied(policies: list[Resource], services: list[Service]) -> list[tuple[str, Condition]]:
    """Conditions saying a resource is not applied as written: False, or accepted without what ztunnel cannot
    read (True with UnsupportedValue)."""
    return [
        (resource, c)
        for resource, c in _written(policies, services)
        if c.status == "False" or (c.type in POLICY_CONDITIONS and c.reason == UNSUPPORTED)
    ]


def condition_text(c: Condition) -> str:
    text = f"{c.type}={c.status}" + (f" ({c.reason})" if c.reason else "")
    return f"{text}: {c.message[:240]}" if c.message else text


def istiod_verdicts(analysis: Analysis, ns: NamespaceView) -> list[dict[str, str]]:
    """Every condition istiod wrote on the namespace's policies and Services (accepted or not), to show beside
    meshbot's own verdict."""
    policies = [r for kind in ISTIOD_POLICY_KINDS for r in analysis.resources(kind, ns.name)]
    services = analysis.waypoints.services_in.get(ns.name, [])
    return [
        {"resource": resource, "type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
        for resource, c in _written(policies, services)
    ]
