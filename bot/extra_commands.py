"""Commands that belong to the runtime rather than to a handler: demo, serve, digest, migrate."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Settings


def register(commands: Any, output: argparse.ArgumentParser, cluster: argparse.ArgumentParser) -> None:
    demo = commands.add_parser("demo", help="tour meshbot on the bundled demo cluster (no Slack needed)")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import tour

    return tour()
