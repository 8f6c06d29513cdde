"""Render a Reply for the terminal: headings, prose, aligned tables, findings, follow-ups."""

from __future__ import annotations

import json
import unicodedata

from handlers.reply import Reply, Table

SEVERITY_MARK = {"blocker": "✖", "waypoint": "◆", "warning": "▲", "info": "·"}


def width(text: str) -> int:
    """Terminal cells: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * (cells - width(text))


def render_table(table: Table) -> str:
    rows = [table.columns, *table.rows]
    cells = [max(width(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(table.columns))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(pad(value, cells[i]) for i, value in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * c for c in cells))
    return "\n".join(lines)


def render_text(reply: Reply) -> str:
    out = [reply.title, "=" * min(width(reply.title), 80)]
    for section in reply.sections:
        out.append("")
        if section.heading:
            out.append(f"## {section.heading}")
        if section.text:
            out.append(section.text.rstrip())
        if section.table is not None:
            out.append(render_table(section.table))
    if reply.findings:
        out.append("")
        for f in reply.findings:
            out.append(f"{SEVERITY_MARK[f.severity]} [{f.severity}] {f.code}  {f.resource}")
            out.append(f"    {f.message}  (kb: {f.kb})")
    if reply.actions:
        out.append("")
        out.extend(f"→ {a.label}" for a in reply.actions)
    return "\n".join(out) + "\n"


def render_json(reply: Reply) -> str:
    return json.dumps(reply.data, ensure_ascii=False, indent=2) + "\n"
