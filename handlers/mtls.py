"""`mtls [NAMESPACE]`: effective mTLS mesh-wide, per namespace and per workload, with the policy that decided."""

from __future__ import annotations

from typing import Any

from handlers.cluster_common import NamespaceArgs, finding_items, finding_json, scope, source_notes, table
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import command
from handlers.reply import Reply, Section
from handlers.traffic_common import finish_observed, observed_mtls, start_observed

MTLS_CODES = frozenset({"strict-with-unmeshed-pods", "mtls-disable-unsupported"})


@command(
    "mtls",
    usage="mtls [NAMESPACE]",
    en="Effective mTLS (STRICT/PERMISSIVE/DISABLE) per namespace and workload, and which PeerAuthentication decided.",
    ko="네임스페이스·워크로드별 실효 mTLS(STRICT/PERMISSIVE/DISABLE)와 이를 결정한 PeerAuthentication.",
    example="mtls payments",
    reads_cluster=True,
    follow_ups=("plan",),
)
def mtls(args: NamespaceArgs, ctx: Context) -> Reply:
    observing = start_observed(ctx)  # Prometheus answers while the manifests are read and analysed
    found = scope(ctx, args.namespace)
    if isinstance(found, Reply):
        return found
    a, lang = found.analysis, ctx.language
    mesh = a.mtls.mesh
    rows: list[list[str]] = []
    workload_rows: list[list[str]] = []
    items: list[dict[str, Any]] = []
    all_findings = []
    for ns in found.namespaces:
        decision = a.namespace_mtls(ns.name)
        workloads = []
        for w in a.workload_mtls(ns.name):
            d = w.decision
            workloads.append({"name": w.name, "mode": d.mode, "ports": d.ports, "pods": w.pods, "source": d.source})
            if d.policy is not None:
                ports = ", ".join(f"{p}={m}" for p, m in d.ports.items()) or "-"
                workload_rows.append([ns.name, w.name, str(w.pods), d.mode, ports, d.source])
        findings = [f for f in ns.findings if f.code in MTLS_CODES]
        all_findings += findings
        items.append(
            {
                "name": ns.name,
                "mode": decision.mode,
                "source": decision.source,
                "workloads": workloads,
                "findings": [finding_json(f, ctx) for f in findings],
            }
        )
        rows.append([ns.name, decision.mode, decision.source])
    notes, source = source_notes(a, ctx)
    sections = [*notes, Section(text=msg("mtls.mesh", lang, mode=mesh.mode, source=mesh.source))]
    if rows:
        sections.append(Section(table=table("mtls.columns", ctx, rows)))
    if workload_rows:
        sections.append(
            Section(heading=msg("mtls.workloads", lang), table=table("mtls.workload_columns", ctx, workload_rows))
        )
    data = {"mesh": {"mode": mesh.mode, "source": mesh.source}, "namespaces": items, **source}
    declared = {str(item["name"]): str(item["mode"]) for item in items}
    observed_sections, observed = observed_mtls(finish_observed(observing, ctx), declared, ctx)
    sections += observed_sections
    if observed is not None:
        data["observed"] = observed  # additive: only with --prometheus
    return Reply(
        title=msg("mtls.title", lang),
        sections=sections,
        findings=finding_items(all_findings, ctx),
        data=data,
        language=lang,
    )
