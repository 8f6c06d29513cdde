"""A migration checked by its effect: a baseline before the label switch, the comparison after it.

Before: the sidecars' `reporter="destination"` series over the configured window. After (once
the namespace is ambient and its pods restarted): the waypoint's `reporter="waypoint"` series
when a waypoint serves it, else ztunnel's connection rate (ztunnel has no request metrics),
over the time since the baseline. The comparison is posted once in the migration thread; a clear
regression (cluster/traffic/effect.py) adds a warning with the rollback commands.
"""

from __future__ import annotations

import time
from typing import Any

from cluster.traffic.client import PrometheusError, duration_seconds, duration_text
from cluster.traffic.effect import Effect, Reporter, read_effect, regressions
from handlers.context import Context
from handlers.mesh_facts import Observation
from handlers.messages import msg
from handlers.migration_phases import phases
from handlers.reply import Reply, Section, Table
from knowledge import Language

MIN_AFTER_SECONDS = 60
"""The shortest window the 'after' numbers are read over (a few scrapes at least)."""


def _fault(exc: PrometheusError, ctx: Context) -> str:
    return msg(f"traffic.fault.{exc.kind}", ctx.language, url=getattr(ctx.traffic, "url", ""), detail=exc.detail)


def record_baseline(namespace: str, observation: Observation, ctx: Context) -> str | None:
    """Read the 'before' numbers into observation.traffic; the line to show, or None without Prometheus."""
    if ctx.traffic is None or observation.mode == "ambient":
        return None
    try:
        before = read_effect(ctx.traffic, namespace, "destination", ctx.traffic_window)
    except PrometheusError as exc:
        return msg("migrate.effect.no_baseline", ctx.language, why=_fault(exc, ctx))
    observation.traffic = {"baseline": before.model_dump(), "baseline_at": time.time(), "compared": False}
    if before.rate is None:
        return msg("migrate.effect.baseline_empty", ctx.language, namespace=namespace, window=ctx.traffic_window)
    return msg("migrate.effect.baseline", ctx.language, **_figures(before, ctx.language))


def _figures(e: Effect, language: Language) -> dict[str, str]:
    unit = "conn/s" if e.reporter == "ztunnel" else "req/s"
    return {
        "rate": "-" if e.rate is None else f"{e.rate:.2f} {unit}",
        "errors": "-" if e.error_ratio is None else f"{100 * e.error_ratio:.1f}%",
        "p99": "-" if e.p99_ms is None else f"{e.p99_ms:.0f} ms",
        "reporter": msg(f"migrate.effect.reporter.{e.reporter}", language),
        "window": e.window,
    }


def switched(observation: Observation) -> bool:
    """The labels say ambient and the pods came back enrolled: the 'after' series now describe the namespace."""
    return observation.mode == "ambient" and observation.pods.get("ambient", 0) > 0


def compare_after_switch(
    namespace: str, memo: dict[str, Any], observation: Observation, ctx: Context
) -> tuple[Reply | None, dict[str, Any]]:
    """The comparison to post (once), and the memo to keep; (None, memo) when not yet due or not readable."""
    if ctx.traffic is None or not memo.get("baseline") or memo.get("compared") or not switched(observation):
        return None, memo
    before = Effect.model_validate(memo["baseline"])
    since = time.time() - float(memo.get("baseline_at", 0))
    window = duration_text(min(max(since, MIN_AFTER_SECONDS), duration_seconds(ctx.traffic_window)))
    reporter: Reporter = "waypoint" if observation.waypoints else "ztunnel"
    try:
        after = read_effect(ctx.traffic, namespace, reporter, window)
    except PrometheusError:
        return None, memo  # tried again at the next check
    if after.rate is None:
        return None, memo  # no traffic seen through the new path yet
    lang = ctx.language
    b, a = _figures(before, lang), _figures(after, lang)
    rows = [
        [msg("migrate.effect.rate", lang), b["rate"], a["rate"]],
        [msg("migrate.effect.errors", lang), b["errors"], a["errors"]],
        [msg("migrate.effect.p99", lang), b["p99"], a["p99"]],
    ]
    columns = [
        msg("migrate.effect.metric", lang),
        msg("migrate.effect.before", lang, reporter=b["reporter"], window=before.window),
        msg("migrate.effect.after", lang, reporter=a["reporter"], window=after.window),
    ]
    sections = [Section(table=Table(columns=columns, rows=rows), text=msg("migrate.effect.rate_note", lang))]
    if reporter == "ztunnel":
        sections.append(Section(text=msg("migrate.effect.l4_only", lang)))
    found = regressions(before, after)
    if found:
        what = ", ".join(msg(f"migrate.effect.regression.{r}", lang) for r in found)
        rollback = phases().rollback.in_(lang).format(namespace=namespace)
        sections.append(
            Section(
                heading=msg("migrate.effect.warning", lang),
                text=msg("migrate.effect.regressed", lang, namespace=namespace, what=what) + f"\n```\n{rollback}\n```",
            )
        )
    else:
        sections.append(Section(text=msg("migrate.effect.fine", lang)))
    reply = Reply(
        title=msg("migrate.effect.title", lang, namespace=namespace),
        sections=sections,
        language=lang,
        data={
            "namespace": namespace,
            "before": before.model_dump(),
            "after": after.model_dump(),
            "regressions": list(found),
        },
    )
    return reply, {**memo, "compared": True, "after": after.model_dump(), "regressions": list(found)}
