"""`limits [FEATURE]`: what ambient does not support (yet) and the alternative, or one feature's row."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, positional
from handlers.reply import Reply, Section, Table, error_reply
from knowledge import Language
from knowledge.schema import Limitation


@dataclass(frozen=True)
class LimitsArgs(Args):
    feature: list[str] = positional(nargs="*", help="a feature key or name, e.g. envoyfilter, lua, hostnetwork")


@command(
    "limits",
    usage="limits [FEATURE]",
    en="What ambient mode does not support yet, and the alternative (or one feature).",
    ko="ambient 모드의 미지원/제한 기능과 대안을 보여줍니다 (또는 기능 하나).",
    example="limits envoyfilter",
)
def limits(args: LimitsArgs, ctx: Context) -> Reply:
    lang = ctx.language
    wanted = " ".join(args.feature).strip()
    if not wanted:
        rows = ctx.kb.limitations
        return Reply(
            title=msg("limits.title", lang),
            sections=[Section(table=table(rows, lang)), Section(text=msg("limits.hint", lang))],
            data={"limitations": [row_data(r, lang) for r in rows]},
            language=lang,
        )
    row = ctx.kb.limitation(wanted)
    if row is None:
        known = ", ".join(r.key for r in ctx.kb.limitations)
        return error_reply(msg("limits.unknown", lang, feature=wanted[:80], known=known), language=lang)
    label = {c: msg(f"limits.{c}", lang) for c in ("status", "alternative")}
    text = f"**{label['status']}**: {row.status.in_(lang)}\n**{label['alternative']}**: {row.alternative.in_(lang)}"
    return Reply(
        title=msg("limits.one_title", lang, feature=row.feature.in_(lang)),
        sections=[Section(text=text), Section(text=f"kb: {row.kb}")],
        data={"limitations": [row_data(row, lang)]},
        language=lang,
    )


def table(rows: list[Limitation], lang: Language) -> Table:
    columns = [msg(f"limits.{c}", lang) for c in ("key", "feature", "status", "alternative")]
    return Table(
        columns=columns,
        rows=[[r.key, r.feature.in_(lang), r.status.in_(lang), r.alternative.in_(lang)] for r in rows],
    )


def row_data(row: Limitation, lang: Language) -> dict[str, str]:
    return {
        "key": row.key,
        "feature": row.feature.in_(lang),
        "status": row.status.in_(lang),
        "alternative": row.alternative.in_(lang),
        "kb": row.kb,
    }
