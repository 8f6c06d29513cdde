"""Render a handler Reply as Block Kit, within Slack's limits; summarise what does not fit.

Limits (Slack Block Kit reference): 50 blocks a message, 3000 characters of section text, 150 of
header text, 10 fields of 2000 characters, 25 elements in an actions block, 75 characters of
button text, 2000 of button value. A reply that needs more blocks, or more text than people read
in a channel, becomes a summary; the whole report (the terminal rendering) is then uploaded as a
file by the caller.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.render_text import render_table, render_text
from bot.slack.escape import escape, in_code, markdown_to_mrkdwn, truncate
from handlers.messages import msg
from handlers.reply import Action, FindingItem, Reply, Section, Severity, Table
from knowledge import Language

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 300
MAX_MESSAGE_TEXT = 12_000
"""Above this, Slack folds the message behind "Show more" and nobody reads it: summarise instead."""
SUMMARY_FINDINGS = 10

SEVERITY_EMOJI = {"blocker": ":x:", "waypoint": ":large_orange_diamond:", "warning": ":warning:", "info": ":bulb:"}
SEVERITY_ORDER: tuple[Severity, ...] = ("blocker", "waypoint", "warning", "info")
EXPLAIN = "explain"

Block = dict[str, Any]


@dataclass
class SlackMessage:
    text: str
    """Notification/fallback text (escaped)."""
    blocks: list[Block]
    report: str | None = None
    """The whole reply as text, set when the blocks are a summary and the report must be uploaded."""
    summarised: bool = False
    stats: dict[str, int] = field(default_factory=dict)


def _mrkdwn(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _safe_cut(text: str, limit: int) -> str:
    """Truncate escaped text without leaving half an entity such as `&am`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def header(title: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _safe_cut(escape(title), MAX_HEADER)}}


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Split escaped mrkdwn on line boundaries into chunks that fit a section, keeping ``` blocks closed."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    in_fence = False
    for line in text.split("\n"):
        line = _safe_cut(line, limit - 8)
        if current and size + len(line) + 1 > limit - 4:
            chunk = "\n".join(current)
            chunks.append(chunk + ("\n```" if in_fence else ""))
            current, size = (["```"], 4) if in_fence else ([], 0)
        current.append(line)
        size += len(line) + 1
        if line.strip().startswith("```") and line.strip().count("```") % 2 == 1:
            in_fence = not in_fence
    if current and "\n".join(current).strip() not in ("", "```"):
        chunks.append("\n".join(current))
    return chunks


def table_blocks(table: Table) -> list[Block]:
    """A two-column table of up to five rows as fields; anything else as an aligned code block."""
    if len(table.columns) == 2 and len(table.rows) * 2 <= MAX_FIELDS and table.rows:
        fields = []
        for row in table.rows:
            key, value = [*row, "", ""][:2]
            fields.append({"type": "mrkdwn", "text": _safe_cut(f"*{escape(key)}*", MAX_FIELD)})
            fields.append({"type": "mrkdwn", "text": _safe_cut(escape(value) or " ", MAX_FIELD)})
        return [{"type": "section", "fields": fields}]
    code = escape(in_code(render_table(table)))
    lines = code.split("\n")
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = _safe_cut(line, MAX_SECTION - 10)
        if current and size + len(line) + 1 > MAX_SECTION - 8:
            blocks.append(_mrkdwn("```" + "\n".join(current) + "```"))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        blocks.append(_mrkdwn("```" + "\n".join(current) + "```"))
    return blocks


def section_blocks(section: Section) -> list[Block]:
    blocks: list[Block] = []
    if section.heading:
        blocks.append(_mrkdwn(_safe_cut(f"*{escape(section.heading)}*", MAX_SECTION)))
    if section.text.strip():
        blocks.extend(_mrkdwn(chunk) for chunk in split_text(markdown_to_mrkdwn(escape(section.text.strip()))))
    if section.table is not None:
        blocks.extend(table_blocks(section.table))
    return blocks


def explain_value(finding: FindingItem, language: Language) -> str:
    return json.dumps({"kb": finding.kb, "lang": language, "code": finding.code}, separators=(",", ":"))


def finding_block(finding: FindingItem, index: int, language: Language) -> Block:
    mark = SEVERITY_EMOJI.get(finding.severity, "")
    text = (
        f"{mark} *{escape(finding.code)}* `{escape(in_code(finding.resource))}`\n"
        f"{markdown_to_mrkdwn(escape(finding.message))}"
    )
    block = _mrkdwn(_safe_cut(text, MAX_SECTION))
    block["accessory"] = button(
        msg("slack.explain", language),
        f"{EXPLAIN}#{index}",
        explain_value(finding, language),
    )
    return block


def button(label: str, action_id: str, value: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": _safe_cut(escape(label), MAX_BUTTON_TEXT)},
        "action_id": action_id,
        "value": value,
    }


def action_blocks(actions: list[Action]) -> list[Block]:
    """Follow-ups as buttons; action_id gets `#n` because Slack wants them unique within a message."""
    elements = [
        button(a.label, f"{a.action_id}#{i}", a.value)
        for i, a in enumerate(actions)
        if len(a.value) <= MAX_BUTTON_VALUE
    ]
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ELEMENTS]} for i in range(0, len(elements), MAX_ELEMENTS)
    ]


def fallback_text(reply: Reply) -> str:
    first = next((s.text for s in reply.sections if s.text.strip()), "")
    text = reply.title + (f": {first.strip()}" if first else "")
    return _safe_cut(escape(" ".join(text.split())), MAX_FALLBACK)


def _text_size(blocks: list[Block]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def render(reply: Reply, *, max_blocks: int = MAX_BLOCKS, max_text: int = MAX_MESSAGE_TEXT) -> SlackMessage:
    """The whole reply as blocks when it fits; otherwise a summary plus `report` to upload."""
    language = reply.language
    body: list[Block] = []
    for section in reply.sections:
        body.extend(section_blocks(section))
    if reply.findings:
        body.append({"type": "divider"})
        body.extend(finding_block(f, i, language) for i, f in enumerate(reply.findings))
    actions = action_blocks(reply.actions)
    blocks = [header(reply.title), *body, *actions]
    if len(blocks) <= max_blocks and _text_size(blocks) <= max_text:
        return SlackMessage(text=fallback_text(reply), blocks=blocks)
    return summarise(reply, max_blocks=max_blocks)


def tally(findings: list[FindingItem], language: Language) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [
        f"{SEVERITY_EMOJI[s]} {counts[s]} {msg(f'slack.severity.{s}', language)}" for s in SEVERITY_ORDER if counts[s]
    ]
    return "  ".join(parts)


def summarise(reply: Reply, *, max_blocks: int = MAX_BLOCKS) -> SlackMessage:
    """The first section, a tally of the findings, the worst findings, the follow-ups, and a pointer to the file."""
    language = reply.language
    blocks: list[Block] = [header(reply.title)]
    first = next((s for s in reply.sections if s.text.strip() or s.table is not None), None)
    if first is not None:
        lead = section_blocks(Section(heading=first.heading, text=first.text))
        if lead:
            blocks.append(_mrkdwn(_safe_cut(lead[-1]["text"]["text"], MAX_SECTION)))
    if reply.findings:
        blocks.append(_mrkdwn(msg("slack.summary.findings", language, tally=tally(reply.findings, language))))
    actions = action_blocks(reply.actions)[:1]
    note = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": msg("slack.summary.attached", language)}],
    }
    room = max_blocks - len(blocks) - len(actions) - 2  # the divider and the note
    ranked = sorted(enumerate(reply.findings), key=lambda pair: SEVERITY_ORDER.index(pair[1].severity))[
        : min(room, SUMMARY_FINDINGS)
    ]
    if ranked:
        blocks.append({"type": "divider"})
        blocks.extend(finding_block(f, i, language) for i, f in ranked)
    blocks.extend(actions)
    blocks.append(note)
    return SlackMessage(
        text=fallback_text(reply),
        blocks=blocks[:max_blocks],
        report=render_text(reply),
        summarised=True,
        stats={"findings": len(reply.findings), "shown": len(ranked)},
    )


_ACTION_ID = re.compile(r"^(?P<name>[^#]+)(?:#\d+)?$")


def action_name(action_id: str) -> str:
    """The handler-level action name behind a rendered action_id (`plan#3` -> `plan`)."""
    match = _ACTION_ID.match(action_id)
    return match.group("name") if match else action_id


def text_message(text: str) -> SlackMessage:
    """A one-line message (refusals, notices), escaped."""
    safe = escape(text)
    return SlackMessage(text=_safe_cut(safe, MAX_FALLBACK), blocks=[_mrkdwn(_safe_cut(safe, MAX_SECTION))])


def truncate_label(text: str) -> str:
    return truncate(text, MAX_BUTTON_TEXT)
