"""A migration's progress: which checklist items the cluster shows done, and what moved since the last look."""

from __future__ import annotations

from collections.abc import Callable

from handlers.mesh_facts import Observation
from handlers.messages import msg
from knowledge import KnowledgeBase, Language
from knowledge.schema import Checklist

ENVOYFILTER_CODES = frozenset({"envoyfilter-unsupported", "lua-filter"})


def _sidecars_gone(o: Observation) -> bool:
    return o.mode == "ambient" and o.pods.get("sidecar", 0) == 0


CHECKS: dict[str, Callable[[Observation], bool]] = {
    # Cluster-wide, or the namespace's own: it may still use an old revision during a canary upgrade.
    "istio-version": lambda o: "istio-version-too-old" not in {*o.cluster_findings, *o.findings},
    "kernel-version": lambda o: "kernel-too-old" not in o.cluster_findings,
    "cni-compatibility": lambda o: "cni-compatibility" not in o.cluster_findings,
    "envoyfilter-usage": lambda o: not ENVOYFILTER_CODES & set(o.findings),
    "namespace-labels": lambda o: o.mode == "ambient",
    "sidecars-removed": _sidecars_gone,
    # Done when a waypoint serves the namespace, or when nothing in it needs L7 (then none should be deployed).
    "waypoint-deployed": lambda o: o.mode == "ambient" and (bool(o.waypoints) or not o.waypoint_needed),
    # Every workload pod enrolled in ambient: ztunnel carries all its traffic over mTLS (HBONE).
    "mtls-verified": lambda o: _sidecars_gone(o) and o.pods.get("none", 0) == 0 and o.pods.get("ambient", 0) > 0,
}


def migration_checklist(kb: KnowledgeBase) -> Checklist | None:
    """The checklist whose items the cluster can tick: the one with the most `check` names."""
    ranked = sorted(
        kb.checklists.values(),
        key=lambda c: -sum(1 for g in c.groups for item in g.items if item.check in CHECKS),
    )
    best = ranked[0] if ranked else None
    if best is None or not any(item.check in CHECKS for g in best.groups for item in g.items):
        return None
    return best


def tick(kb: KnowledgeBase, observation: Observation) -> dict[str, bool]:
    """Check name -> done, for every automatic item of the migration checklist."""
    checklist = migration_checklist(kb)
    if checklist is None or not observation.exists:
        return {}
    names = [item.check for g in checklist.groups for item in g.items if item.check in CHECKS]
    return {name: CHECKS[name](observation) for name in names if name is not None}


def checklist_text(kb: KnowledgeBase, ticked: dict[str, bool], language: Language) -> str:
    """The checklist with ✅ on items the cluster confirmed, ☐ elsewhere (manual items stay ☐)."""
    checklist = migration_checklist(kb)
    if checklist is None:
        return ""
    lines: list[str] = []
    for group in checklist.groups:
        lines.append(f"**{group.title.in_(language)}**")
        for item in group.items:
            done = bool(item.check and ticked.get(item.check))
            auto = "" if not item.check else " _(auto)_"
            lines.append(f"{'✅' if done else '☐'} {item.text.in_(language)}{auto if not done else ''}")
    return "\n".join(lines)


def progress_lines(before: Observation | None, after: Observation, language: Language) -> list[str]:
    """What moved in the namespace between two progress checks (labels, sidecars, waypoints, mTLS, findings)."""
    if before is None:
        return []
    lines: list[str] = []
    if before.mode != after.mode:
        lines.append(msg("migrate.progress.mode", language, before=before.mode, after=after.mode))
    b_side, a_side = before.pods.get("sidecar", 0), after.pods.get("sidecar", 0)
    if b_side != a_side:
        lines.append(msg("migrate.progress.sidecars", language, before=b_side, after=a_side))
    if a_side and after.mode == "ambient" and (b_side != a_side or before.mode != after.mode):
        names = ", ".join(f"`{n}`" for n in after.sidecar_pods)
        more = a_side - len(after.sidecar_pods)
        lines.append(
            msg("migrate.progress.left", language, count=a_side, pods=names)
            + (" " + msg("digest.more", language, count=more) if more > 0 else "")
        )
    b_amb, a_amb = before.pods.get("ambient", 0), after.pods.get("ambient", 0)
    if b_amb != a_amb:
        lines.append(msg("migrate.progress.ambient", language, before=b_amb, after=a_amb))
    for w in sorted(set(after.waypoints) - set(before.waypoints)):
        lines.append(msg("migrate.progress.waypoint", language, waypoint=w))
    for w in sorted(set(before.waypoints) - set(after.waypoints)):
        lines.append(msg("migrate.progress.waypoint_gone", language, waypoint=w))
    if before.mtls != after.mtls:
        lines.append(msg("migrate.progress.mtls", language, before=before.mtls, after=after.mtls))
    for code in sorted(set(after.findings) - set(before.findings)):
        lines.append(msg("digest.change.appeared", language, finding=f"`{code}`"))
    for code in sorted(set(before.findings) - set(after.findings)):
        lines.append(msg("digest.change.resolved", language, finding=f"`{code}`"))
    return lines
