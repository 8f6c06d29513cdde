"""`savings [NAMESPACE]`: what the sidecars request now vs ztunnel per node plus waypoints in ambient."""

from __future__ import annotations

from cluster.analysis.savings import savings as estimate
from handlers.cluster_common import NamespaceArgs, scope, source_notes, table
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import command
from handlers.reply import Reply, Section


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
    sections = [
        *notes,
        Section(table=table("savings.columns", ctx, rows)),
        Section(
            text=msg(
                "savings.summary" if s.saving_percent >= 0 else "savings.summary_more",
                lang,
                pods=s.pods_with_sidecar,
                nodes=s.nodes,
                waypoints=s.waypoints,
                percent=abs(s.saving_percent),
            )
        ),
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
        ),
    ]
    data = {
        "pods_with_sidecar": s.pods_with_sidecar,
        "nodes": s.nodes,
        "waypoints": s.waypoints,
        "sidecar": s.sidecar.as_json(),
        "ambient": s.ambient.as_json(),
        "saving_percent": s.saving_percent,
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
