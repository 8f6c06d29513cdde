"""`compare`: the seed's sidecar vs ambient table, and the measured figures, in the user's language."""

from __future__ import annotations

from handlers.messages import msg
from handlers.registry import command
from handlers.reply import Reply, Section, Table
from knowledge import KnowledgeBase, Language
from knowledge.schema import ComparisonRow


@command(
    "compare",
    usage="compare",
    en="Sidecar vs ambient comparison table, with measured figures.",
    ko="Sidecar vs Ambient 비교표와 실측 수치를 보여줍니다.",
)
def compare(kb: KnowledgeBase, language: Language) -> Reply:
    lang = language
    comparison = kb.comparison
    sections = [Section(table=table(comparison.rows, lang))]
    if comparison.figures:
        sections.append(Section(heading=msg("compare.figures", lang), table=table(comparison.figures, lang)))
    return Reply(
        title=msg("compare.title", lang),
        sections=sections,
        data={
            "rows": [row_data(r, lang) for r in comparison.rows],
            "figures": [row_data(r, lang) for r in comparison.figures],
        },
        language=lang,
    )


def table(rows: list[ComparisonRow], lang: Language) -> Table:
    columns = [msg(f"compare.col.{c}", lang) for c in ("aspect", "sidecar", "ambient", "kb")]
    return Table(
        columns=columns, rows=[[r.aspect.in_(lang), r.sidecar.in_(lang), r.ambient.in_(lang), r.kb] for r in rows]
    )


def row_data(row: ComparisonRow, lang: Language) -> dict[str, str]:
    return {
        "aspect": row.aspect.in_(lang),
        "sidecar": row.sidecar.in_(lang),
        "ambient": row.ambient.in_(lang),
        "kb": row.kb,
    }
