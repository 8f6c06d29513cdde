"""Findings: stable codes (DESIGN.md), their severity, and their message from knowledge/data/findings.yaml."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from knowledge import KnowledgeBase, Language

PHRASES_FILE = Path(__file__).with_name("finding_phrases.yaml")
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
    "incomplete-reading": "blocker",
    # From Prometheus, not the manifests (cluster/traffic; handlers/traffic_common.py builds it).
    "plaintext-traffic-observed": "warning",
    "unsupported-topology": "blocker",
    "wasm-needs-waypoint": "waypoint",
    "virtualservice-scope": "waypoint",
    "waypoint-not-usable": "warning",
    "sidecar-callers-bypass-waypoint": "warning",
    "istiod-rejected-policy": "warning",
    "networkpolicy-blocks-hbone": "blocker",
}
CLUSTER_CODES = frozenset(
    {"istio-version-too-old", "kernel-too-old", "cni-compatibility", "unsupported-topology", "incomplete-reading"}
)
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
    effect: str = ""
    """A key of finding_phrases.yaml: what ztunnel does with the resource (rendered as {effect})."""
    why: str = ""
    """A key of finding_phrases.yaml: the cause in words (rendered as {why})."""

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


@cache
def _phrases() -> dict[str, dict[str, str]]:
    loaded = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    return {str(k): {"en": str(v["en"]), "ko": str(v["ko"])} for k, v in loaded.items()}


def effect_text(effect: str, language: Language) -> str:
    phrase = _phrases().get(effect)
    return phrase["ko" if language == "ko" else "en"] if phrase else effect


def render(f: Finding, kb: KnowledgeBase, language: Language) -> tuple[str, str, str]:
    """(title, message, kb id) in the language; a code the knowledge base lacks still reads sensibly."""
    text = kb.findings.get(f.code)
    if text is None:
        return f.code, f"{f.code}: {f.resource} {f.detail}".strip(), f.code
    values: defaultdict[str, str | int] = defaultdict(str, f.fields())
    # Whole sentences (or nothing): templates put {why} and {effect} before their fix. Phrases may use the fields.
    for key in ("why", "effect"):
        phrase = getattr(f, key)
        values[key] = effect_text(phrase, language).format_map(values).rstrip(". ") + ". " if phrase else ""
    message = text.message.in_(language).format_map(values)
    return text.title.in_(language), message, text.kb
