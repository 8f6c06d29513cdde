"""The terminal: Markdown rendered, wrapped to the width, colour only on a terminal, precheck's summary first.

Screens at 80 and 120 columns of `precheck`, `ask`, `limits` and `help` (COLUMNS, as a shell sets it),
piped output (100 columns, no escape codes), a real pseudo-terminal (colour, its own width), and the
hints: each is a command that runs as pasted.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import struct
import subprocess
import sys
import termios
from fcntl import ioctl
from pathlib import Path

import pytest

from bot.cli import main
from bot.render_text import Terminal, render_text
from bot.terminal import columns, terminal_for, wants_color
from handlers.reply import FindingItem, Reply, Section, Table

ROOT = Path(__file__).resolve().parents[1]
DEMO = ["--from-file", str(ROOT / "cluster" / "demo")]
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
SCREENS = {
    "precheck": ["precheck", *DEMO],
    "ask": ["ask", "how do I roll back from ambient to sidecar?"],
    "ask-ko": ["ask", "ambient에서 EnvoyFilter 써도 돼?"],
    "limits": ["limits"],
    "help": ["help"],
}


def cells(line: str) -> int:
    from bot.render_text import width

    return width(ESCAPE.sub("", line))


def screen(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], cols: int) -> str:
    monkeypatch.setenv("COLUMNS", str(cols))
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def code_lines(text: str) -> set[str]:
    """Lines of ``` blocks: indented by four and never wrapped, so a command pastes whole."""
    return {line for line in text.splitlines() if line.startswith("    ") and not line.startswith("     ")}


@pytest.mark.parametrize("cols", [80, 120])
@pytest.mark.parametrize("name", list(SCREENS))
def test_screens_fit_the_width_and_show_no_markdown(
    name: str, cols: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = screen(capsys, monkeypatch, SCREENS[name], cols)
    wide = [line for line in out.splitlines() if cells(line) > cols and line not in code_lines(out)]
    assert not wide, f"{name} at {cols}: {wide[:3]}"
    assert "**" not in out and "```" not in out and "\x1b" not in out
    assert not re.search(r"^\s*→ ", out, re.M)  # hints are commands, not arrows
    if name == "limits":  # every limitation shows, whole words, as a table or as records
        for key in ("envoyfilter", "peerauthentication-disable", "sidecar-resource"):
            assert re.search(rf"^\s*{key}\b", out, re.M), key


def test_piped_output_is_plain_and_100_columns() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "precheck", *DEMO], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "\x1b" not in done.stdout
    assert max(cells(line) for line in lines) <= 100
    assert max(cells(line) for line in lines) > 80  # it does use the 100 columns


def run_in_pty(argv: list[str], cols: int, env: dict[str, str]) -> str:
    """`meshbot ARGV` on a real pseudo-terminal of `cols` columns: what a person sees."""
    leader, follower = pty.openpty()
    ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *argv], stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_a_real_terminal_gets_colour_by_severity_and_its_width() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    out = run_in_pty(["precheck", *DEMO], 72, env)
    assert "\x1b[" in out
    assert "\x1b[1;31m✖ blocker" in out  # blockers in bold red
    assert "\x1b[35m◆ waypoint" in out  # waypoint needs in magenta
    plain = ESCAPE.sub("", out)
    hints = {line for line in plain.splitlines() if line.startswith("  meshbot ")}  # commands stay whole
    assert max(cells(line) for line in plain.splitlines() if line not in hints) <= 72
    env["NO_COLOR"] = "1"
    assert "\x1b[" not in run_in_pty(["precheck", *DEMO], 72, env)


def test_terminal_detection() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    class Pipe:
        def isatty(self) -> bool:
            return False

    assert wants_color(Tty(), {}) and not wants_color(Tty(), {"NO_COLOR": "1"})  # type: ignore[arg-type]
    assert not wants_color(Tty(), {"TERM": "dumb"}) and not wants_color(Pipe(), {})  # type: ignore[arg-type]
    assert columns(Pipe(), {}) == 100 and columns(Pipe(), {"COLUMNS": "132"}) == 132  # type: ignore[arg-type]
    assert columns(Pipe(), {"COLUMNS": "nonsense"}) == 100  # type: ignore[arg-type]
    assert terminal_for(Pipe(), environ={"COLUMNS": "10"}).width == 40  # type: ignore[arg-type]  # a floor


def test_precheck_leads_with_totals_and_top_blockers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["precheck", *DEMO, "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    verdicts = [ns["verdict"] for ns in data["namespaces"]]
    assert main(["precheck", *DEMO]) == 0
    out = capsys.readouterr().out
    totals = re.search(
        r"(\d+) namespace\(s\): (\d+) blocked · (\d+) need a waypoint · (\d+) ready · (\d+) unknown", out
    )
    assert totals, out[:500]
    count, blocked, waypoint, ready, unknown = map(int, totals.groups())
    assert count == len(verdicts) == blocked + waypoint + ready + unknown
    assert (blocked, waypoint, ready) == tuple(verdicts.count(v) for v in ("blocked", "needs-waypoint", "ready"))
    blocked_by: dict[str, set[str]] = {}
    for ns in data["namespaces"]:
        for f in ns["findings"]:
            if f["severity"] == "blocker":
                blocked_by.setdefault(f["code"], set()).add(ns["name"])
    ranked = sorted(blocked_by, key=lambda code: (-len(blocked_by[code]), code))
    top = out.index("Top blockers")
    listed = out[top : out.index("Findings (")]
    assert [code for code in ranked if code in listed] == ranked[:5]  # the five that block the most namespaces
    first = ranked[0]
    assert f"{first}: {len(blocked_by[first])} namespace(s)" in listed
    # The summary first, then the table, then the detail.
    assert out.index("Summary") < top < out.index("verdict") < out.index("Findings (")


def test_hints_are_commands_that_run_as_pasted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["precheck", *DEMO]) == 0
    out = capsys.readouterr().out
    hints = [line.strip() for line in out.split("\nNext\n")[1].splitlines() if line.strip()]
    assert hints and all(h.startswith("meshbot plan ") and "--from-file" in h for h in hints)
    for hint in hints[:2]:
        words = shlex.split(hint)
        assert main(words[1:]) == 0
        assert "plan" in capsys.readouterr().out.splitlines()[0].lower()  # the plan of that namespace


def test_korean_hints_keep_the_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", *DEMO, "--lang", "ko"]) == 0
    hints = capsys.readouterr().out.split("다음 단계")[1]
    assert "meshbot precheck" in hints and "--lang ko" in hints


def test_precheck_rows_are_coloured_by_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import build_parser, run_command, settings_from
    from handlers import COMMANDS

    parser, _ = build_parser()
    args = parser.parse_args(["precheck", *DEMO])
    reply = run_command(COMMANDS["precheck"], args, settings_from(args))
    lines = render_text(reply, Terminal(width=120, color=True)).splitlines()
    row = {
        ESCAPE.sub("", line).split()[0]: line
        for line in lines
        if re.match(r"^[a-z]+ +(sidecar|ambient|none|mixed) ", ESCAPE.sub("", line))
    }
    assert row["payments"].startswith("\x1b[1;31m") and row["orders"].startswith("\x1b[35m")
    assert "\x1b[" not in row["catalog"].split("catalog")[0]  # a ready namespace is not marked


def test_colour_marks_rows_and_findings_and_plain_has_none() -> None:
    reply = Reply(
        title="t",
        sections=[
            Section(
                table=Table(
                    columns=["ns", "verdict"], rows=[["a", "blocked"], ["b", "ready"]], row_severity=["blocker", None]
                )
            )
        ],
        findings=[FindingItem(code="c", severity="warning", resource="r [x]", message="m <b>", kb="k")],
    )
    coloured = render_text(reply, Terminal(width=60, color=True))
    assert "\x1b[1;31m" in coloured and "\x1b[33m▲ warning" in coloured
    plain = render_text(reply, Terminal(width=60))
    assert "\x1b" not in plain
    assert "r [x]" in plain and "m <b>" in plain  # cluster text shows as it is (no markup eaten)


def test_rich_is_not_imported_for_json_and_costs_little() -> None:
    """rich loads only to render text: `--output json` and the bot never import it."""
    probe = (
        "import sys, time; from bot.cli import main; main(['limits', '--output', 'json']);"
        "assert 'rich' not in sys.modules, 'rich imported for JSON';"
        "t = time.process_time(); import rich.console, rich.markdown, rich.table;"
        "print(round(time.process_time() - t, 3))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    seconds = float(done.stdout.strip().splitlines()[-1])
    assert seconds < 0.25  # measured about 0.06 s of CPU; the budget of a whole `ask` is 0.5 s


def test_line_breaks_the_author_meant_are_kept_and_wrapped_sentences_joined() -> None:
    from bot.render_text import keep_line_breaks

    items = "pricing: AuthorizationPolicy a: ZtunnelAccepted=False\npricing: Service b: WaypointBound=False"
    assert keep_line_breaks(items).split("\n")[0].endswith("  ")  # one item per line
    wrapped = "Also undo the ambient-only pieces if you\nadded them, then restart."
    assert keep_line_breaks(wrapped) == wrapped  # a sentence wrapped in the source joins
    assert keep_line_breaks("First sentence.\nSecond one.").startswith("First sentence.  \n")
