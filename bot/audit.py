"""Where the pipeline's audit rows go: the audit log line, and the store's audit table."""

from __future__ import annotations

from collections.abc import Callable

from bot import logs
from handlers import AuditRecord
from handlers.ports import StatePort


def audit_log(record: AuditRecord) -> None:
    logs.audit(
        user=record.user,
        channel=record.channel,
        command=record.command,
        outcome=record.outcome,
        surface=record.surface,
        arguments=record.arguments,
        target_channel=record.target_channel,
        request_id=record.request_id,
        **({"reason": record.reason} if record.reason else {}),
    )


def store_sink(state: StatePort) -> Callable[[AuditRecord], None]:
    def write(record: AuditRecord) -> None:
        state.audit(
            user=record.user,
            channel=record.channel,
            command=record.command,
            outcome=record.outcome,
            arguments=record.arguments,
            target_channel=record.target_channel,
            request_id=record.request_id,
            surface=record.surface,
        )

    return write
