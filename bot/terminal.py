"""What the terminal wants: its width, colour or not, and the flags a pasted hint must repeat."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Mapping
from typing import TextIO

from bot.render_text import PIPED_WIDTH, Terminal

MIN_WIDTH = 40
NAMESPACE_SELECTORS = frozenset({"namespace", "namespaces", "all_namespaces"})
"""Cluster options that pick namespaces rather than the source: a hint names its own namespace."""


def wants_color(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def columns(stream: TextIO, environ: Mapping[str, str]) -> int:
    """COLUMNS when set, else the terminal's width, else 100 (piped into a file or another program)."""
    given = environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return max(MIN_WIDTH, int(given))
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        return max(MIN_WIDTH, shutil.get_terminal_size((PIPED_WIDTH, 24)).columns)
    return PIPED_WIDTH


def source_args(args: argparse.Namespace, cluster: argparse.ArgumentParser) -> tuple[str, ...]:
    """The cluster source flags this invocation was given, as words to append to a hint."""
    words: list[str] = []
    for action in cluster._actions:
        if not action.option_strings or action.dest in NAMESPACE_SELECTORS:
            continue
        value = getattr(args, action.dest, None)
        if value is None or value is False or value == action.default:
            continue
        flag = max(action.option_strings, key=len)  # the long form reads better in a pasted command
        values = value if isinstance(value, list) else [value]
        for one in values:
            words += [flag] if one is True else [flag, str(one)]
    return tuple(words)


def terminal_for(
    stream: TextIO, *, sources: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> Terminal:
    env = os.environ if environ is None else environ
    return Terminal(width=columns(stream, env), color=wants_color(stream, env), source_args=sources)
