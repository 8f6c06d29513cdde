"""Where the pipeline's audit rows go: the audit log line, and the store's audit table."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot import logs
from handlers import AuditRecord
from handlers.ports import StatePort

LOG = logging.getLogger("meshbot.audit")


def audit_log(record: AuditRecord) -> None:
    logs.audit(**record.row(), **({"reason": record.reason} if record.reason else {}))


def store_at(url: str) -> Callable[[AuditRecord], None]:
    """Audit rows into the store at `url`, opened only to write one (a terminal command that uses no store)."""

    def write(record: AuditRecord) -> None:
        from bot.store import OPEN_ERRORS, Store, safe_url

        try:
            store = Store(url)
        except OPEN_ERRORS as exc:
            LOG.warning("cannot open the store %s for the audit trail: %s", safe_url(url), str(exc).splitlines()[0])
            return
        try:
            store.audit(**record.row())
        finally:
            store.close()

    return write


def store_sink(state: StatePort) -> Callable[[AuditRecord], None]:
    def write(record: AuditRecord) -> None:
        state.audit(**record.row())

    return write
