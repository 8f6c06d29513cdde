"""Sidecar vs ambient resource estimate, on the basis of resource requests.

Sidecars: each istio-proxy's own requests where set, else the seed's observed +80MB / +50m per pod
(reported as such). Ambient: one ztunnel per node at the cluster's ztunnel DaemonSet requests, else
the Helm chart default (200m / 512Mi), plus each waypoint at its pods' requests, else the chart
default (100m / 128Mi), plus one default waypoint per namespace that needs one and has none.

Two answers: the from-scratch total (`ambient`, `saving_percent`: everything ambient needs, as if nothing
ran yet) and the marginal one (`marginal`: what moving the remaining sidecars saves, positive = saved),
where a ztunnel DaemonSet and waypoints that already run are paid for and only new waypoints (and
ztunnels, where none runs yet) count against the sidecars removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cluster.analysis import labels as L
from cluster.analysis.model import Analysis, NamespaceView
from cluster.snapshot import Container, Pod

SEED_SIDECAR = (50.0, 80_000_000 / 2**20)  # (cpu_m, memory_mib): the seed's "+80MB, +50m" per pod
HELM_ZTUNNEL = (200.0, 512.0)
HELM_WAYPOINT = (100.0, 128.0)

_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "m": 10**-3}


def cpu_m(quantity: str | None) -> float | None:
    match = _QUANTITY.match((quantity or "").strip())
    if not match:
        return None
    value, unit = float(match[1]), match[2]
    factor = _DECIMAL.get(unit)
    return value * factor * 1000 if factor is not None else None


def memory_mib(quantity: str | None) -> float | None:
    match = _QUANTITY.match((quantity or "").strip())
    if not match:
        return None
    value, unit = float(match[1]), match[2]
    factor = _BINARY.get(unit) or _DECIMAL.get(unit)
    return value * factor / 2**20 if factor is not None else None


@dataclass
class Cost:
    cpu_m: float = 0.0
    memory_mib: float = 0.0

    def add(self, cpu: float, memory: float) -> None:
        self.cpu_m += cpu
        self.memory_mib += memory

    def as_json(self) -> dict[str, float]:
        return {"memory_mib": round(self.memory_mib, 1), "cpu_m": round(self.cpu_m, 1)}


def _requests(container: Container | None, default: tuple[float, float]) -> tuple[float, float, bool]:
    """(cpu_m, memory_mib, from_requests) for a container, falling back per resource."""
    cpu = cpu_m(container.cpu_request) if container else None
    mem = memory_mib(container.memory_request) if container else None
    return (cpu if cpu is not None else default[0], mem if mem is not None else default[1], cpu is not None)


def _proxy(pod: Pod) -> Container | None:
    for c in (*pod.containers, *pod.init_containers):
        if c.name == L.PROXY_CONTAINER:
            return c
    return None


@dataclass
class Savings:
    pods_with_sidecar: int
    nodes: int
    waypoints: int
    sidecar: Cost
    ambient: Cost
    sidecar_from_requests: int  # pods whose istio-proxy requests were read; the rest use the seed's figure
    ztunnel_basis: str  # "requests" or "helm-default"
    ztunnel_each: tuple[float, float]
    waypoints_new: int
    added: Cost = field(default_factory=Cost)
    """What the move adds: new waypoints, and ztunnels where none runs yet."""
    ztunnel_running: bool = False

    @property
    def saving_percent(self) -> float:
        return _percent(self.sidecar.memory_mib, self.ambient.memory_mib)

    @property
    def marginal(self) -> Cost:
        """Moving the remaining sidecars: the sidecars' requests freed minus what the move adds (positive = saved)."""
        return Cost(self.sidecar.cpu_m - self.added.cpu_m, self.sidecar.memory_mib - self.added.memory_mib)

    @property
    def marginal_percent(self) -> float:
        return _percent(self.sidecar.memory_mib, self.added.memory_mib)


def _percent(before: float, after: float) -> float:
    """Share of `before` saved by going to `after`; 0 when there is nothing to compare with."""
    if before <= 0:
        return 0.0
    return round((before - after) / before * 100, 1)


def _is_ztunnel(name: str, labels: dict[str, str]) -> bool:
    return name == "ztunnel" or labels.get("app") == "ztunnel"


def _ztunnel_running(analysis: Analysis) -> bool:
    """A ztunnel DaemonSet, or ztunnel pods: its cost is already paid, whatever the migration does."""
    if any(w.kind == "DaemonSet" and _is_ztunnel(w.meta.name, w.template_labels) for w in analysis.snapshot.workloads):
        return True
    return any(p.meta.labels.get("app") == "ztunnel" for p in analysis.snapshot.pods)


def _ztunnel(analysis: Analysis) -> tuple[tuple[float, float], str]:
    for w in analysis.snapshot.workloads:
        if w.kind == "DaemonSet" and _is_ztunnel(w.meta.name, w.template_labels):
            c = next(
                (c for c in w.containers if c.name == L.PROXY_CONTAINER), w.containers[0] if w.containers else None
            )
            cpu, mem, read = _requests(c, HELM_ZTUNNEL)
            return (cpu, mem), "requests" if read else "helm-default"
    return HELM_ZTUNNEL, "helm-default"


def savings(analysis: Analysis, scope: list[NamespaceView]) -> Savings:
    sidecar = Cost()
    pods = read = 0
    nodes: set[str] = set()
    for ns in scope:
        for p in ns.workload_pods:
            nodes.add(p.pod.node)
            if p.mode != "sidecar":
                continue
            pods += 1
            cpu, mem, from_requests = _requests(_proxy(p.pod), SEED_SIDECAR)
            read += from_requests
            sidecar.add(cpu, mem)
    whole_cluster = len(scope) == len(analysis.namespaces)
    node_count = len(analysis.snapshot.nodes) if whole_cluster and analysis.snapshot.nodes else len(nodes - {""})
    ambient = Cost()
    each, basis = _ztunnel(analysis)
    ambient.add(each[0] * node_count, each[1] * node_count)
    waypoints = {w.key: w for ns in scope for w in analysis.waypoints_of(ns.name)}
    for wp in waypoints.values():
        view = analysis.namespaces.get(wp.namespace)
        wp_pods = [p.pod for p in view.pods if p.pod.meta.labels.get(L.GATEWAY_NAME) == wp.name] if view else []
        proxies: list[Container | None] = [_proxy(pod) for pod in wp_pods] or [None]
        for proxy in proxies:
            cpu, mem, _ = _requests(proxy, HELM_WAYPOINT)
            ambient.add(cpu, mem)
    new = sum(1 for ns in scope if ns.verdict == "needs-waypoint")
    ambient.add(HELM_WAYPOINT[0] * new, HELM_WAYPOINT[1] * new)
    running = _ztunnel_running(analysis)
    added = Cost(HELM_WAYPOINT[0] * new, HELM_WAYPOINT[1] * new)
    if not running and pods:  # ztunnel must be installed first: one per node (a DaemonSet), whatever the scope
        all_nodes = len(analysis.snapshot.nodes) or node_count
        added.add(each[0] * all_nodes, each[1] * all_nodes)
    return Savings(pods, node_count, len(waypoints) + new, sidecar, ambient, read, basis, each, new, added, running)
