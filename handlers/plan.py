"""`plan NAMESPACE`: the migration steps for one namespace with its real names, blockers first, rollback.

JSON: {"namespace", "mode", "verdict", "fix_first": [finding], "steps": [{"title", "commands"}], "rollback": [command]}.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.analysis.plan import plan as build_plan
from handlers.cluster_common import finding_items, finding_json, scope, source_notes
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, positional
from handlers.reply import Action, Reply, Section
from handlers.traffic_common import finish_observed, notes_section, start_observed, strict_verdict


def _code(commands: list[str]) -> str:
    return "```\n" + "\n".join(commands) + "\n```" if commands else ""


@dataclass(frozen=True)
class PlanArgs(Args):
    namespace: str = positional(names="namespace", help="the namespace to migrate")


@command(
    "plan",
    usage="plan NAMESPACE",
    en="Step-by-step sidecar -> ambient migration for a namespace, with the exact commands and a rollback.",
    ko="네임스페이스의 sidecar → ambient 전환 단계를 정확한 명령어와 롤백 방법까지 보여줍니다.",
    example="plan payments",
    reads_cluster=True,
)
def plan(args: PlanArgs, ctx: Context) -> Reply:
    observing = start_observed(ctx)  # Prometheus answers while the manifests are read and analysed
    found = scope(ctx, args.namespace, candidates_only=True)
    if isinstance(found, Reply):
        return found
    a, lang = found.analysis, ctx.language
    ns = found.namespaces[0]
    p = build_plan(a, ns)
    notes, source = source_notes(a, ctx)
    observed = finish_observed(observing, ctx)
    notes += notes_section(observed, ctx)
    verdict = msg(f"verdict.{p.verdict}", lang)
    sections = [*notes, Section(text=msg("plan.verdict", lang, verdict=verdict))]
    steps = []
    for number, step in enumerate(p.steps, start=1):
        title = msg(step.key, lang, **step.fields)
        steps.append({"title": title, "commands": step.commands})
        sections.append(Section(heading=f"{number}. {title}", text=_code(step.commands)))
    strict = strict_verdict(observed, ctx, ns.name) if observed else None
    if strict is not None and strict.finding is not None:  # planning STRICT: who would be refused
        title = msg("traffic.plan.step", lang)
        steps.append({"title": title, "commands": []})
        sections.append(Section(heading=f"{len(steps)}. {title}", text=strict.answer))
    elif strict is not None and strict.safe:
        sections.append(Section(text=msg("traffic.plan.safe", lang, namespace=ns.name, window=ctx.traffic_window)))
    rollback_text = _code(p.rollback) if p.rollback else msg("plan.no_rollback", lang)
    sections.append(Section(heading=msg("plan.rollback", lang), text=rollback_text))
    data = {
        "namespace": p.namespace,
        "mode": p.mode,
        "verdict": p.verdict,
        "fix_first": [finding_json(f, ctx) for f in p.fix_first],
        "steps": steps,
        "rollback": p.rollback,
        **source,
    }
    if strict is not None:  # additive: only with --prometheus
        data["observed"] = {
            "window": ctx.traffic_window,
            "safe_for_strict": strict.safe,
            "answer": strict.answer,
            "findings": [finding_json(strict.finding, ctx)] if strict.finding else [],
        }
    return Reply(
        title=msg(
            "plan.title_ambient" if p.mode == "ambient" else "plan.title", lang, namespace=p.namespace, mode=p.mode
        ),
        sections=sections,
        findings=finding_items(p.fix_first, ctx),
        actions=[Action(action_id="precheck", label=f"precheck {p.namespace}", value=p.namespace)],
        data=data,
        language=lang,
    )
