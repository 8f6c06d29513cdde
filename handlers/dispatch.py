"""Run a command by name for any surface, turning expected failures into clear replies."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cluster.errors import ClusterError
from handlers.context import Context, NoClusterError
from handlers.registry import COMMANDS, UsageError, parse
from handlers.reply import Reply, error_reply


def run(name: str, args: argparse.Namespace, ctx: Context) -> Reply:
    """Run a parsed command; a failure the user can act on becomes an error Reply, never a traceback."""
    try:
        return COMMANDS[name].run(args, ctx)
    except (NoClusterError, UsageError) as exc:
        return error_reply(str(exc), language=ctx.language)
    except ClusterError as exc:
        return error_reply(exc.explain(ctx.language), language=ctx.language, exit_code=3)


def run_text(name: str, argv: Sequence[str], ctx: Context) -> Reply:
    """Parse then run, for surfaces that receive raw words (Slack)."""
    try:
        args = parse(name, argv)
    except UsageError as exc:
        usage = COMMANDS[name].usage
        return error_reply(f"{exc}\nusage: {usage}", language=ctx.language)
    return run(name, args, ctx)
