"""Render a Reply as a compact GitHub-flavoured Markdown report, to post as a pull-request comment from CI.

Prose from the handlers is Markdown already and stays so, but any HTML in it (which may come from
the cluster: names, annotations) is escaped, so a comment never carries markup meshbot did not write.
Table cells are plain text: every Markdown character in them is escaped. Findings are listed by
severity, blockers and waypoint needs with their advice; warnings and notes are counted, since
the whole list belongs in the terminal (`--output text`) rather than in a review thread.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

from bot.render_text import SEVERITY_ORDER, hint_command
from handlers.messages import msg
from handlers.reply import FindingItem, Reply, Section, Table
from knowledge import Language

SEVERITY_EMOJI = {"blocker": "❌", "waypoint": "🔶", "warning": "⚠️", "info": "ℹ️"}
LISTED = ("blocker", "waypoint")
MAX_LISTED = 20
MAX_ROWS = 50
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
CELL_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_prose(text: str) -> str:
    """Markdown prose with HTML neutralised outside code (inside code spans and fences it is shown as is)."""
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        pieces, last = [], 0
        for match in CODE_SPAN.finditer(line):
            pieces += [escape_html(line[last : match.start()]), match.group(0)]
            last = match.end()
        pieces.append(escape_html(line[last:]))
        out.append("".join(pieces))
    if fenced:  # a fence left open would swallow the rest of the comment
        out.append("```")
    return "\n".join(out)


def cell(text: str) -> str:
    """Plain text in a table cell: one line, every Markdown and HTML character escaped."""
    one_line = " ".join(text.split())
    return CELL_SPECIAL.sub(r"\\\1", one_line.replace("&", "&amp;")) or " "


def heading(text: str) -> str:
    """A heading keeps its `code` spans; HTML and line breaks go."""
    return safe_prose(" ".join(text.split()))


def table(t: Table, language: Language) -> str:
    """A GFM table; a long one keeps the rows that need attention (a comment has room for about 65,000 characters)."""
    rows = t.rows
    if len(rows) > MAX_ROWS:
        marked = [row for row, tone in zip(t.rows, t.row_severity, strict=False) if tone]
        rows = (marked or rows)[:MAX_ROWS]
    lines = ["| " + " | ".join(cell(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    for row in rows:
        padded = [*row, *[""] * (len(t.columns) - len(row))][: len(t.columns)]
        lines.append("| " + " | ".join(cell(c) for c in padded) + " |")
    if len(rows) < len(t.rows):
        lines += ["", msg("render.md.rows", language, shown=len(rows), count=len(t.rows))]
    return "\n".join(lines)


def section(s: Section, language: Language) -> list[str]:
    parts: list[str] = []
    if s.heading:
        parts.append(f"### {heading(s.heading)}")
    if s.text.strip():
        parts.append(safe_prose(s.text.strip()))
    if s.table is not None:
        parts.append(table(s.table, language))
    return parts


def findings(items: list[FindingItem], language: Language) -> list[str]:
    if not items:
        return []
    ordered = sorted(items, key=lambda f: SEVERITY_ORDER.index(f.severity))
    listed = [f for f in ordered if f.severity in LISTED]
    lines = [
        f"- {SEVERITY_EMOJI[f.severity]} **{f.severity}** `{f.code}` {cell(f.resource)}: {cell(f.message)}"
        for f in listed[:MAX_LISTED]
    ]
    rest = {s: sum(1 for f in ordered if f.severity == s) for s in SEVERITY_ORDER}
    rest["blocker"] = rest["waypoint"] = 0
    hidden = len(listed) - len(lines)
    counted = [f"{SEVERITY_EMOJI[s]} {n} {s}" for s, n in rest.items() if n]
    parts = [f"### {msg('render.findings', language, count=len(items))}", "\n".join(lines)]
    if hidden:
        parts.append(msg("render.md.more", language, hidden=hidden, counts=" · ".join(counted) or "-"))
    elif counted:
        parts.append(msg("render.md.rest", language, counts=" · ".join(counted)))
    return [p for p in parts if p]


def meshbot_version() -> str:
    try:
        return version("meshbot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "dev"


def render_markdown(reply: Reply) -> str:
    """The reply as one GitHub comment: a heading, the sections, the findings that need action, next steps."""
    parts = [f"## {heading(reply.title)}"]
    for s in reply.sections:
        parts += section(s, reply.language)
    parts += findings(reply.findings, reply.language)
    hints = [h for a in reply.actions if (h := hint_command(a, reply.language)) is not None]
    if hints:
        parts += [f"**{msg('render.next', reply.language)}**", "\n".join(f"- `{h}`" for h in hints)]
    parts.append(f"_meshbot {meshbot_version()}_")
    return "\n\n".join(parts) + "\n"
