"""The cluster facts that digests and migration threads compare over time, read through cluster.analysis.

Nothing here decides a mode, an mTLS mode or a finding: the analysis does; this only keeps the
part of its answer worth remembering between two looks at the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cluster.analysis.model import Analysis, Options, analyze
from cluster.analysis.savings import savings
from cluster.analysis.version import fmt
from cluster.snapshot import Snapshot
from handlers.digest_model import DigestState, MigrationFacts, NamespaceFacts
from handlers.ports import MigrationRecord

SAMPLE = 10
"""Pod names kept per observation (enough to name them in a thread, bounded for big namespaces)."""


def analysis_of(snapshot: Snapshot, root_namespace: str) -> Analysis:
    return analyze(snapshot, Options(root_namespace=root_namespace))


def finding_key(severity: str, code: str, resource: str) -> str:
    return f"{severity} {code} {resource}"


def digest_state(
    analysis: Analysis,
    *,
    taken_at: datetime,
    namespaces: Iterable[str] = (),
    migrations: Iterable[MigrationRecord] = (),
) -> DigestState:
    wanted = set(namespaces)
    facts: dict[str, NamespaceFacts] = {}
    for view in analysis.namespaces.values():
        if (wanted and view.name not in wanted) or (not wanted and view.system):
            continue
        facts[view.name] = NamespaceFacts(
            mode=view.mode,
            mtls=analysis.namespace_mtls(view.name).mode,
            pods=view.counts(),
            verdict=view.verdict,
            findings=sorted({finding_key(f.severity, f.code, f.resource) for f in view.findings}),
            waypoints=sorted(w.key for w in analysis.waypoints_of(view.name)),
        )
    mesh = analysis.mtls.namespace(analysis.root).mode
    scope = [v for v in analysis.namespaces.values() if v.name in facts]
    estimate = savings(analysis, scope) if scope else None
    return DigestState(
        taken_at=taken_at,
        source=analysis.snapshot.source,
        istio_version=fmt(analysis.version.newest),
        mesh_mtls=mesh,
        namespaces=facts,
        cluster_findings=sorted({finding_key(f.severity, f.code, f.resource) for f in analysis.cluster_findings}),
        savings_percent=estimate.saving_percent if estimate else None,
        migrations={
            m.namespace: MigrationFacts(phase=m.phase, days_in_phase=max(0, (taken_at - m.phase_started_at).days))
            for m in migrations
            if m.status == "active" and (not wanted or m.namespace in wanted)
        },
    )


class Observation(BaseModel):
    """One namespace during its migration, as a progress check saw it."""

    exists: bool = True
    mode: str = "none"
    pods: dict[str, int] = Field(default_factory=dict)
    sidecar_pods: list[str] = []
    """Up to SAMPLE pods still running istio-proxy."""
    waypoints: list[str] = []
    waypoint_needed: bool = False
    mtls: str = "PERMISSIVE"
    findings: list[str] = []
    """Finding codes of the namespace."""
    cluster_findings: list[str] = []
    verdict: str | None = None
    traffic: dict[str, Any] = Field(default_factory=dict)
    """The migration's observed-traffic memo (handlers.migration_effect): baseline, when, compared yet."""


def observe(analysis: Analysis, namespace: str) -> Observation:
    view = analysis.namespace(namespace)
    cluster_codes = sorted({f.code for f in analysis.cluster_findings})
    if view is None:
        return Observation(exists=False, cluster_findings=cluster_codes)
    sidecars = sorted(p.pod.meta.name for p in view.workload_pods if p.mode == "sidecar")
    return Observation(
        mode=view.mode,
        pods=view.counts(),
        sidecar_pods=sidecars[:SAMPLE],
        waypoints=sorted(w.key for w in analysis.waypoints_of(namespace)),
        waypoint_needed=any(f.severity == "waypoint" for f in view.findings),
        mtls=analysis.namespace_mtls(namespace).mode,
        findings=sorted({f.code for f in view.findings}),
        cluster_findings=cluster_codes,
        verdict=view.verdict,
    )
