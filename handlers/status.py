"""`status [NAMESPACE]`: each namespace's data-plane mode, pods by mode, waypoints and mTLS."""

from __future__ import annotations

from typing import Any

from cluster.analysis.modes import redirection_pending
from cluster.analysis.version import fmt
from handlers.cluster_common import NamespaceArgs, Scope, scope, source_notes, table, version_text
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import command
from handlers.reply import Action, Reply, Section


@command(
    "status",
    usage="status [NAMESPACE]",
    en="Data-plane mode per namespace: pods with a sidecar, in ambient or without a proxy; waypoints; mTLS.",
    ko="네임스페이스별 데이터 플레인 모드: sidecar/ambient/프록시 없는 Pod 수, waypoint, mTLS.",
    example="status payments",
    reads_cluster=True,
    follow_ups=("plan",),
)
def status(args: NamespaceArgs, ctx: Context) -> Reply:
    found = scope(ctx, args.namespace)
    if isinstance(found, Reply):
        return found
    return _reply(found, ctx)


def _reply(found: Scope, ctx: Context) -> Reply:
    a, lang = found.analysis, ctx.language
    rows: list[list[str]] = []
    items: list[dict[str, Any]] = []
    totals = {"sidecar": 0, "ambient": 0, "none": 0}
    infra = pending = 0
    for ns in found.namespaces:
        counts = ns.counts()
        waypoints = [w.name if w.namespace == ns.name else w.key for w in a.waypoints_of(ns.name)]
        mode = a.namespace_mtls(ns.name).mode
        items.append(
            {
                "name": ns.name,
                "mode": ns.mode,
                "pods": counts,
                "waypoints": waypoints,
                "mtls": mode,
                "infrastructure": ns.infrastructure,
            }
        )
        rows.append(
            [
                ns.name,
                ns.mode,
                str(counts["sidecar"]),
                str(counts["ambient"]),
                str(counts["none"]),
                str(ns.infrastructure),
                ", ".join(waypoints) or "-",
                mode,
            ]
        )
        for key in totals:
            totals[key] += counts[key]
        infra += ns.infrastructure
        pending += sum(1 for p in ns.workload_pods if redirection_pending(p.pod))
    notes, source = source_notes(a, ctx)
    summary = msg("status.summary", lang, namespaces=len(found.namespaces), infra=infra, **totals)
    if pending:
        summary += "\n" + msg("status.pending", lang, count=pending)
    sections = [
        *notes,
        Section(text=version_text(a, ctx)),
        Section(table=table("status.columns", ctx, rows)) if rows else Section(text=msg("cluster.no_namespaces", lang)),
        Section(text=summary),
    ]
    data = {"namespaces": items, "istio_version": fmt(a.version.newest), **source}
    check = found.named or ""
    actions = [Action(action_id="precheck", label=f"precheck {check}".strip(), value=check)]
    return Reply(title=msg("status.title", lang), sections=sections, actions=actions, data=data, language=lang)
