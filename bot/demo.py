"""`meshbot demo [--lang ko]`: a narrated tour on the bundled demo cluster, no Slack or cluster needed.

What meshbot is, then one step per question a platform team asks on the way to ambient: the
question in one line, the command (quoted so it pastes in bash and zsh), the start of its real
answer, and how many lines follow when you run it yourself. It ends with what to do next. The
whole tour stays under 100 lines (tests/test_demo.py counts them in both languages).
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass

from bot.render_text import Terminal, render_text
from cluster.demo import DEMO_PATH
from handlers.messages import msg
from handlers.reply import Reply, Section
from knowledge import Language

INDENT = "  "
"""Answers are indented under their command."""


@dataclass(frozen=True)
class Step:
    key: str
    """`demo.step.<key>`: the question this step answers."""
    argv: tuple[str, ...]
    shown: int
    """Lines of the answer shown; the rest is counted."""
    cluster: bool = False


def demo_path() -> str:
    """The demo cluster as the user would type it: relative when it is under the working directory."""
    relative = os.path.relpath(DEMO_PATH)
    return relative if not relative.startswith("..") else str(DEMO_PATH)


def steps(language: Language) -> list[Step]:
    question = msg("demo.question", language)
    return [
        Step("ask", ("ask", question), 5),
        Step("advise", ("advise", "--need", "l7", "--need", "resource-efficiency"), 4),
        Step("limits", ("limits", "envoyfilter"), 3),
        Step("status", ("status",), 7, cluster=True),
        Step("precheck", ("precheck",), 8, cluster=True),
        Step("plan", ("plan", "orders"), 7, cluster=True),
        Step("savings", ("savings",), 5, cluster=True),
    ]


def command_words(step: Step, language: Language) -> list[str]:
    words = list(step.argv)
    if step.cluster:
        words += ["--from-file", demo_path()]
    if language == "ko" and step.key != "ask":  # a Korean question answers in Korean by itself
        words += ["--lang", "ko"]
    return words


def answer_lines(words: list[str], term: Terminal) -> tuple[list[str], int]:
    """The answer of `meshbot WORDS` as rendered lines (without its title), and its exit code."""
    from bot.cli import build_parser, cluster_options, run_command, settings_from
    from bot.terminal import source_args
    from handlers import COMMANDS

    parser, _ = build_parser()
    args = parser.parse_args(words)
    reply = run_command(COMMANDS[args.command], args, settings_from(args, words))
    sources = source_args(args, cluster_options())
    text = render_text(reply.model_copy(update={"title": ""}), Terminal(term.width - len(INDENT), term.color, sources))
    return [line for line in text.split("\n") if line.strip()], reply.exit_code  # an excerpt: no blank lines


def prose(title: str, markdown: str, term: Terminal) -> str:
    """A titled paragraph, wrapped to the terminal like every answer (its commands stay whole)."""
    return render_text(Reply(title=title, sections=[Section(text=markdown)]), term).rstrip("\n")


def tour(language: Language = "en", term: Terminal | None = None) -> int:
    from bot.terminal import terminal_for

    term = term or terminal_for(sys.stdout)
    bold, cyan, dim, reset = ("\x1b[1m", "\x1b[36m", "\x1b[2m", "\x1b[0m") if term.color else ("", "", "", "")
    out = [prose(msg("demo.title", language), msg("demo.intro", language), term), ""]
    worst = 0
    plan = steps(language)
    for n, step in enumerate(plan, start=1):
        words = command_words(step, language)
        lines, code = answer_lines(words, term)
        worst = max(worst, code)
        out.append(f"{bold}{n}/{len(plan)} {msg(f'demo.step.{step.key}', language)}{reset}")
        out.append(f"{cyan}$ {shlex.join(['meshbot', *words])}{reset}")
        out += [INDENT + line for line in lines[: step.shown]]
        if len(lines) > step.shown:
            out.append(f"{dim}{INDENT}… {msg('demo.more', language, count=len(lines) - step.shown)}{reset}")
        out.append("")
    out.append(prose(msg("demo.next", language), msg("demo.next.items", language), term))
    sys.stdout.write("\n".join(out) + "\n")
    return worst
