"""`traffic [QUERY] [-n NAMESPACE]`: the guide's PromQL (corrected) run against the configured Prometheus.

Without QUERY it lists the named queries. With one, two queries at most: the instant value as a
short table, and (for the Slack chart) the trend over the window. Both are grouped, so the cost
does not grow with the number of namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.traffic.client import PrometheusError, Series, duration_seconds
from cluster.traffic.queries import NAMED_QUERIES, NamedQuery, named
from handlers.cluster_common import bad_namespace, table
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, option, positional
from handlers.reply import Chart, ChartSeries, Reply, Section, Table, error_reply

TOP_ROWS = 20
CHART_SERIES = 5
CHART_POINTS = 120
"""Points per line: enough for a trend, few enough for a small image and a light query."""
MAX_CHART_SECONDS = 7 * 86400


def _listing(ctx: Context) -> Reply:
    lang = ctx.language
    rows = [[q.name, q.ko if lang == "ko" else q.en] for q in NAMED_QUERIES]
    code = "\n".join(f"# {q.name}\n{q.query(None)}" for q in NAMED_QUERIES)
    sections = [
        Section(table=table("traffic.list.columns", ctx, rows)),
        Section(text=msg("traffic.list.how", lang) + f"\n```\n{code}\n```"),
    ]
    data = {"queries": [{"name": q.name, "description": q.en, "promql": q.query(None)} for q in NAMED_QUERIES]}
    return Reply(title=msg("traffic.list.title", lang), sections=sections, data=data, language=lang)


def _label(q: NamedQuery, labels: dict[str, str]) -> str:
    return " → ".join(labels.get(name, "-") for name in q.group)


def _value(value: float, unit: str) -> str:
    return f"{100 * value:.1f}%" if unit == "ratio" else f"{value:.3g} {unit}"


def _chart(q: NamedQuery, series: list[Series], ctx: Context) -> Chart | None:
    moving = [s for s in series if len(s.points) >= 2]
    if not moving:
        return None
    moving.sort(key=lambda s: -s.points[-1][1])
    title = f"{q.name} ({msg('traffic.chart.window', ctx.language, window=ctx.traffic_window)})"
    return Chart(
        title=title,
        unit=q.unit,
        series=[ChartSeries(label=_label(q, s.labels), points=s.points) for s in moving[:CHART_SERIES]],
    )


@dataclass(frozen=True)
class TrafficArgs(Args):
    query: str | None = positional(nargs="?", help="a named query (none: list them)")
    namespace: str | None = option("-n", "--namespace", names="namespace", help="only this destination namespace")


@command(
    "traffic",
    usage="traffic [QUERY] [-n NAMESPACE]",
    en="Run the guide's Prometheus queries (ztunnel connections and bytes, waypoint requests, mTLS share).",
    ko="가이드의 Prometheus 쿼리를 실행합니다 (ztunnel 연결·바이트, waypoint 요청, mTLS 비율).",
    example="traffic waypoint-requests -n payments",
    reads_cluster=True,  # not the cluster itself: this gives it the source options, --prometheus among them
)
def traffic(args: TrafficArgs, ctx: Context) -> Reply:
    lang = ctx.language
    if args.query is None:
        return _listing(ctx)
    q = named(args.query)
    if q is None:
        names = ", ".join(f"`{n.name}`" for n in NAMED_QUERIES)
        return error_reply(msg("traffic.unknown_query", lang, name=args.query[:60], names=names), language=lang)
    if (bad := bad_namespace(args.namespace, ctx)) is not None:
        return bad
    if ctx.traffic is None:
        return error_reply(msg("traffic.not_configured", lang), language=lang, exit_code=3)
    promql = q.query(args.namespace)
    window = min(duration_seconds(ctx.traffic_window), MAX_CHART_SECONDS)
    try:
        samples = ctx.traffic.instant(promql)
        trend = ctx.traffic.range(promql, seconds=window, step=max(window / CHART_POINTS, 5)) if samples else []
    except PrometheusError as exc:
        note = msg(f"traffic.fault.{exc.kind}", lang, url=ctx.traffic.url, detail=exc.detail)
        return error_reply(note, language=lang, exit_code=5)
    title = msg("traffic.run.title", lang, name=q.name, namespace=args.namespace or msg("traffic.all", lang))
    data: dict[str, object] = {"query": q.name, "promql": promql, "namespace": args.namespace}
    if not samples:
        data["rows"] = []
        text = msg("traffic.run.empty", lang, promql=promql)
        return Reply(title=title, sections=[Section(text=text)], data=data, language=lang)
    ordered = sorted(samples, key=lambda s: -s.value)
    rows = [[*(s.labels.get(name, "-") for name in q.group), _value(s.value, q.unit)] for s in ordered[:TOP_ROWS]]
    columns = [*q.group, q.unit]
    sections = [Section(text=q.ko if lang == "ko" else q.en)]
    sections.append(Section(table=Table(columns=columns, rows=rows)))
    if len(ordered) > TOP_ROWS:
        sections.append(Section(text=msg("digest.more", lang, count=len(ordered) - TOP_ROWS)))
    sections.append(Section(text=f"```\n{promql}\n```"))
    data["rows"] = [{**{name: s.labels.get(name, "") for name in q.group}, "value": s.value} for s in ordered]
    return Reply(title=title, sections=sections, data=data, language=lang, chart=_chart(q, trend, ctx))
