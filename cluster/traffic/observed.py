"""What the traffic shows: per namespace and workload, how much arrived with and without mutual TLS, and from whom.

A constant number of queries (one per metric family in queries.FAMILIES), run in parallel and
bounded by the client's timeout; a family that fails or has no series is named, never fatal.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cluster.traffic.client import PrometheusAPI, PrometheusError, Sample
from cluster.traffic.queries import FAMILIES, MUTUAL_TLS, Family

UNKNOWN = "unknown"
"""Istio's value for a label it could not fill (a caller outside the mesh has no workload identity)."""


@dataclass
class WorkloadTraffic:
    name: str
    mutual: float = 0.0
    plaintext: float = 0.0
    callers: dict[str, float] = field(default_factory=dict)
    """Plaintext callers ("workload.namespace") -> how much they sent in the clear."""


@dataclass
class NamespaceTraffic:
    name: str
    mutual: float = 0.0
    plaintext: float = 0.0
    reporters: set[str] = field(default_factory=set)
    workloads: dict[str, WorkloadTraffic] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.mutual + self.plaintext

    @property
    def share(self) -> float | None:
        """The part received over mutual TLS (0..1); None when nothing was seen."""
        return self.mutual / self.total if self.total > 0 else None

    def plaintext_callers(self) -> list[tuple[str, float]]:
        merged: defaultdict[str, float] = defaultdict(float)
        for w in self.workloads.values():
            for caller, amount in w.callers.items():
                merged[caller] += amount
        return sorted(merged.items(), key=lambda pair: (-pair[1], pair[0]))


@dataclass
class ObservedTraffic:
    window: str
    namespaces: dict[str, NamespaceTraffic] = field(default_factory=dict)
    faults: list[PrometheusError] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    """Families that answered with no series at all (that proxy kind's telemetry is off, or not scraped)."""
    queries: int = 0

    @property
    def complete(self) -> bool:
        return not self.faults

    @property
    def answered(self) -> bool:
        """At least one family answered (the rest may still be faults)."""
        return len(self.faults) < self.queries

    def namespace(self, name: str) -> NamespaceTraffic | None:
        return self.namespaces.get(name)


def caller_name(labels: dict[str, str]) -> str:
    workload = labels.get("source_workload") or UNKNOWN
    namespace = labels.get("source_workload_namespace") or UNKNOWN
    if workload == UNKNOWN and namespace == UNKNOWN:
        return UNKNOWN
    return f"{workload}.{namespace}"


def _add(observed: ObservedTraffic, family: Family, samples: list[Sample]) -> None:
    for s in samples:
        if s.value <= 0:
            continue
        ns_name = s.labels.get("destination_workload_namespace") or UNKNOWN
        workload = s.labels.get("destination_workload") or UNKNOWN
        ns = observed.namespaces.setdefault(ns_name, NamespaceTraffic(ns_name))
        w = ns.workloads.setdefault(workload, WorkloadTraffic(workload))
        ns.reporters.add(family.reporter)
        # Only the receiving side knows: "mutual_tls" is mutual TLS; sidecars say "none" for plaintext and
        # ztunnel "unknown" (its SecurityPolicy default) for a connection that did not come over HBONE.
        if s.labels.get("connection_security_policy") == MUTUAL_TLS:
            ns.mutual += s.value
            w.mutual += s.value
        else:
            ns.plaintext += s.value
            w.plaintext += s.value
            caller = caller_name(s.labels)
            w.callers[caller] = w.callers.get(caller, 0.0) + s.value


def read_observed(api: PrometheusAPI, window: str) -> ObservedTraffic:
    """Observed mTLS of every namespace over `window` (a Prometheus duration) in len(FAMILIES) queries."""
    observed = ObservedTraffic(window=window, queries=len(FAMILIES))
    with ThreadPoolExecutor(max_workers=len(FAMILIES), thread_name_prefix="promql") as pool:
        futures = [(f, pool.submit(api.instant, f.query(window))) for f in FAMILIES]
        for family, future in futures:
            try:
                samples = future.result()
            except PrometheusError as exc:
                observed.faults.append(exc)
                continue
            if not samples:
                observed.empty.append(family.name)
            _add(observed, family, samples)
    return observed
