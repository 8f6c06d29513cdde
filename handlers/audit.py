"""`audit [--since 7d|DATE]`: who ran what, with which arguments, where, and how it ended."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers.context import Context
from handlers.digest import state_of
from handlers.messages import msg
from handlers.registry import Args, UsageError, command, option
from handlers.reply import Reply, Section, Table

AGO = re.compile(r"^(\d+)([mhd])$")
AGO_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
DEFAULT_SINCE = "7d"


@dataclass(frozen=True)
class AuditArgs(Args):
    since: str = option("--since", default=DEFAULT_SINCE, help="how far back: 30m, 24h, 7d, or a date (2026-01-31)")


def since_time(text: str, now: datetime, ctx: Context) -> datetime:
    """`7d` ago, or an ISO date/time (UTC unless it says otherwise); UsageError for anything else."""
    ago = AGO.match(text.strip().lower())
    if ago:
        return now - timedelta(**{AGO_UNITS[ago.group(2)]: int(ago.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(msg("audit.bad_since", ctx.language, since=text[:40])) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _arguments(arguments: dict[str, object]) -> str:
    """`action=subscribe words=[…]` without the empty ones, for the table."""
    shown = {k: v for k, v in arguments.items() if v not in (None, [], "", False)}
    return " ".join(f"{k}={v}" for k, v in shown.items())[:200]


@command(
    "audit",
    usage="audit [--since 7d|24h|2026-01-31]",
    en="The audit trail: who ran which command with which arguments, where, and how it ended.",
    ko="감사 기록: 누가 어떤 명령을 어떤 인자로 어디서 실행했고 결과가 어땠는지.",
    example="audit --since 24h",
    operators_only=True,
    uses_store=True,
)
def audit(args: AuditArgs, ctx: Context) -> Reply:
    state = state_of(ctx)
    lang = ctx.language
    since = since_time(args.since, state.now(), ctx)
    rows = state.audit_rows(since)
    columns = [msg(f"audit.col.{c}", lang) for c in ("at", "user", "channel", "command", "target", "outcome")]
    table = [
        [
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.user,
            r.channel,
            f"{r.command} {_arguments(r.arguments)}".strip(),
            r.target_channel or "",
            r.outcome,
        ]
        for r in rows
    ]
    sections = [Section(table=Table(columns=columns, rows=table))] if rows else [Section(text=msg("audit.empty", lang))]
    return Reply(
        title=msg("audit.title", lang, since=since.strftime("%Y-%m-%d %H:%M")),
        sections=sections,
        data={"since": since.isoformat(), "entries": [r.model_dump(mode="json") for r in rows]},
        language=lang,
    )
