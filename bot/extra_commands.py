"""Commands that belong to the runtime rather than to a handler: demo, serve, scheduler."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.config import Settings, SettingsError

if TYPE_CHECKING:
    from bot.state import BotState


def register(commands: Any, output: argparse.ArgumentParser, cluster: argparse.ArgumentParser) -> None:
    from bot.cli_conventions import summary

    demo = commands.add_parser("demo", help=summary("demo", "en"))
    demo.set_defaults(run=run_demo)
    serve = commands.add_parser(
        "serve",
        parents=[cluster],
        help=summary("serve", "en"),
    )
    serve.add_argument("--mode", choices=["socket", "http"], default="socket", help="how Slack reaches the bot")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default MESHBOT_PORT or 3000; 0 picks one)")
    serve.set_defaults(run=run_serve)
    scheduler = commands.add_parser(
        "scheduler",
        parents=[cluster],
        help=summary("scheduler", "en"),
    )
    scheduler.add_argument("--leader-election", action="store_true", default=None, help="hold a Lease to run")
    scheduler.add_argument("--identity", default=None, help="holderIdentity of this replica (default HOSTNAME-pid)")
    scheduler.set_defaults(run=run_scheduler)
    from bot import collect

    collect.register(commands, cluster)


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import tour

    return tour(settings.language)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot import logs
    from bot.slack.serve import run

    # JSON unless MESHBOT_LOG_FORMAT=text or a terminal; the configured secrets are redacted from every line.
    logs.configure(secrets=(settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret))
    return run(settings, args.mode, port=args.port)


def state_for(settings: Settings) -> BotState:
    """The StatePort of the terminal: the same store and Slack poster as the bot."""
    from bot.runtime import build_state
    from bot.store import OPEN_ERRORS, safe_url

    try:
        return build_state(settings, identity="cli")
    except OPEN_ERRORS as exc:
        raise SettingsError(f"cannot open the store {safe_url(settings.database_url)}: {exc}".splitlines()[0]) from None


def run_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot import logs
    from bot.scheduling import run_scheduler as run

    logs.configure(secrets=(settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret))
    overrides = {"leader_election": args.leader_election, "identity": args.identity}
    return run(settings.model_copy(update={k: v for k, v in overrides.items() if v is not None}))
