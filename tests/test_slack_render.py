"""Block Kit rendering: Slack's limits hold for any Reply, and nothing from users or the cluster can ping."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.slack.escape import WORD_JOINER, escape
from bot.slack.render import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_ELEMENTS,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_SECTION,
    action_name,
    render,
    split_text,
)
from handlers.reply import Action, FindingItem, Reply, Section, Severity, Table

SEVERITIES: tuple[Severity, ...] = ("blocker", "waypoint", "warning", "info")


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text object in the blocks (section texts, fields, button labels, context elements)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= MAX_SECTION
            assert len(block.get("fields", [])) <= MAX_FIELDS
            if "accessory" in block:
                assert len(block["accessory"]["text"]["text"]) <= MAX_BUTTON_TEXT
        if block["type"] == "actions":
            assert len(block["elements"]) <= MAX_ELEMENTS
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT
    action_ids = [
        e["action_id"]
        for b in blocks
        for e in ([b["accessory"]] if "accessory" in b else b.get("elements", []))
        if "action_id" in e
    ]
    assert len(action_ids) == len(set(action_ids)), "action_ids must be unique within a message"


def huge_reply() -> Reply:
    findings = [
        FindingItem(
            code=f"code-{i}",
            severity=SEVERITIES[i % 4],
            resource=f"EnvoyFilter/ns-{i}/filter-{i}",
            message="x" * 400,
            kb="ambient-limitations",
        )
        for i in range(300)
    ]
    return Reply(
        title="T" * 400,
        sections=[
            Section(heading="Summary", text="200 namespaces, 3 ready\n" + "line\n" * 2000),
            Section(
                table=Table(
                    columns=["namespace", "verdict", "findings"], rows=[[f"ns-{i}", "blocked", "3"] for i in range(500)]
                )
            ),
        ],
        findings=findings,
        actions=[Action(action_id="plan", label="Plan " + "n" * 100, value=f"ns-{i}") for i in range(40)],
    )


def test_a_huge_reply_is_summarised_within_every_limit_and_keeps_the_whole_report() -> None:
    message = render(huge_reply())
    assert message.summarised
    assert_within_limits(message.blocks)
    assert message.report is not None
    assert "code-299" in message.report and "ns-499" in message.report  # nothing lost: all of it is in the file
    shown = [b for b in message.blocks if "accessory" in b]
    assert shown and all(":x:" in b["text"]["text"] for b in shown)  # the worst findings come first
    assert "300" not in message.blocks[0]["text"]["text"]


def test_a_small_reply_renders_whole_with_fields_and_explain_buttons() -> None:
    reply = Reply(
        title="status of payments",
        sections=[Section(heading="Mode", table=Table(columns=["namespace", "mode"], rows=[["payments", "ambient"]]))],
        findings=[
            FindingItem(
                code="lua-filter", severity="blocker", resource="EnvoyFilter/payments/lua", message="Lua", kb="k1"
            )
        ],
        actions=[Action(action_id="plan", label="Plan", value="payments")],
    )
    message = render(reply)
    assert not message.summarised and message.report is None
    assert_within_limits(message.blocks)
    fields = next(b for b in message.blocks if "fields" in b)["fields"]
    assert [f["text"] for f in fields] == ["*payments*", "ambient"]
    explain = next(b for b in message.blocks if "accessory" in b)["accessory"]
    assert action_name(explain["action_id"]) == "explain"
    assert json.loads(explain["value"]) == {"kb": "k1", "lang": "en", "code": "lua-filter"}
    plan = next(b for b in message.blocks if b["type"] == "actions")["elements"][0]
    assert action_name(plan["action_id"]) == "plan" and plan["value"] == "payments"


def test_wide_tables_become_code_blocks_split_under_the_section_limit() -> None:
    rows = [[f"namespace-{i}", "sidecar", "STRICT", "x" * 40] for i in range(150)]
    reply = Reply(title="t", sections=[Section(table=Table(columns=["a", "b", "c", "d"], rows=rows))])
    message = render(reply, max_text=10**9)
    code = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert len(code) > 1
    assert all(t.startswith("```") and t.endswith("```") and len(t) <= MAX_SECTION for t in code)


def test_long_text_splits_on_lines_and_keeps_code_fences_balanced() -> None:
    text = "intro\n```\n" + "\n".join(f"line {i} " + "y" * 50 for i in range(200)) + "\n```\noutro"
    chunks = split_text(text)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk) <= MAX_SECTION
        assert chunk.count("```") % 2 == 0, chunk[:80]
    assert "outro" in chunks[-1] and "line 199" in "".join(chunks)


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel>",
        "<!here|here>",
        "<!everyone>",
        "<@U024BE7LH>",
        "<https://evil.example|click>",
        "@here",
        "@channel",
        "@everyone",
        "a & b",
        "<!subteam^S123>",
    ],
)
def test_text_from_users_and_the_cluster_cannot_ping_or_link(hostile: str) -> None:
    reply = Reply(
        title=f"status {hostile}",
        sections=[
            Section(
                heading=hostile,
                text=f"label team={hostile}",
                table=Table(columns=["k", "v"], rows=[[hostile, hostile]]),
            )
        ],
        findings=[FindingItem(code="c", severity="warning", resource=f"Pod/{hostile}", message=hostile, kb="k")],
        actions=[Action(action_id="plan", label=hostile, value="x")],
    )
    message = render(reply)
    for text in [*texts(message.blocks), message.text]:
        assert "<" not in text and ">" not in text.replace("&gt;", "")
        assert not re.search(r"@(here|channel|everyone)\b", text)
    dumped = json.dumps(message.blocks, ensure_ascii=False)
    assert any(mark in dumped for mark in ("&lt;", "&amp;", "@" + WORD_JOINER))  # it was there, neutralised


def test_escape_is_exactly_the_three_entities_plus_broadcast_words() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("hi @Here and @channel!") == f"hi @{WORD_JOINER}Here and @{WORD_JOINER}channel!"
    assert escape("mail me@here.com") == f"mail me@{WORD_JOINER}here.com"  # harmless either way
    assert escape("@heresy") == "@heresy"


def test_korean_reply_summary_is_in_korean() -> None:
    reply = huge_reply().model_copy(update={"language": "ko"})
    message = render(reply)
    assert any("발견 사항" in t for t in texts(message.blocks))
    assert any("파일로 첨부" in t for t in texts(message.blocks))
