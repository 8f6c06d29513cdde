"""Findings: stable codes (DESIGN.md), their severity, and their message from knowledge/data/findings.yaml."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from knowledge import KnowledgeBase, Language

Severity = Literal["blocker", "waypoint", "warning", "info"]

SEVERITY: dict[str, Severity] = {
    "istio-version-too-old": "blocker",
    "envoyfilter-unsupported": "blocker",
    "lua-filter": "blocker",
    "ambient-l7-without-waypoint": "blocker",
    "mtls-disable-unsupported": "blocker",
    "l7-authz-needs-waypoint": "waypoint",
    "selector-policy-l7": "waypoint",
    "request-authn-needs-waypoint": "waypoint",
    "l7-traffic-needs-waypoint": "waypoint",
    "hostnetwork-pod": "warning",
    "init-container-networking": "warning",
    "cni-compatibility": "warning",
    "kernel-too-old": "warning",
    "mixed-mode-namespace": "warning",
    "strict-with-unmeshed-pods": "warning",
    "waypoint-without-l7-need": "warning",
    "sidecar-resource-ignored": "info",
    "telemetry-detail-loss": "info",
    # From Prometheus, not the manifests (cluster/traffic; handlers/traffic_common.py builds it).
    "plaintext-traffic-observed": "warning",
}
CLUSTER_CODES = frozenset({"istio-version-too-old", "kernel-too-old", "cni-compatibility"})
SEVERITY_ORDER: dict[str, int] = {"blocker": 0, "waypoint": 1, "warning": 2, "info": 3}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    resource: str  # "Kind namespace/name" ("Kind name" for cluster-scoped objects)
    namespace: str = ""  # "" for cluster-level findings
    detail: str = ""
    count: int = 0
    version: str = ""
    minimum: str = ""
    served: bool = False
    """Waypoint findings: a waypoint already serves the resource's target, so nothing is left to deploy."""

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.code]

    def fields(self) -> dict[str, str | int]:
        return {
            "resource": self.resource,
            "namespace": self.namespace,
            "detail": self.detail,
            "count": self.count,
            "version": self.version,
            "minimum": self.minimum,
        }


def sort_key(f: Finding) -> tuple[int, str, str, str]:
    return (SEVERITY_ORDER[f.severity], f.code, f.namespace, f.resource)


def render(f: Finding, kb: KnowledgeBase, language: Language) -> tuple[str, str, str]:
    """(title, message, kb id) in the language; a code the knowledge base lacks still reads sensibly."""
    text = kb.findings.get(f.code)
    if text is None:
        return f.code, f"{f.code}: {f.resource} {f.detail}".strip(), f.code
    values: defaultdict[str, str | int] = defaultdict(str, f.fields())
    message = text.message.in_(language).format_map(values)
    return text.title.in_(language), message, text.kb
