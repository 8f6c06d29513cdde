"""`advise [--need KEY ...]`: the seed's mode decision tree, with its conflict rule spelled out."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, option
from handlers.reply import Action, Reply, Section, Table, command_button, error_reply
from knowledge import Language
from knowledge.schema import AdviceRules, Need, Text

ADVISE_NEED = "advise"
"""Action id of a need button: it runs `advise` again with one more `--need` (handlers.reply.command_button)."""


@dataclass(frozen=True)
class Advice:
    mode: str
    waypoint: bool
    conflict: bool
    """The needs pointed to different modes, so the rule decided."""
    unmet: list[Need]
    """Chosen needs the recommended mode cannot fully meet (the trade-off to state)."""


@dataclass(frozen=True)
class AdviseArgs(Args):
    need: list[str] = option(
        "--need",
        action="append",
        metavar="NEED",
        help="a need (repeat, or comma-separate): l7, tracing, per-pod-metrics, resource-efficiency, "
        "legacy-no-injection, new-build",
    )


@command(
    "advise",
    usage="advise [--need l7|tracing|per-pod-metrics|resource-efficiency|legacy-no-injection|new-build ...]",
    en="Recommend sidecar or ambient mode from your needs (the Istio Core Patterns decision tree).",
    ko="요구사항으로 sidecar / ambient 모드를 추천합니다 (Istio Core Patterns 결정 트리).",
    example="advise --need l7 --need resource-efficiency",
)
def advise(args: AdviseArgs, ctx: Context) -> Reply:
    lang = ctx.language
    known = {need.key: need for need in ctx.kb.decision.needs}
    chosen: list[Need] = []
    for key in (part.strip().lower() for value in args.need for part in value.split(",")):
        if key not in known:
            return error_reply(msg("advise.unknown", lang, need=key, known=", ".join(known)), language=lang)
        if known[key] not in chosen:
            chosen.append(known[key])
    if not chosen:
        return questions(list(known.values()), lang)
    rules = ctx.kb.advice or AdviceRules(
        rule=Text(en=msg("advise.rule_default", "en"), ko=msg("advise.rule_default", "ko"))
    )
    advice = decide(chosen, rules)
    reply = recommendation(chosen, advice, rules, lang)
    return with_need_buttons(reply, chosen, list(known.values()), lang)


def need_argv(needs: list[Need]) -> list[str]:
    return [word for need in needs for word in ("--need", need.key)]


def need_button(chosen: list[Need], need: Need, lang: Language) -> Action:
    """A deciding question as a button: a click re-runs advise with this need added, in place."""
    return command_button(ADVISE_NEED, need.question.in_(lang), need_argv([*chosen, need]), lang, refine=True)


def with_need_buttons(reply: Reply, chosen: list[Need], needs: list[Need], lang: Language) -> Reply:
    """The needs not chosen yet, as buttons: each click refines the advice by one need."""
    buttons = [need_button(chosen, need, lang) for need in needs if need not in chosen]
    if not buttons:
        return reply
    sections = [*reply.sections, Section(text=msg("slack.advise.pick", lang))]
    return reply.model_copy(update={"sections": sections, "actions": [*reply.actions, *buttons]})


def default_rules() -> AdviceRules:
    """For a knowledge dir without advice.yaml: no overrides, a plain rule text."""
    return AdviceRules(rule=Text(en=msg("advise.rule_default", "en"), ko=msg("advise.rule_default", "ko")))


def decide(chosen: list[Need], rules: AdviceRules) -> Advice:
    """The seed's tree for several needs at once (the order is advice.yaml's `rule`)."""
    keys = {need.key for need in chosen}
    sidecar_needs = [n for n in chosen if n.mode == "sidecar"]
    ambient_needs = [n for n in chosen if n.mode == "ambient"]
    conflict = bool(sidecar_needs and ambient_needs)
    served_by_waypoint = [n for n in sidecar_needs if n.key in rules.waypoint_serves]
    kept_by_sidecar = [n for n in sidecar_needs if n.key not in rules.waypoint_serves]
    if keys & set(rules.only_ambient) or (ambient_needs and not kept_by_sidecar):
        return Advice("ambient", bool(served_by_waypoint), conflict, kept_by_sidecar)
    if sidecar_needs:
        return Advice("sidecar", False, conflict, ambient_needs)
    return Advice("ambient", False, conflict, [])


def recommendation(chosen: list[Need], advice: Advice, rules: AdviceRules, lang: Language) -> Reply:
    headline = msg("advise.recommend_waypoint" if advice.waypoint else "advise.recommend", lang, mode=advice.mode)
    reasons = [need.reason.in_(lang) for need in chosen]
    sections = [
        Section(text=headline),
        Section(
            heading=msg("advise.why", lang),
            text="\n".join(f"- {n.key}: {r}" for n, r in zip(chosen, reasons, strict=True)),
        ),
    ]
    if advice.waypoint:
        waypoint_texts = [n.waypoint.in_(lang) for n in chosen if n.waypoint is not None and n.mode == "ambient"]
        text = "\n".join([msg("advise.waypoint_needed", lang), *waypoint_texts])
        sections.append(Section(heading=msg("advise.waypoint", lang), text=text))
    if advice.unmet:
        needs = ", ".join(n.key for n in advice.unmet)
        sections.append(Section(text=msg("advise.not_met", lang, mode=advice.mode, needs=needs)))
    if advice.conflict or advice.unmet:
        sections.append(Section(heading=msg("advise.rule", lang), text=rules.rule.in_(lang)))
    kbs = sorted({n.kb for n in chosen})
    sections.append(Section(text=msg("advise.more", lang, kb=", ".join(kbs))))
    return Reply(
        title=msg("advise.title", lang),
        sections=sections,
        data={
            "mode": advice.mode,
            "needs": [n.key for n in chosen],
            "reasons": reasons,
            "waypoint": advice.waypoint,
            "questions": [],
        },
        language=lang,
    )


def questions(needs: list[Need], lang: Language) -> Reply:
    rows = [[f"--need {n.key}", n.question.in_(lang), n.mode] for n in needs]
    return Reply(
        title=msg("advise.title", lang),
        sections=[
            Section(text=msg("advise.questions", lang)),
            Section(
                table=Table(columns=[msg(f"advise.col.{c}", lang) for c in ("need", "question", "mode")], rows=rows)
            ),
        ],
        actions=[need_button([], n, lang) for n in needs],
        data={
            "mode": None,
            "needs": [],
            "reasons": [],
            "waypoint": False,
            "questions": [{"need": n.key, "question": n.question.in_(lang), "points_to": n.mode} for n in needs],
        },
        language=lang,
    )
