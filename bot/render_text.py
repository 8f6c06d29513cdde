"""Render a Reply for people at a terminal (rich): Markdown rendered, wrapped to the width, colour by severity.

The handlers write prose in Markdown (bold, `code`, ``` blocks, lists, tables); here it is rendered,
never shown as raw markers. Everything is wrapped to `Terminal.width` (the terminal's, or 100 columns
when piped) except command lines in code blocks, which stay whole so they paste. Colour only on a
terminal that wants it (`NO_COLOR` and pipes give plain text without escape codes).

rich is imported when a reply is rendered, not when the CLI starts: `--output json` and the Slack
app never pay for it (measured in tests/test_terminal_output.py: about 60 ms of CPU, most of it
markdown-it and pygments, which rich.markdown imports).
"""

from __future__ import annotations

import io
import json
import re
import shlex
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from handlers.messages import msg
from handlers.reply import Action, FindingItem, Reply, Section, Severity, Table

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

PIPED_WIDTH = 100
SEVERITY_ORDER: tuple[Severity, ...] = ("blocker", "waypoint", "warning", "info")
SEVERITY_MARK = {"blocker": "✖", "waypoint": "◆", "warning": "▲", "info": "·"}
SEVERITY_STYLE = {"blocker": "bold red", "waypoint": "magenta", "warning": "yellow", "info": "blue"}


@dataclass(frozen=True)
class Terminal:
    """Where the text goes: its width, whether it takes colour, and how hints become commands."""

    width: int = PIPED_WIDTH
    color: bool = False
    source_args: tuple[str, ...] = ()
    """The cluster source flags of this invocation (`--from-file DUMP`), repeated in hints that read a cluster."""


def width(text: str) -> int:
    """Terminal cells: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * (cells - width(text))


def render_table(table: Table) -> str:
    """An aligned table without wrapping (inside Slack's ``` blocks, where the reader scrolls)."""
    rows = [table.columns, *table.rows]
    cells = [max(width(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(table.columns))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(pad(value, cells[i]) for i, value in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * c for c in cells))
    return "\n".join(lines)


def hint_command(action: Action, language: str, source_args: Sequence[str] = ()) -> str | None:
    """The command line a follow-up stands for, quoted so it pastes in bash and zsh; None if it is no command."""
    from handlers.registry import COMMANDS

    cmd = COMMANDS.get(action.action_id)
    if cmd is None:
        return None
    words = ["meshbot", cmd.name, *_action_argv(action.value)]
    if cmd.reads_cluster:
        words += source_args
    if language == "ko" and "--lang" not in words:
        words += ["--lang", "ko"]
    return shlex.join(words)


def _action_argv(value: str) -> list[str]:
    """A button's value is either its words as JSON (`{"argv": [...]}`) or the one word it takes."""
    if value.startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return []
        argv = decoded.get("argv") if isinstance(decoded, dict) else None
        return [str(word) for word in argv] if isinstance(argv, list) else []
    return [value] if value else []


class _CommandBlock:
    """A ``` block: each line indented and never wrapped, so a command pastes as one line."""

    def __init__(self, code: str, style: str) -> None:
        self.code, self.style = code, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        for line in self.code.rstrip("\n").split("\n"):
            yield Text("    " + line, style=self.style, no_wrap=True, overflow="ignore", end="\n")


FENCE = re.compile(r"^\s*(```|~~~)")
RECORD_CELL = 2
"""A table that does not fit and holds a cell wider than 1/RECORD_CELL of the width (prose) is shown as records."""


SENTENCE_END = tuple(".:!?)|")
LINE_START = re.compile(r"^\s*([-*+•▸→|#>]|\d+[.)]\s|\*\*|[\w./-]+:\s|[^\w\s`(\[])")
LABELLED = re.compile(r"^\s*[\w./-]+:\s+\S+$")
"""A short `label: value` line (`Cluster: prod`) stands on its own line."""


def keep_line_breaks(text: str) -> str:
    """Keep the line breaks the author meant; join the ones that only wrapped a long source line.

    The handlers put one item or sentence per line and mean a new line (as Slack shows it); the
    knowledge files also wrap long sentences over several source lines. A line that ends a sentence,
    is a short `label: value` line, or is followed by a marker (`•`, `**label:**`, `label: `), ends with a hard
    break; any other joins the next.
    """
    lines = text.split("\n")
    out: list[str] = []
    fenced = False
    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        if FENCE.match(line):
            fenced = not fenced
        elif (
            not fenced
            and line.strip()
            and following.strip()
            and not FENCE.match(following)
            and (line.rstrip().endswith(SENTENCE_END) or LINE_START.match(following) or LABELLED.match(line))
        ):
            line = line.rstrip() + "  "  # a CommonMark hard break
        out.append(line)
    return "\n".join(out)


def _markdown(text: str, color: bool) -> RenderableType:
    from rich.markdown import CodeBlock, Markdown, MarkdownElement

    class _Code(CodeBlock):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            yield _CommandBlock(str(self.text), "cyan" if color else "")

    class _Markdown(Markdown):
        elements: ClassVar[dict[str, type[MarkdownElement]]] = {
            **Markdown.elements,
            "fence": _Code,
            "code_block": _Code,
        }

    return _Markdown(keep_line_breaks(text), hyperlinks=False)


def _table(table: Table, term: Terminal) -> RenderableType:
    """A table that fits the width: as is, wrapped within its columns, or, for long prose, one record per row."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    color = term.color
    columns = len(table.columns)
    widths = [max(width(row[i]) if i < len(row) else 0 for row in [table.columns, *table.rows]) for i in range(columns)]
    natural = sum(widths) + 3 * (columns - 1)
    if natural > term.width and columns > 2 and max(widths) * RECORD_CELL > term.width:
        return _records(table, term)  # long prose reads better as one record per row than in narrow columns
    grid = RichTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold" if color else "")
    least = [longest_word([c, *(row[i] for row in table.rows if i < len(row))]) for i, c in enumerate(table.columns)]
    if sum(least) + 3 * (columns - 1) > term.width:  # not even every word fits whole
        return _records(table, term)
    room = term.width - 3 * (columns - 1)
    sizes = widths if natural <= term.width else share(room, least, widths)
    for column, size in zip(table.columns, sizes, strict=True):
        grid.add_column(Text(column), overflow="fold", width=size)
    for row, tone in zip(table.rows, _tones(table), strict=True):
        style = SEVERITY_STYLE[tone] if color and tone else ""
        grid.add_row(*(Text(cell) for cell in row), style=style)
    return grid


def share(room: int, least: list[int], natural: list[int]) -> list[int]:
    """Column widths within `room`: each keeps its longest word whole; the rest goes where text is longest."""
    spare = room - sum(least)
    wants = [max(0, n - m) for n, m in zip(natural, least, strict=True)]
    total = sum(wants) or 1
    sizes = [m + spare * w // total for m, w in zip(least, wants, strict=True)]
    sizes[wants.index(max(wants))] += room - sum(sizes)  # what rounding left over
    return [min(s, n) if n >= m else s for s, n, m in zip(sizes, natural, least, strict=True)]


def longest_word(texts: list[str]) -> int:
    return max((width(word) for text in texts for word in text.split()), default=1)


def _tones(table: Table) -> list[Severity | None]:
    return [*table.row_severity, *[None] * (len(table.rows) - len(table.row_severity))][: len(table.rows)]


SHORT_VALUE = 30
"""Rows whose values are all this short are one wrapped line (`name  label value · label value`)."""


def _records(table: Table, term: Terminal) -> RenderableType:
    """Each row as a block: its first cell as the head, then the other columns as `label  value` lines."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table as RichTable
    from rich.text import Text

    blocks: list[RenderableType] = []
    dim = "dim" if term.color else ""
    label_width = max(width(c) for c in table.columns[1:]) + 1
    short = all(width(value) <= SHORT_VALUE for row in table.rows for value in row[1:])
    if short:  # one line per row, wrapped under its values: `name  label value · label value`
        grid = RichTable.grid(padding=(0, 2), pad_edge=False)
        grid.add_column(no_wrap=True, max_width=term.width // 3)
        grid.add_column()
        for row, tone in zip(table.rows, _tones(table), strict=True):
            values = Text()
            for n, (column, value) in enumerate(zip(table.columns[1:], row[1:], strict=False)):
                values.append((" · " if n else "") + column + " ", style=dim)
                values.append(value)
            grid.add_row(Text(row[0] if row else "", style=_head_style(tone, term.color)), values)
        return grid
    for row, tone in zip(table.rows, _tones(table), strict=True):
        blocks.append(Text(row[0] if row else "", style=_head_style(tone, term.color)))
        fields = RichTable.grid(padding=(0, 1), pad_edge=False)
        fields.add_column(width=min(label_width, term.width // 3), no_wrap=True)
        fields.add_column(overflow="fold")
        for column, value in zip(table.columns[1:], row[1:], strict=False):
            fields.add_row(Text(column, style=dim), Text(value))
        blocks.append(Padding(fields, (0, 0, 0, 2)))
    return Group(*blocks)


def _head_style(tone: Severity | None, color: bool) -> str:
    if not color:
        return ""
    return "bold " + SEVERITY_STYLE[tone] if tone else "bold"


def plain_inline(text: str) -> str:
    """A title or heading is one line of plain text: its `code` and **bold** markers are dropped."""
    return re.sub(r"\*\*(.+?)\*\*", r"\1", re.sub(r"`([^`]+)`", r"\1", text))


def _heading(text: str, color: bool) -> RenderableType:
    from rich.text import Text

    return Text(plain_inline(text), style="bold underline" if color else "")


def _finding(finding: FindingItem, color: bool) -> Iterator[RenderableType]:
    from rich.padding import Padding
    from rich.text import Text

    style = SEVERITY_STYLE[finding.severity] if color else ""
    head = Text(f"{SEVERITY_MARK[finding.severity]} {finding.severity}  ", style=style)
    head.append(finding.code, style="bold" if color else "")
    head.append(f"  {finding.resource}")
    yield head
    # Plain text, not Markdown: the message quotes names from the cluster, which must show as they are.
    yield Padding(Text(f"{finding.message} (kb: {finding.kb})"), (0, 0, 0, 4))


def _renderables(reply: Reply, term: Terminal) -> Iterator[RenderableType]:
    from rich.text import Text

    color = term.color
    title = plain_inline(reply.title)
    yield Text(title, style="bold" if color else "")
    yield Text("=" * min(width(title), term.width), style="dim" if color else "")
    for section in reply.sections:
        yield from _section(section, term)
    findings = sorted(reply.findings, key=lambda f: SEVERITY_ORDER.index(f.severity))
    if findings:
        yield Text("")
        yield _heading(msg("render.findings", reply.language, count=len(findings)), color)
        for finding in findings:
            yield from _finding(finding, color)
    hints = [h for a in reply.actions if (h := hint_command(a, reply.language, term.source_args)) is not None]
    if hints:
        yield Text("")
        yield _heading(msg("render.next", reply.language), color)
        for hint in hints:
            yield Text("  " + hint, style="cyan" if color else "", no_wrap=True, overflow="ignore")


def _section(section: Section, term: Terminal) -> Iterator[RenderableType]:
    from rich.text import Text

    color = term.color
    yield Text("")
    if section.heading:
        yield _heading(section.heading, color)
    if section.text.strip():
        yield _markdown(section.text.strip(), color)
    if section.table is not None:
        yield _table(section.table, term)


def _console(term: Terminal, out: io.StringIO) -> Console:
    from rich.console import Console

    return Console(
        file=out,
        width=term.width,
        force_terminal=term.color,
        color_system="standard" if term.color else None,
        no_color=not term.color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        soft_wrap=False,
        _environ={},  # the Terminal decided width and colour already; COLUMNS/NO_COLOR must not re-decide
    )


def render_text(reply: Reply, term: Terminal | None = None) -> str:
    """The reply as terminal text (plain, 100 columns, when no Terminal is given: Slack's file report)."""
    term = term or Terminal()
    out = io.StringIO()
    console = _console(term, out)
    for renderable in _renderables(reply, term):
        console.print(renderable, crop=False)
    lines = [line.rstrip() for line in out.getvalue().split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(reply: Reply) -> str:
    return json.dumps(reply.data, ensure_ascii=False, indent=2) + "\n"
