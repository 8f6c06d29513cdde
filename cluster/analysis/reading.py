"""What a reading did not see, as the analysis reports it: the `incomplete-reading` finding and `unknown` verdicts.

DESIGN.md: a kind that could not be read (forbidden, failed, or absent from a dump that shows Istio but holds
no Istio configuration) makes the verdicts that depend on it `unknown`; `--fail-on` then fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cluster._texts import text
from cluster.analysis import labels as L
from cluster.analysis.findings import Finding
from cluster.analysis.modes import pod_mode
from cluster.kinds import BY_KIND, KINDS
from cluster.snapshot import ReadIssue, Snapshot

CONFIG_GROUP_SUFFIX = "istio.io"  # Istio's own configuration groups: security.istio.io, networking.istio.io, …

if TYPE_CHECKING:
    from cluster.analysis.model import Analysis


def kubectl_line(kinds: Iterable[str]) -> str:
    """The `kubectl get` line that exports these kinds (CRDs by plural.group: Istio and Gateway API both
    have a Gateway)."""
    names = []
    for name in kinds:
        kind = BY_KIND.get(name)
        if kind is not None:
            names.append(f"{kind.plural}.{kind.group}" if kind.group and kind.istio else kind.plural)
    return f"kubectl get {','.join(names)} -A -o yaml >> DUMP.yaml"


def unread_kinds(analysis: Analysis) -> list[str]:
    """Kinds the verdicts depend on that were not read (in KINDS order)."""
    unread = {issue.kind for issue in analysis.snapshot.issues}
    return [name for name, kind in BY_KIND.items() if name in unread and kind.verdicts]


def apply_dump_rule(snapshot: Snapshot) -> None:
    """A `kubectl` dump has no manifest, and in it a kind with zero objects looks the same as a kind never
    exported. DESIGN.md ("Bad input and faults"): when the dump shows Istio (istiod, injection or ambient
    labels) but holds no Istio configuration object at all, the reading is incomplete: each absent Istio kind
    becomes an issue (the verdicts depending on it are `unknown`). When some Istio configuration objects are
    there, the absent kinds are taken as empty and only listed in `missing_kinds`. Idempotent: a snapshot may
    be analysed more than once."""
    if snapshot.exported_kinds is None:
        return
    present = snapshot.exported_kinds | snapshot.assumed_absent
    absent = [k for k in KINDS if k.istio and k.kind not in present]
    snapshot.missing_kinds += [k.kind for k in absent if k.kind not in snapshot.missing_kinds]
    config = [k for k in KINDS if k.group.endswith(CONFIG_GROUP_SUFFIX)]
    if not absent or any(k.kind in present for k in config) or not shows_istio(snapshot):
        return
    line = kubectl_line(k.kind for k in absent)
    known = {issue.kind for issue in snapshot.issues}
    for kind in absent:
        if kind.kind not in known:
            values = {"plural": kind.plural, "group": kind.group, "kubectl": line}
            en, ko = text("dump-kind-absent", "en", **values), text("dump-kind-absent", "ko", **values)
            snapshot.issues.append(ReadIssue(kind.kind, None, en, ko))


def shows_istio(snapshot: Snapshot) -> bool:
    """istiod runs, a namespace is labelled for injection or ambient, or a pod has a sidecar or is enrolled."""
    for ns in snapshot.namespaces:
        labels = ns.labels
        if labels.get(L.INJECTION) == "enabled" or labels.get(L.REVISION) or labels.get(L.DATAPLANE_MODE) == "ambient":
            return True
    for w in snapshot.workloads:
        if w.meta.name.startswith("istiod") or w.template_labels.get("app") in L.CONTROL_PLANE_APPS:
            return True
    return any(pod_mode(p) != "none" or p.meta.labels.get("app") == "istiod" for p in snapshot.pods)


def apply_reading(analysis: Analysis) -> None:
    apply_dump_rule(analysis.snapshot)
    unread = unread_kinds(analysis)
    if not unread:
        return
    analysis.cluster_findings.append(
        Finding("incomplete-reading", resource=",".join(unread), detail=kubectl_line(unread), count=len(unread))
    )
    for ns in analysis.candidates:
        ns.verdict = "unknown"
