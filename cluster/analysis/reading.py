"""What a reading did not see, as the analysis reports it: the `incomplete-reading` finding and `unknown` verdicts.

DESIGN.md: a kind that could not be read (forbidden, failed, or absent from a dump that shows Istio but holds
no Istio configuration) makes the verdicts that depend on it `unknown`; `--fail-on` then fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cluster.analysis.findings import Finding
from cluster.kinds import BY_KIND

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


def apply_reading(analysis: Analysis) -> None:
    unread = unread_kinds(analysis)
    if not unread:
        return
    analysis.cluster_findings.append(
        Finding("incomplete-reading", resource=",".join(unread), detail=kubectl_line(unread), count=len(unread))
    )
    for ns in analysis.candidates:
        ns.verdict = "unknown"
