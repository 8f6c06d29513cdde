"""Structured logs: JSON in the container, readable locally; one audit line per command."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

AUDIT = logging.getLogger("meshbot.audit")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(*, json_lines: bool, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def audit(*, user: str, channel: str, command: str, outcome: str, **extra: Any) -> None:
    """One line per command: who ran what, where, and how it ended. Never pass tokens here."""
    fields = {"user": user, "channel": channel, "command": command, "outcome": outcome, **extra}
    AUDIT.info("command %s by %s in %s: %s", command, user, channel, outcome, extra={"fields": fields})
