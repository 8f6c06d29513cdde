"""Precheck verdict per namespace (DESIGN.md): unknown (not all was read) > blocked > needs-waypoint > ready."""

from __future__ import annotations

from typing import Literal

from cluster.analysis.findings import Finding

Verdict = Literal["ready", "needs-waypoint", "blocked", "unknown"]
# `unknown` ranks above every threshold: a gate fails closed on what it could not see.
VERDICT_ORDER: dict[str, int] = {"ready": 0, "needs-waypoint": 1, "blocked": 2, "unknown": 3}


def verdict(findings: list[Finding], *, cluster_blocked: bool = False) -> Verdict:
    """A cluster-level blocker (control plane too old) blocks every namespace as well."""
    if cluster_blocked or any(f.severity == "blocker" for f in findings):
        return "blocked"
    if any(f.severity == "waypoint" and not f.served for f in findings):
        return "needs-waypoint"
    return "ready"


def reaches(found: Verdict, threshold: Verdict) -> bool:
    """`--fail-on needs-waypoint` also fails on blocked."""
    return VERDICT_ORDER[found] >= VERDICT_ORDER[threshold]
