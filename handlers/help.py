"""`help`: every command with its one-line summary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import ARG, COMMANDS, Args, ArgSpec, command, positional
from handlers.reply import Reply, Section, Table
from knowledge import Language


@dataclass(frozen=True)
class HelpArgs(Args):
    topic: str | None = positional(nargs="?", help="a command name")


def flag_help(command: str, dest: str, language: Language) -> str | None:
    """A flag's help in `language` (`flag.COMMAND.DEST`, else `flag.DEST`); None when there is none."""
    for key in (f"flag.{command}.{dest}", f"flag.{dest}"):
        try:
            return msg(key, language)
        except KeyError:
            continue
    return None


def argument_rows(name: str, language: Language) -> list[list[str]]:
    """Each argument a command declares: how it is typed, and what it does (in Korean when there is a text)."""
    rows = []
    for f in dataclasses.fields(COMMANDS[name].model):
        spec: ArgSpec | None = f.metadata.get(ARG)
        if spec is None:
            continue
        typed = ", ".join(spec.flags) if spec.flags else f.name.upper()
        english = str(spec.options.get("help", ""))
        rows.append([typed, (flag_help(name, f.name, language) if language == "ko" else None) or english])
    return rows


@command(
    "help",
    usage="help [COMMAND]",
    en="List the commands, or explain one.",
    ko="명령어 목록을 보여주거나 하나를 설명합니다.",
    example="help status",
    answers_unknown=True,
)
def help_(args: HelpArgs, ctx: Context) -> Reply:
    lang = ctx.language
    names = [args.topic] if args.topic in COMMANDS else sorted(COMMANDS)
    rows = [[COMMANDS[n].usage, COMMANDS[n].summary(lang)] for n in names]
    sections = []
    if args.topic and args.topic not in COMMANDS:
        sections.append(Section(text=msg("help.unknown", lang, name=args.topic)))
    sections.append(Section(table=Table(columns=["usage", ""], rows=rows)))
    if args.topic in COMMANDS:  # one command: how to call it, and who may
        cmd = COMMANDS[args.topic]
        if flags := argument_rows(cmd.name, lang):
            sections.append(Section(table=Table(columns=msg("help.arguments", lang).split("|"), rows=flags)))
        lines = [msg("help.example", lang, example=cmd.example)]
        if cmd.operators_only or cmd.changes_state:
            lines.append(msg("help.operators", lang))
        sections.append(Section(text="\n".join(lines)))
    return Reply(
        title=msg("help.title", lang),
        sections=sections,
        data={
            "commands": [
                {
                    "name": n,
                    "usage": COMMANDS[n].usage,
                    "summary": COMMANDS[n].summary(lang),
                    "example": COMMANDS[n].example,
                }
                for n in names
            ]
        },
        language=lang,
    )
