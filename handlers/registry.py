"""Commands register here by decorator, each with its help text beside it (errbot style)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.context import Context
from handlers.reply import Reply

Runner = Callable[[argparse.Namespace, Context], Reply]


class UsageError(Exception):
    """The arguments do not fit the command; the message says how."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so Slack and the CLI can answer in their own way."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


@dataclass(frozen=True)
class Arg:
    names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*names: str, **options: Any) -> Arg:
    return Arg(names, options)


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary_en: str
    summary_ko: str
    run: Runner
    args: tuple[Arg, ...] = ()
    reads_cluster: bool = False
    cluster_optional: bool = False
    """Takes the cluster options and reads the cluster only when a source is configured (`ask`)."""

    def summary(self, language: str) -> str:
        return self.summary_ko if language == "ko" else self.summary_en

    def configure(self, parser: argparse.ArgumentParser) -> None:
        for a in self.args:
            parser.add_argument(*a.names, **a.options)


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    *,
    usage: str,
    en: str,
    ko: str,
    args: Sequence[Arg] = (),
    reads_cluster: bool = False,
    cluster_optional: bool = False,
) -> Callable[[Runner], Runner]:
    """Register `run(args, ctx) -> Reply` as the command `name`."""

    def register(run: Runner) -> Runner:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(name, usage, en, ko, run, tuple(args), reads_cluster, cluster_optional)
        return run

    return register


def parse(name: str, argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command's arguments the same way for every surface; raises UsageError."""
    cmd = COMMANDS[name]
    parser = ArgumentParser(prog=name, add_help=False)
    cmd.configure(parser)
    return parser.parse_args(list(argv))
