"""What a digest remembers (DigestState, stored as JSON) and what changed since the previous one."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

STATE_VERSION = 1


class NamespaceFacts(BaseModel):
    mode: str
    """ambient | sidecar | mixed | none"""
    mtls: str
    """The namespace-wide effective mTLS mode (STRICT, PERMISSIVE, DISABLE)."""
    pods: dict[str, int] = Field(default_factory=dict)
    """Workload pods by mode: sidecar, ambient, none (gateways and control plane apart)."""
    verdict: str | None = None
    """Precheck verdict: ready | needs-waypoint | blocked."""
    findings: list[str] = []
    """`severity code resource`, one per finding: compared across digests to tell appeared/resolved."""
    waypoints: list[str] = []
    observed_mtls: float | None = None
    """Share (0..1) of the traffic received over mutual TLS in the Prometheus window; None: not observed."""

    @property
    def meshed(self) -> bool:
        return self.mode != "none" or any(self.pods.get(m, 0) for m in ("sidecar", "ambient"))


class MigrationFacts(BaseModel):
    phase: int
    days_in_phase: int


class DigestState(BaseModel):
    version: int = STATE_VERSION
    taken_at: datetime
    source: str = ""
    istio_version: str | None = None
    mesh_mtls: str = "PERMISSIVE"
    namespaces: dict[str, NamespaceFacts] = Field(default_factory=dict)
    cluster_findings: list[str] = []
    savings_percent: float | None = None
    migrations: dict[str, MigrationFacts] = Field(default_factory=dict)
    observed_window: str | None = None
    """The Prometheus window of `observed_mtls`; None when no Prometheus is configured."""
    observed_faults: list[str] = []
    """Prometheus fault kinds met while reading (the digest then says its observed part is missing)."""

    def sidecar_pods(self) -> int:
        return sum(ns.pods.get("sidecar", 0) for ns in self.namespaces.values())

    def findings(self) -> set[str]:
        out = set(self.cluster_findings)
        for name, ns in self.namespaces.items():
            out.update(f"{f} @{name}" for f in ns.findings)
        return out


class Move(BaseModel):
    namespace: str
    before: str
    after: str


class DigestChanges(BaseModel):
    """The difference between two digests; `first` when there is nothing to compare with."""

    first: bool = False
    since: datetime | None = None
    modes: list[Move] = []
    mtls: list[Move] = []
    sidecar_pods: Move | None = None
    namespaces_added: list[str] = []
    namespaces_removed: list[str] = []
    findings_appeared: list[str] = []
    findings_resolved: list[str] = []
    phases: list[Move] = []
    migrations_started: list[str] = []
    migrations_ended: list[str] = []
    observed_mtls: list[Move] = []
    """Every observed namespace: its mTLS share before (the last digest; "" if none) and now, as percents.
    Not news by itself (`any`): traffic moves a little every day; the digest shows it in a table."""

    @property
    def any(self) -> bool:
        """True when something people act on changed (the time in a phase ticking on is not news)."""
        return self.first or any(
            (
                self.modes,
                self.mtls,
                self.sidecar_pods,
                self.namespaces_added,
                self.namespaces_removed,
                self.findings_appeared,
                self.findings_resolved,
                self.phases,
                self.migrations_started,
                self.migrations_ended,
            )
        )


def _percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}"


def observed_moves(previous: DigestState | None, current: DigestState) -> list[Move]:
    before = previous.namespaces if previous else {}
    return [
        Move(
            namespace=n,
            before=_percent(before[n].observed_mtls) if n in before else "",
            after=_percent(ns.observed_mtls),
        )
        for n, ns in sorted(current.namespaces.items())
        if ns.observed_mtls is not None
    ]


def diff(previous: DigestState | None, current: DigestState, *, since: datetime | None = None) -> DigestChanges:
    if previous is None:
        return DigestChanges(first=True, observed_mtls=observed_moves(None, current))
    before, after = previous.namespaces, current.namespaces
    common = sorted(set(before) & set(after))
    changes = DigestChanges(
        since=since or previous.taken_at,
        modes=[
            Move(namespace=n, before=before[n].mode, after=after[n].mode)
            for n in common
            if before[n].mode != after[n].mode
        ],
        mtls=[
            Move(namespace=n, before=before[n].mtls, after=after[n].mtls)
            for n in common
            if before[n].mtls != after[n].mtls
        ],
        namespaces_added=sorted(set(after) - set(before)),
        namespaces_removed=sorted(set(before) - set(after)),
        findings_appeared=sorted(current.findings() - previous.findings()),
        findings_resolved=sorted(previous.findings() - current.findings()),
    )
    if previous.mesh_mtls != current.mesh_mtls:
        changes.mtls.insert(0, Move(namespace="(mesh)", before=previous.mesh_mtls, after=current.mesh_mtls))
    if previous.sidecar_pods() != current.sidecar_pods():
        changes.sidecar_pods = Move(
            namespace="", before=str(previous.sidecar_pods()), after=str(current.sidecar_pods())
        )
    changes.observed_mtls = observed_moves(previous, current)
    old_m, new_m = previous.migrations, current.migrations
    changes.migrations_started = sorted(set(new_m) - set(old_m))
    changes.migrations_ended = sorted(set(old_m) - set(new_m))
    changes.phases = [
        Move(namespace=n, before=str(old_m[n].phase), after=str(new_m[n].phase))
        for n in sorted(set(old_m) & set(new_m))
        if old_m[n].phase != new_m[n].phase
    ]
    return changes
