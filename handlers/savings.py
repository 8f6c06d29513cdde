"""`savings [NAMESPACE]`: what the sidecars request now vs ztunnel per node plus waypoints in ambient."""

from __future__ import annotations

from cluster.analysis.savings import Savings
from cluster.analysis.savings import savings as estimate
from handlers.cluster_common import NamespaceArgs, scope, source_notes, table
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import command
from handlers.reply import Reply, Section
from knowledge import Language


def _n(value: float) -> str:
    return f"{value:,.0f}"


@command(
    "savings",
    usage="savings [NAMESPACE]",
    en="Estimate the memory and CPU requests saved by moving the sidecars to ambient.",
    ko="sidecar를 ambient로 옮기면 줄어드는 메모리·CPU 요청량을 추정합니다.",
    example="savings payments",
    reads_cluster=True,
    follow_ups=("plan",),
)
def savings(args: NamespaceArgs, ctx: Context) -> Reply:
    found = scope(ctx, args.namespace)
    if isinstance(found, Reply):
        return found
    a, lang = found.analysis, ctx.language
    s = estimate(a, found.namespaces)
    rows = [
        [msg("savings.memory", lang), _n(s.sidecar.memory_mib), _n(s.ambient.memory_mib)],
        [msg("savings.cpu", lang), _n(s.sidecar.cpu_m), _n(s.ambient.cpu_m)],
    ]
    notes, source = source_notes(a, ctx)
    basis = msg(f"savings.basis.{s.ztunnel_basis}", lang)
    sections = [*notes, Section(table=table("savings.columns", ctx, rows)), *_summary(s, lang)]
    sections.append(
        Section(
            text="\n".join(
                [
                    msg("savings.basis_sidecar", lang, read=s.sidecar_from_requests, pods=s.pods_with_sidecar),
                    msg(
                        "savings.basis_ambient",
                        lang,
                        cpu=_n(s.ztunnel_each[0]),
                        memory=_n(s.ztunnel_each[1]),
                        basis=basis,
                        new=s.waypoints_new,
                    ),
                ]
            )
        )
    )
    data = {
        "pods_with_sidecar": s.pods_with_sidecar,
        "nodes": s.nodes,
        "waypoints": s.waypoints,
        "sidecar": s.sidecar.as_json(),
        "ambient": s.ambient.as_json(),
        "saving_percent": s.saving_percent,
        "marginal": {**s.marginal.as_json(), "saving_percent": s.marginal_percent},
        "already_running": {"ztunnel": s.ztunnel_running, "waypoints": s.waypoints - s.waypoints_new},
        "basis": {
            "sidecar_pods_from_requests": s.sidecar_from_requests,
            "sidecar_pods_seed_estimate": s.pods_with_sidecar - s.sidecar_from_requests,
            "ztunnel": s.ztunnel_basis,
            "ztunnel_each": {"cpu_m": s.ztunnel_each[0], "memory_mib": s.ztunnel_each[1]},
            "new_waypoints": s.waypoints_new,
        },
        "namespace": found.named,
        **source,
    }
    return Reply(title=msg("savings.title", lang), sections=sections, data=data, language=lang)


def _summary(s: Savings, lang: Language) -> list[Section]:
    """The marginal answer first (what the move changes), then the from-scratch total; no percentages of nothing."""
    if s.pods_with_sidecar == 0:
        running = msg("savings.no_sidecars.running", lang) if s.ztunnel_running else ""
        out = [Section(text=msg("savings.no_sidecars", lang, running=running))]
    elif s.nodes == 0 and not s.ztunnel_running:  # ztunnel's cost (one per node) is unknown: no percentage
        memory, cpu = _n(s.sidecar.memory_mib), _n(s.sidecar.cpu_m)
        return [Section(text=msg("savings.unknown_nodes", lang, pods=s.pods_with_sidecar, memory=memory, cpu=cpu))]
    else:
        added_key = "savings.added.running" if s.ztunnel_running else "savings.added.install"
        added = msg(added_key, lang, new=s.waypoints_new)
        marginal = s.marginal
        if marginal.memory_mib >= 0:
            text = msg(
                "savings.marginal",
                lang,
                pods=s.pods_with_sidecar,
                memory=_n(marginal.memory_mib),
                cpu=_n(marginal.cpu_m),
                percent=s.marginal_percent,
                added=added,
            )
        else:
            text = msg(
                "savings.marginal_more", lang, pods=s.pods_with_sidecar, memory=_n(-marginal.memory_mib), added=added
            )
        verdict_key = "savings.from_scratch.saves" if s.saving_percent >= 0 else "savings.from_scratch.costs"
        verdict = msg(verdict_key, lang, percent=abs(s.saving_percent))
        scratch = msg(
            "savings.from_scratch",
            lang,
            pods=s.pods_with_sidecar,
            nodes=s.nodes,
            waypoints=s.waypoints,
            verdict=verdict,
        )
        out = [Section(text=text), Section(text=scratch if s.nodes else msg("savings.no_nodes", lang))]
    return out
