"""The renderer-neutral reply every handler returns; `bot` renders it for the terminal or Slack."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Severity = Literal["blocker", "waypoint", "warning", "info"]


class Table(BaseModel):
    columns: list[str]
    rows: list[list[str]]
    row_severity: list[Severity | None] = []
    """How bad each row is (a blocked namespace: "blocker"); renderers colour or mark it. May be shorter than rows."""


class Section(BaseModel):
    """A heading with prose (may hold ``` code blocks) and/or a table."""

    heading: str | None = None
    text: str = ""
    table: Table | None = None


class FindingItem(BaseModel):
    code: str
    severity: Severity
    resource: str
    message: str
    kb: str


class Action(BaseModel):
    """A follow-up the user can take: a button in Slack, a hint in the terminal."""

    action_id: str
    label: str
    value: str


class ChartSeries(BaseModel):
    label: str
    points: list[tuple[float, float]]
    """(unix seconds, value)"""


class Chart(BaseModel):
    """A small trend the Slack surface draws as an image (bot/chart.py); the terminal shows the table only."""

    title: str
    unit: str
    series: list[ChartSeries]


class Reply(BaseModel):
    title: str
    sections: list[Section] = []
    findings: list[FindingItem] = []
    actions: list[Action] = []
    data: dict[str, Any] = Field(default_factory=dict)
    """The JSON payload of the CLI contract (DESIGN.md)."""
    language: Literal["ko", "en"] = "en"
    error: bool = False
    exit_code: int = 0
    chart: Chart | None = None


def error_reply(message: str, *, language: Literal["ko", "en"] = "en", exit_code: int = 2) -> Reply:
    """A clear, single-message answer to bad input or an unavailable source."""
    return Reply(
        title="Error" if language == "en" else "오류",
        sections=[Section(text=message)],
        data={"error": message},
        language=language,
        error=True,
        exit_code=exit_code,
    )


def command_button(
    command: str, label: str, argv: list[str], language: Literal["ko", "en"], *, refine: bool = False
) -> Action:
    """A button that runs `command argv` when clicked, on any surface that renders buttons.

    Its value is what the surface needs to run it without knowing the command: the words, the answer's
    language, and whether the answer replaces the clicked message (a refinement) or comes as a new one.
    """
    value = json.dumps({"argv": argv, "lang": language, "refine": refine}, ensure_ascii=False, separators=(",", ":"))
    return Action(action_id=command, label=label, value=value)
