"""One pass over a Snapshot: modes, waypoints, mTLS, findings and verdicts for every namespace."""

from __future__ import annotations

from dataclasses import dataclass, field

from cluster.analysis import labels as L
from cluster.analysis.findings import Finding
from cluster.analysis.modes import NamespaceMode, PodMode, PodRole, is_running, namespace_mode, pod_mode, pod_role
from cluster.analysis.modes import workload_of as _workload_of
from cluster.analysis.mtls import Decision, MtlsIndex, WorkloadDecision, match_labels
from cluster.analysis.reading import apply_reading
from cluster.analysis.rules import apply_rules
from cluster.analysis.verdict import Verdict
from cluster.analysis.version import IstioVersion, istio_version
from cluster.analysis.waypoints import Waypoint, WaypointIndex
from cluster.snapshot import Pod, Resource, Snapshot


@dataclass(frozen=True)
class Options:
    root_namespace: str = "istio-system"
    kernel_minimum: str = "5.8"
    """The seed's recommendation; Istio itself publishes no kernel minimum (ISTIO-FACTS.md)."""
    version_minimum: str = "1.22"
    """Ambient's first supported (Beta) release, the seed's minimum; 1.24 (GA) is reported as advice."""
    production_version: str = "1.24"


@dataclass(frozen=True, slots=True)
class PodView:
    pod: Pod
    mode: PodMode
    role: PodRole
    workload: tuple[str, str]  # (kind, name) of its controller

    @property
    def workload_ref(self) -> str:
        return f"{self.workload[0]} {self.pod.meta.namespace}/{self.workload[1]}"


@dataclass
class NamespaceView:
    name: str
    labels: dict[str, str]
    mode: NamespaceMode
    system: bool  # kube-* and the Istio root namespace: shown, never prechecked
    pods: list[PodView] = field(default_factory=list)  # running pods only
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict = "ready"

    @property
    def workload_pods(self) -> list[PodView]:
        return [p for p in self.pods if p.role == "workload"]

    @property
    def infrastructure(self) -> int:
        return sum(1 for p in self.pods if p.role != "workload")

    def counts(self) -> dict[str, int]:
        counts = {"sidecar": 0, "ambient": 0, "none": 0}
        for p in self.workload_pods:
            counts[p.mode] += 1
        return counts


@dataclass(frozen=True)
class WorkloadMtls:
    name: str  # "Deployment/web", or the selector "app=a" of a policy that selects no running pod
    pods: int
    decision: WorkloadDecision


class Analysis:
    def __init__(self, snapshot: Snapshot, options: Options) -> None:
        self.snapshot = snapshot
        self.options = options
        self.root = options.root_namespace
        self.namespaces: dict[str, NamespaceView] = {}
        for meta in snapshot.namespaces:
            self._add_namespace(meta.name, meta.labels)
        for pod in snapshot.pods:
            view = self.namespaces.get(pod.meta.namespace) or self._add_namespace(pod.meta.namespace, {})
            if is_running(pod):
                view.pods.append(PodView(pod, pod_mode(pod), pod_role(pod), _workload_of(pod)))
        self.by_namespace: dict[tuple[str, str], list[Resource]] = {}
        for kind, resources in snapshot.resources.items():
            for r in resources:
                self.by_namespace.setdefault((kind, r.meta.namespace), []).append(r)
                if r.meta.namespace and r.meta.namespace not in self.namespaces:
                    self._add_namespace(r.meta.namespace, {})
        self.namespaces = dict(sorted(self.namespaces.items()))
        labels = {name: ns.labels for name, ns in self.namespaces.items()}
        self.version: IstioVersion = istio_version(snapshot)
        self.waypoints = WaypointIndex(snapshot, labels, check_allowed_routes=self.rule_applies((1, 23)))
        self.mtls = MtlsIndex(snapshot, self.root)
        self.cluster_findings: list[Finding] = []
        apply_rules(self)
        apply_reading(self)  # after the rules: what was not read overrides their verdicts

    def _add_namespace(self, name: str, labels: dict[str, str]) -> NamespaceView:
        view = NamespaceView(
            name, labels, namespace_mode(labels), system=name in L.SYSTEM_NAMESPACES or name == self.root
        )
        self.namespaces[name] = view
        return view

    def rule_applies(self, since: tuple[int, int]) -> bool:
        """An Istio rule that arrived in release `since` applies: the newest control plane has it, or none is
        seen (then the newer rule, the stricter one: a gate must not pass on a guess)."""
        newest = self.version.newest
        return newest is None or newest[:2] >= since

    # --- lookups used by rules and handlers ---

    def resources(self, kind: str, namespace: str) -> list[Resource]:
        return self.by_namespace.get((kind, namespace), [])

    def namespace(self, name: str) -> NamespaceView | None:
        return self.namespaces.get(name)

    @property
    def candidates(self) -> list[NamespaceView]:
        """Namespaces a migration could concern: everything but kube-* and the Istio root namespace."""
        return [ns for ns in self.namespaces.values() if not ns.system]

    def namespace_mtls(self, name: str) -> Decision:
        return self.mtls.namespace(name)

    def waypoints_of(self, name: str) -> list[Waypoint]:
        """Waypoints deployed in the namespace, then those it opts in to elsewhere."""
        view = self.namespaces.get(name)
        own = self.waypoints.in_namespace(name)
        used = self.waypoints.used_by(name, [p.pod for p in view.pods] if view else [])
        return [*own, *(w for w in used if w.namespace != name)]

    def workload_mtls(self, name: str) -> list[WorkloadMtls]:
        """Effective mTLS per workload (pods by controller); a policy selecting no running pod is listed by selector."""
        view = self.namespaces.get(name)
        groups: dict[str, list[PodView]] = {}
        for p in view.workload_pods if view else []:
            groups.setdefault(f"{p.workload[0]}/{p.workload[1]}", []).append(p)
        out = [
            WorkloadMtls(key, len(pods), self.mtls.workload(name, pods[0].pod.meta.labels))
            for key, pods in sorted(groups.items())
        ]
        matched = {id(w.decision.policy) for w in out if w.decision.policy is not None}

        for policy in self.mtls.workload_level.get(name, []):
            if id(policy) in matched:
                continue
            selector = match_labels(policy)
            decision = self.mtls.workload(name, selector)
            if decision.policy is policy:
                out.append(WorkloadMtls(",".join(f"{k}={v}" for k, v in sorted(selector.items())), 0, decision))
        return out


def analyze(snapshot: Snapshot, options: Options | None = None) -> Analysis:
    return Analysis(snapshot, options or Options())
