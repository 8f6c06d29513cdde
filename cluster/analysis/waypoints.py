"""Waypoints (Gateway API Gateways of class istio-waypoint) and what opts in to use them.

The resolution follows istiod's (pilot/pkg/serviceregistry/ambient/waypoints.go, before 1.30 under
kube/controller/ambient/):
- gatewayToWaypointTransform: a Gateway is a waypoint only once `status.addresses` is set ("only populated once
  the Waypoint's deployment has at least 1 ready pod"); its traffic type is `istio.io/waypoint-for` on the
  Gateway, else on its GatewayClass, else "service".
- fetchWaypointForTarget: the object's own `istio.io/use-waypoint` wins over its namespace's (`none` opts out,
  `istio.io/use-waypoint-namespace` names another namespace); a named waypoint that is not ready gives no
  waypoint at all (ReportWaypointIsNotReady), never a fallback to the namespace's.
- AllowsAttachmentFromNamespace (1.23+): the HBONE listener's (port 15008) `allowedRoutes.namespaces.from`
  decides which namespaces may use it: Same (Gateway API's default, also with no listener), All, Selector.
- fetchWaypointForService needs traffic type service/all; fetchWaypointForWorkload workload/all, and a
  workload that only inherits a service waypoint from its namespace is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cluster.analysis import labels as L
from cluster.snapshot import Pod, Resource, Service, Snapshot

WaypointFor = Literal["service", "workload", "all", "none"]
Traffic = Literal["service", "workload"]
HBONE_PORT = 15008


@dataclass(frozen=True, slots=True)
class Waypoint:
    namespace: str
    name: str
    serves: WaypointFor  # istio.io/waypoint-for (Gateway, else GatewayClass), "service" when absent
    ready: bool = True
    not_ready: str = ""  # why it cannot serve yet (a finding_phrases.yaml key): no address, Programmed=False
    allowed_from: str = "Same"  # the HBONE listener's allowedRoutes.namespaces.from
    allowed_selector: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    service_accounts: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def takes(self, traffic: Traffic) -> bool:
        return self.serves == "all" or self.serves == traffic

    def admits(self, namespace: str, labels: dict[str, str]) -> bool:
        if self.allowed_from == "All":
            return True
        if self.allowed_from == "Selector":
            return selector_matches(self.allowed_selector, labels)
        return namespace == self.namespace  # Same, and anything unknown ("Should be impossible")


@dataclass(frozen=True, slots=True)
class Resolution:
    """The waypoint a target really gets, or why the one it names cannot serve it."""

    waypoint: Waypoint | None
    wanted: tuple[str, str] | None = None  # (namespace, name) the labels ask for
    problem: str = ""  # a finding_phrases.yaml key; empty when it serves, or when nothing was asked for


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions) against labels."""
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, dict) and any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
        return False
    expressions = selector.get("matchExpressions") or []
    for expr in expressions if isinstance(expressions, list) else [None]:
        if not isinstance(expr, dict):
            return False  # unreadable: admit nothing rather than guess
        key, op = str(expr.get("key") or ""), str(expr.get("operator") or "")
        raw = expr.get("values")
        values = [str(v) for v in raw] if isinstance(raw, list) else []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op, False)
        if not ok:
            return False
    return True


def is_waypoint(gateway: Resource) -> bool:
    return gateway.kind == "Gateway" and gateway.spec.get("gatewayClassName") == L.WAYPOINT_CLASS


def _readiness(gateway: Resource) -> str:
    """Empty when the Gateway can serve; else why not."""
    addresses = gateway.status.get("addresses")
    if not isinstance(addresses, list) or not any(isinstance(a, dict) and a.get("value") for a in addresses):
        return "wp-no-address"
    for c in gateway.conditions:
        if c.type == "Programmed" and c.status == "False":
            return "wp-not-programmed"
    return ""


def _allowed_routes(gateway: Resource) -> tuple[str, dict[str, Any]]:
    """makeAllowedRoutes: the HBONE listener on 15008 (the default binding); Same without one."""
    listeners = gateway.spec.get("listeners")
    for listener in listeners if isinstance(listeners, list) else []:
        if not isinstance(listener, dict) or listener.get("protocol") != "HBONE" or listener.get("port") != HBONE_PORT:
            continue
        routes = listener.get("allowedRoutes")
        namespaces = routes.get("namespaces") if isinstance(routes, dict) else None
        if not isinstance(namespaces, dict):
            return "Same", {}
        selector = namespaces.get("selector")
        return str(namespaces.get("from") or "Same"), selector if isinstance(selector, dict) else {}
    return "Same", {}


def _waypoint(gateway: Resource, class_for: str | None, pods: list[Pod]) -> Waypoint:
    serves = gateway.meta.labels.get(L.WAYPOINT_FOR) or class_for or "service"
    if serves not in ("service", "workload", "all", "none"):
        serves = "none"  # istiod matches the known values only: an unknown one serves nothing
    problem = _readiness(gateway)
    allowed_from, selector = _allowed_routes(gateway)
    accounts = tuple(
        sorted(
            {
                p.service_account
                for p in pods
                if p.meta.namespace == gateway.meta.namespace and p.meta.labels.get(L.GATEWAY_NAME) == gateway.meta.name
            }
        )
    )
    return Waypoint(
        gateway.meta.namespace,
        gateway.meta.name,
        serves,  # type: ignore[arg-type]
        ready=not problem,
        not_ready=problem,
        allowed_from=allowed_from,
        allowed_selector=selector,
        service_accounts=accounts,
    )


class WaypointIndex:
    """Resolves `istio.io/use-waypoint` on namespaces, services and pods to waypoints that can serve."""

    def __init__(
        self, snapshot: Snapshot, namespace_labels: dict[str, dict[str, str]], *, check_allowed_routes: bool = True
    ) -> None:
        self.namespace_labels = namespace_labels
        # AllowsAttachmentFromNamespace arrived in 1.23 (release-1.22's waypoints.go has no such check).
        self.check_allowed_routes = check_allowed_routes
        class_for = {
            c.meta.name: c.meta.labels[L.WAYPOINT_FOR]
            for c in snapshot.of_kind("GatewayClass")
            if L.WAYPOINT_FOR in c.meta.labels
        }
        self.by_key: dict[tuple[str, str], Waypoint] = {}
        for gateway in snapshot.of_kind("Gateway"):
            if is_waypoint(gateway):
                wp = _waypoint(gateway, class_for.get(L.WAYPOINT_CLASS), snapshot.pods)
                self.by_key[(wp.namespace, wp.name)] = wp
        self.services: dict[tuple[str, str], Service] = {(s.meta.namespace, s.meta.name): s for s in snapshot.services}
        self.services_in: dict[str, list[Service]] = {}
        for service in snapshot.services:
            self.services_in.setdefault(service.meta.namespace, []).append(service)

    def in_namespace(self, namespace: str) -> list[Waypoint]:
        return sorted((w for (ns, _), w in self.by_key.items() if ns == namespace), key=lambda w: w.name)

    @staticmethod
    def _named(labels: dict[str, str], namespace: str) -> tuple[str, str] | None:
        """The waypoint a resource's own labels name; ("", "none") for an explicit opt-out."""
        name = labels.get(L.USE_WAYPOINT)
        if not name:
            return None
        if name == "none":
            return ("", "none")
        return (labels.get(L.USE_WAYPOINT_NAMESPACE) or namespace, name)

    def _target(self, own: dict[str, str], namespace: str) -> Resolution:
        """fetchWaypointForTarget: the waypoint before the traffic-type check."""
        named = self._named(own, namespace)
        if named is None:
            named = self._named(self.namespace_labels.get(namespace, {}), namespace)
        if named is None or named[1] == "none":
            return Resolution(None)
        wp = self.by_key.get(named)
        if wp is None:
            return Resolution(None, named, "wp-missing")
        if not wp.ready:
            return Resolution(None, named, wp.not_ready)
        if self.check_allowed_routes and not wp.admits(namespace, self.namespace_labels.get(namespace, {})):
            return Resolution(None, named, "wp-not-admitted")
        return Resolution(wp, named)

    def resolve_service(self, service: Service) -> Resolution:
        found = self._target(service.meta.labels, service.meta.namespace)
        wp = found.waypoint
        if wp is not None and not wp.takes("service"):
            return Resolution(None, found.wanted, "wp-excludes-services")
        return found

    def resolve_pod(self, pod: Pod) -> Resolution:
        found = self._target(pod.meta.labels, pod.meta.namespace)
        wp = found.waypoint
        if wp is not None and not wp.takes("workload"):
            if L.USE_WAYPOINT not in pod.meta.labels:
                return Resolution(None)  # inherited from the namespace: a service waypoint, not an error
            return Resolution(None, found.wanted, "wp-excludes-workloads")
        return found

    def requested_by_namespace(self, namespace: str) -> tuple[str, str] | None:
        """(namespace, name) the namespace label asks for, existing or not."""
        named = self._named(self.namespace_labels.get(namespace, {}), namespace)
        return None if named is None or named[1] == "none" else named

    def for_namespace(self, namespace: str) -> Waypoint | None:
        """The namespace's own waypoint, when it can serve the namespace's services."""
        found = self._target({}, namespace)
        wp = found.waypoint
        return wp if wp is not None and wp.takes("service") else None

    def for_service(self, service: Service) -> Waypoint | None:
        return self.resolve_service(service).waypoint

    def for_service_name(self, namespace: str, name: str) -> Waypoint | None:
        service = self.services.get((namespace, name))
        return self.for_service(service) if service is not None else None

    def for_pod(self, pod: Pod) -> Waypoint | None:
        return self.resolve_pod(pod).waypoint

    def serves_anything_in(self, namespace: str) -> bool:
        """A usable waypoint serves the namespace, or at least one of its services."""
        if self.for_namespace(namespace) is not None:
            return True
        return any(self.for_service(s) is not None for s in self.services_in.get(namespace, []))

    def serves_all_services_in(self, namespace: str) -> bool:
        """Every Service of the namespace has a usable waypoint (none when it has no Service: nothing to serve)."""
        services = self.services_in.get(namespace, [])
        if not services:
            return self.for_namespace(namespace) is not None
        return all(self.for_service(s) is not None for s in services)

    def used_by(self, namespace: str, pods: list[Pod]) -> list[Waypoint]:
        """Waypoints the namespace, its services or its pods opt in to (possibly in another namespace)."""
        found: dict[str, Waypoint] = {}
        for wp in [
            self.for_namespace(namespace),
            *(self.for_service(s) for s in self.services_in.get(namespace, [])),
            # Pods inherit the namespace's label too (fetchWaypointForWorkload): a workload waypoint serves them.
            *(self.for_pod(p) for p in pods if L.GATEWAY_NAME not in p.meta.labels),
        ]:
            if wp is not None:
                found[wp.key] = wp
        return sorted(found.values(), key=lambda w: w.key)

    def unusable(self, namespace: str, pods: list[Pod]) -> list[tuple[str, Resolution]]:
        """(target, resolution) for every namespace/service/pod label naming a waypoint that cannot serve it."""
        out: list[tuple[str, Resolution]] = []
        ns_found = self._target({}, namespace)
        if ns_found.problem:
            out.append((f"Namespace {namespace}", ns_found))
        for service in self.services_in.get(namespace, []):
            found = self.resolve_service(service)
            own = L.USE_WAYPOINT in service.meta.labels
            if found.problem and (own or found.problem != ns_found.problem):
                out.append((f"Service {namespace}/{service.meta.name}", found))
        for pod in pods:
            if L.USE_WAYPOINT in pod.meta.labels:
                found = self.resolve_pod(pod)
                if found.problem:
                    out.append((f"Pod {namespace}/{pod.meta.name}", found))
        return out
