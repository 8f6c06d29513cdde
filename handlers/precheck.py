"""`precheck [NAMESPACE] [--fail-on V]`: is each namespace ready for ambient? Findings and a verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cluster.analysis.istiod import istiod_verdicts
from cluster.analysis.reading import kubectl_line, unread_kinds
from cluster.analysis.verdict import Verdict, reaches
from cluster.analysis.version import fmt
from handlers.cluster_common import finding_items, finding_json, namespace_arg, scope, source_notes, table, version_text
from handlers.context import Context
from handlers.messages import msg
from handlers.precheck_summary import summary_section
from handlers.registry import Args, command, option
from handlers.reply import Action, Reply, Section, Severity
from handlers.traffic_common import finish_observed, notes_section, plaintext_finding, start_observed

EXIT_VERDICT = 1
VERDICT_TONE: dict[str, Severity] = {"blocked": "blocker", "needs-waypoint": "waypoint", "unknown": "warning"}
"""How a surface marks a namespace's row (the terminal colours it)."""
MAX_PLAN_BUTTONS = 5


@dataclass(frozen=True)
class PrecheckArgs(Args):
    namespace: list[str] | None = namespace_arg()  # noqa: RUF009  (a dataclasses.field with a list factory)
    fail_on: Verdict | None = option(
        "--fail-on",
        choices=["blocked", "needs-waypoint"],
        help="exit non-zero when a namespace reaches this verdict (needs-waypoint also fails on blocked)",
    )


@command(
    "precheck",
    usage="precheck [NAMESPACE] [--fail-on blocked|needs-waypoint]",
    en="Ambient readiness per namespace: blockers, waypoint needs and warnings, with a verdict.",
    ko="네임스페이스별 ambient 준비 상태: 차단 요소, waypoint 필요 여부, 경고와 판정.",
    example="precheck payments --fail-on blocked",
    reads_cluster=True,
    follow_ups=("plan",),
)
def precheck(args: PrecheckArgs, ctx: Context) -> Reply:
    observing = start_observed(ctx)  # Prometheus answers while the manifests are read and analysed
    found = scope(ctx, args.namespace, candidates_only=True)
    if isinstance(found, Reply):
        return found
    a, lang = found.analysis, ctx.language
    rows: list[list[str]] = []
    tones: list[Severity | None] = []
    items: list[dict[str, Any]] = []
    findings = list(a.cluster_findings)
    observed = finish_observed(observing, ctx)
    for ns in found.namespaces:
        ns_findings = list(ns.findings)
        traffic = observed.namespace(ns.name) if observed else None
        # A warning, so the verdict stands; only where STRICT is declared (plaintext there is refused or unenforced).
        if observed and traffic and a.namespace_mtls(ns.name).mode == "STRICT":
            extra = plaintext_finding(traffic, observed.window, lang)
            ns_findings += [extra] if extra else []
        by = {s: sum(1 for f in ns_findings if f.severity == s) for s in ("blocker", "waypoint", "warning")}
        items.append(
            {
                "name": ns.name,
                "mode": ns.mode,
                "verdict": ns.verdict,
                "findings": [finding_json(f, ctx) for f in ns_findings],
                "istiod": istiod_verdicts(a, ns),  # istiod's own status conditions, beside meshbot's verdict
            }
        )
        verdict = msg(f"verdict.{ns.verdict}", lang)
        served = sum(1 for f in ns_findings if f.severity == "waypoint" and f.served)
        waypoint = str(by["waypoint"] - served) + (msg("precheck.served", lang, count=served) if served else "")
        rows.append([ns.name, ns.mode, verdict, str(by["blocker"]), waypoint, str(by["warning"])])
        tones.append(VERDICT_TONE.get(ns.verdict))
        findings += ns_findings
    notes, source = source_notes(a, ctx)
    notes += notes_section(observed, ctx)
    sections = [
        *notes,
        summary_section(found.namespaces, a.cluster_findings, lang),
        Section(heading=msg("precheck.cluster", lang), text=version_text(a, ctx)),
    ]
    istiod_lines = [
        msg("precheck.istiod_line", lang, namespace=item["name"], **v)
        for item in items
        for v in item["istiod"]
        if v["status"] != "True" or v["reason"] == "UnsupportedValue"  # accepted, but not as written
    ]
    if istiod_lines:
        sections.append(Section(heading=msg("precheck.istiod", lang), text="\n".join(istiod_lines)))
    sections.append(
        Section(table=table("precheck.columns", ctx, rows).model_copy(update={"row_severity": tones}))
        if rows
        else Section(text=msg("precheck.no_candidates", lang))
    )
    exit_code = 0
    if args.fail_on:
        # `unknown` reaches every threshold: a gate fails closed on kinds it could not read.
        failing = [ns for ns in found.namespaces if ns.verdict != "unknown" and reaches(ns.verdict, args.fail_on)]
        unread = unread_kinds(a)
        if failing:
            exit_code = EXIT_VERDICT
            sections.append(Section(text=msg("precheck.failed", lang, count=len(failing), verdict=args.fail_on)))
        if unread:
            exit_code = EXIT_VERDICT
            kinds = ",".join(unread)
            sections.append(Section(text=msg("precheck.incomplete", lang, kinds=kinds, kubectl=kubectl_line(unread))))
    cluster_name = source.pop("cluster", None)
    data = {
        "cluster": {
            "name": cluster_name,
            "istio_version": fmt(a.version.newest),
            "findings": [finding_json(f, ctx) for f in a.cluster_findings],
        },
        "namespaces": items,
        **source,
    }
    not_ready = [ns.name for ns in found.namespaces if ns.verdict != "ready"][:MAX_PLAN_BUTTONS]
    actions = [Action(action_id="plan", label=f"plan {name}", value=name) for name in not_ready]
    return Reply(
        title=msg("precheck.title", lang),
        actions=actions,
        sections=sections,
        findings=finding_items(findings, ctx),
        data=data,
        language=lang,
        exit_code=exit_code,
    )
