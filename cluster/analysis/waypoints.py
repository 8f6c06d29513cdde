"""Waypoints (Gateway API Gateways of class istio-waypoint) and what opts in to use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cluster.analysis import labels as L
from cluster.snapshot import Pod, Resource, Service, Snapshot

WaypointFor = Literal["service", "workload", "all", "none"]


@dataclass(frozen=True, slots=True)
class Waypoint:
    namespace: str
    name: str
    serves: WaypointFor  # istio.io/waypoint-for, "service" when absent

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def takes(self, traffic: Literal["service", "workload"]) -> bool:
        return self.serves == "all" or self.serves == traffic


def is_waypoint(gateway: Resource) -> bool:
    return gateway.kind == "Gateway" and gateway.spec.get("gatewayClassName") == L.WAYPOINT_CLASS


def _waypoint(gateway: Resource) -> Waypoint:
    serves = gateway.meta.labels.get(L.WAYPOINT_FOR, "service")
    if serves not in ("service", "workload", "all", "none"):
        serves = "service"
    return Waypoint(gateway.meta.namespace, gateway.meta.name, serves)  # type: ignore[arg-type]


class WaypointIndex:
    """Resolves `istio.io/use-waypoint` on namespaces, services and pods to existing waypoints."""

    def __init__(self, snapshot: Snapshot, namespace_labels: dict[str, dict[str, str]]) -> None:
        self.namespace_labels = namespace_labels
        self.by_key: dict[tuple[str, str], Waypoint] = {}
        for gateway in snapshot.of_kind("Gateway"):
            if is_waypoint(gateway):
                wp = _waypoint(gateway)
                self.by_key[(wp.namespace, wp.name)] = wp
        self.services: dict[tuple[str, str], Service] = {(s.meta.namespace, s.meta.name): s for s in snapshot.services}
        self.services_in: dict[str, list[Service]] = {}
        for service in snapshot.services:
            self.services_in.setdefault(service.meta.namespace, []).append(service)

    def in_namespace(self, namespace: str) -> list[Waypoint]:
        return sorted((w for (ns, _), w in self.by_key.items() if ns == namespace), key=lambda w: w.name)

    def _named(self, labels: dict[str, str], namespace: str) -> tuple[str, str] | None:
        """The waypoint a resource's own labels name; ("", "none") for an explicit opt-out."""
        name = labels.get(L.USE_WAYPOINT)
        if not name:
            return None
        if name == "none":
            return ("", "none")
        return (labels.get(L.USE_WAYPOINT_NAMESPACE) or namespace, name)

    def _resolve(self, own: dict[str, str], namespace: str) -> tuple[str, str] | None:
        named = self._named(own, namespace)
        if named is None:
            named = self._named(self.namespace_labels.get(namespace, {}), namespace)
        return None if named is None or named[1] == "none" else named

    def requested_by_namespace(self, namespace: str) -> tuple[str, str] | None:
        """(namespace, name) the namespace label asks for, existing or not."""
        return self._resolve({}, namespace)

    def for_namespace(self, namespace: str) -> Waypoint | None:
        wanted = self.requested_by_namespace(namespace)
        wp = self.by_key.get(wanted) if wanted else None
        return wp if wp is not None and wp.serves != "none" else None

    def for_service(self, service: Service) -> Waypoint | None:
        wanted = self._resolve(service.meta.labels, service.meta.namespace)
        wp = self.by_key.get(wanted) if wanted else None
        return wp if wp is not None and wp.takes("service") else None

    def for_service_name(self, namespace: str, name: str) -> Waypoint | None:
        service = self.services.get((namespace, name))
        return self.for_service(service) if service is not None else None

    def for_pod(self, pod: Pod) -> Waypoint | None:
        wanted = self._resolve(pod.meta.labels, pod.meta.namespace)
        wp = self.by_key.get(wanted) if wanted else None
        return wp if wp is not None and wp.takes("workload") else None

    def serves_anything_in(self, namespace: str) -> bool:
        """A waypoint serves the namespace, or at least one of its services."""
        if self.for_namespace(namespace) is not None:
            return True
        return any(self.for_service(s) is not None for s in self.services_in.get(namespace, []))

    def used_by(self, namespace: str, pods: list[Pod]) -> list[Waypoint]:
        """Waypoints the namespace, its services or its pods opt in to (possibly in another namespace)."""
        found: dict[str, Waypoint] = {}
        for wp in [
            self.for_namespace(namespace),
            *(self.for_service(s) for s in self.services_in.get(namespace, [])),
            *(self.for_pod(p) for p in pods if L.USE_WAYPOINT in p.meta.labels),
        ]:
            if wp is not None:
                found[wp.key] = wp
        return sorted(found.values(), key=lambda w: w.key)
