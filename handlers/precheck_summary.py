"""The head of a precheck answer: verdict totals and the blockers that stop the most namespaces.

A precheck of hundreds of namespaces is read from the top: how many are blocked, need a waypoint,
are ready or could not be judged, and which few findings block most of them. The per-namespace
table and the findings follow as the detail.
"""

from __future__ import annotations

from collections import defaultdict

from cluster.analysis import NamespaceView
from cluster.analysis.findings import Finding
from handlers.messages import msg
from handlers.reply import Section
from knowledge import Language

TOP_BLOCKERS = 5
NAMES_SHOWN = 3
TOTALS = ("blocked", "needs-waypoint", "ready", "unknown")


def verdict_totals(namespaces: list[NamespaceView]) -> dict[str, int]:
    """Namespaces per verdict; any verdict other than the three decided ones counts as unknown."""
    totals = dict.fromkeys(TOTALS, 0)
    for ns in namespaces:
        totals[ns.verdict if ns.verdict in totals else "unknown"] += 1
    return totals


def top_blockers(namespaces: list[NamespaceView], cluster_findings: list[Finding]) -> list[tuple[str, list[str]]]:
    """Blocker codes with the namespaces they block, most namespaces first.

    A cluster-level blocker (an istiod too old) blocks every namespace checked, so it leads.
    """
    blocked: dict[str, set[str]] = defaultdict(set)
    everyone = [ns.name for ns in namespaces]
    for f in cluster_findings:
        if f.severity == "blocker":
            blocked[f.code].update(everyone)
    for ns in namespaces:
        for f in ns.findings:
            if f.severity == "blocker":
                blocked[f.code].add(ns.name)
    ranked = sorted(blocked.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(code, sorted(names)) for code, names in ranked[:TOP_BLOCKERS]]


def summary_section(namespaces: list[NamespaceView], cluster_findings: list[Finding], lang: Language) -> Section:
    totals = verdict_totals(namespaces)
    lines = [
        msg(
            "precheck.summary.totals",
            lang,
            count=len(namespaces),
            blocked=totals["blocked"],
            waypoint=totals["needs-waypoint"],
            ready=totals["ready"],
            unknown=totals["unknown"],
        )
    ]
    blockers = top_blockers(namespaces, cluster_findings)
    if blockers:
        lines += ["", msg("precheck.summary.top_blockers", lang)]
        for code, names in blockers:
            shown = ", ".join(names[:NAMES_SHOWN]) + (", …" if len(names) > NAMES_SHOWN else "")
            lines.append(msg("precheck.summary.blocker", lang, code=code, count=len(names), names=shown))
    return Section(heading=msg("precheck.summary.heading", lang), text="\n".join(lines))
