"""`help`: every command with its one-line summary."""

from __future__ import annotations

import argparse

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import COMMANDS, arg, command
from handlers.reply import Reply, Section, Table


@command(
    "help",
    usage="help [COMMAND]",
    en="List the commands, or explain one.",
    ko="명령어 목록을 보여주거나 하나를 설명합니다.",
    args=[arg("topic", nargs="?", help="a command name")],
)
def help_(args: argparse.Namespace, ctx: Context) -> Reply:
    lang = ctx.language
    names = [args.topic] if args.topic in COMMANDS else sorted(COMMANDS)
    rows = [[COMMANDS[n].usage, COMMANDS[n].summary(lang)] for n in names]
    sections = []
    if args.topic and args.topic not in COMMANDS:
        sections.append(Section(text=msg("help.unknown", lang, name=args.topic)))
    sections.append(Section(table=Table(columns=["usage", ""], rows=rows)))
    return Reply(
        title=msg("help.title", lang),
        sections=sections,
        data={
            "commands": [{"name": n, "usage": COMMANDS[n].usage, "summary": COMMANDS[n].summary(lang)} for n in names]
        },
        language=lang,
    )
