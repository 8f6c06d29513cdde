"""What people expect of a command-line tool: --version, help with every flag and an example, completion.

Everything here hangs off the declarations that exist already: a handler's `@command` (its summary
in both languages and its `example`), the argparse parser the CLI builds from them, and the runtime
commands (demo, serve, scheduler) registered beside them. Nothing is listed twice.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from handlers.help import flag_help
from handlers.messages import msg
from handlers.registry import COMMANDS
from handlers.reply import Reply, Section, Table, error_reply
from knowledge import Language

RUNTIME = ("demo", "serve", "scheduler", "collect", "version", "completion")
"""Commands of the terminal and the runtime, not handlers: their texts are `cli.<name>.summary` / `.example`."""
SHELLS = ("bash", "zsh")
FILE_OPTIONS = frozenset({"from_file", "kubeconfig", "config_file"})
EXIT_USAGE = 2


def meshbot_version() -> str:
    try:
        return package_version("meshbot")
    except PackageNotFoundError:  # a checkout that was never installed
        return "0+unknown"


def summary(name: str, language: Language) -> str:
    if name in COMMANDS:
        return COMMANDS[name].summary(language)
    return msg(f"cli.{name}.summary", language)


def example(name: str) -> str:
    if name in COMMANDS:
        return COMMANDS[name].example
    return msg(f"cli.{name}.example", "en")


def subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError("meshbot's parser has no commands")


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """`meshbot version` and `meshbot completion bash|zsh`."""
    version = commands.add_parser("version", help=summary("version", "en"))
    version.set_defaults(run=lambda args, settings: print_version())
    completion = commands.add_parser("completion", help=summary("completion", "en"))
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    completion.set_defaults(run=lambda args, settings: print_completion(args.shell))


def finish(parser: argparse.ArgumentParser) -> None:
    """Give every command a description and an example under its flags (`meshbot COMMAND --help`)."""
    parser.add_argument("--version", action="version", version=f"meshbot {meshbot_version()}")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "examples:\n" + "\n".join(
        f"  meshbot {example(name)}" for name in ("demo", "precheck", "ask", "help")
    )
    for name, sub in subparsers(parser).choices.items():
        if not any("--lang" in action.option_strings for action in sub._actions):
            sub.add_argument("--lang", choices=["en", "ko"], default=None, help="answer language")
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
        sub.description = sub.description or summary(name, "en")
        sub.epilog = f"example:\n  meshbot {example(name)}"


def print_version() -> int:
    print(f"meshbot {meshbot_version()}")
    return 0


def print_completion(shell: str) -> int:
    """A completion script generated from the parser itself (shtab), so it never lags behind the flags."""
    import shtab

    from bot.cli import build_parser

    parser, _ = build_parser()
    for sub in [parser, *subparsers(parser).choices.values()]:
        for action in sub._actions:
            if action.dest in FILE_OPTIONS:
                action.complete = shtab.FILE
    sys.stdout.write(shtab.complete(parser, shell=shell))
    return 0


def command_help(parser: argparse.ArgumentParser, topic: str, language: Language) -> str:
    """`meshbot help TOPIC`: the same as `meshbot TOPIC --help`, its description in the asked language."""
    sub = subparsers(parser).choices[topic]
    sub.description = summary(topic, language)
    if language == "ko":
        for action in sub._actions:
            action.help = flag_help(topic, action.dest, "ko") or action.help
    text: str = sub.format_help()
    return text


def unknown_topic(parser: argparse.ArgumentParser, topic: str, language: Language) -> Reply:
    known = ", ".join(sorted(subparsers(parser).choices))
    return error_reply(msg("cli.help.unknown", language, name=topic[:80], known=known), language=language)


def with_runtime_commands(reply: Reply, language: Language) -> Reply:
    """The handlers' command list, plus the commands only the terminal has."""
    rows = [[msg(f"cli.{name}.usage", "en"), summary(name, language)] for name in RUNTIME]
    extra = Section(heading=msg("cli.help.runtime", language), table=Table(columns=["usage", ""], rows=rows))
    hint = Section(text=msg("cli.help.more", language))
    return reply.model_copy(update={"sections": [*reply.sections, extra, hint]})
