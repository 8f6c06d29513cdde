"""Structured logs: JSON in the container, readable locally; one audit line per command; no secrets.

The format is chosen by `MESHBOT_LOG_FORMAT=json|text`, else JSON whenever stderr is not a
terminal (a container, a pipe). Every line goes through `redact`, whatever logger wrote it
(Bolt, slack_sdk, urllib3, kubernetes): Slack tokens, bearer/JWT tokens, signing secrets and any
secret value registered with `configure(secrets=…)` are replaced before anything is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

AUDIT = logging.getLogger("meshbot.audit")

FORMAT_ENV = "MESHBOT_LOG_FORMAT"
LEVEL_ENV = "MESHBOT_LOG_LEVEL"
MASK = "[REDACTED]"

# Why each pattern: Slack bot/user/refresh tokens (xoxb-, xoxp-, xoxe.xoxp-, …) and app-level tokens
# (xapp-); HTTP Authorization headers; JWTs such as the pod's ServiceAccount token; Slack signing
# secrets are 32 lowercase hex characters.
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])"),
)
# The password in a URL (a database URL such as postgresql://user:PASSWORD@host/db): the user and host stay.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
_known_secrets: set[str] = set()


def redact(text: str) -> str:
    """The text with every secret-looking substring replaced by [REDACTED]."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(MASK, text)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)


def register_secrets(values: Iterable[str | None]) -> None:
    """Redact these exact values (e.g. the configured tokens) from every line, whatever they look like."""
    _known_secrets.update(v for v in values if v and len(v) >= 6)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, plus the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False, default=str))


_IN_MESSAGE = frozenset({"audit", "user", "channel", "command", "outcome"})


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value…`: the audit fields the message does not already say."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = [f"{k}={v}" for k, v in getattr(record, "fields", {}).items() if k not in _IN_MESSAGE]
        if extra:
            head, newline, tail = text.partition("\n")  # after the message, before any traceback
            text = f"{head} {' '.join(extra)}{newline}{tail}"
        return redact(text)


def json_wanted(stream: TextIO) -> bool:
    """MESHBOT_LOG_FORMAT decides; otherwise JSON unless a person is watching a terminal."""
    chosen = os.environ.get(FORMAT_ENV, "").strip().lower()
    if chosen in ("json", "text"):
        return chosen == "json"
    return not (hasattr(stream, "isatty") and stream.isatty())


def configure(
    *,
    json_lines: bool | None = None,
    level: str | None = None,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
) -> None:
    """Route every logger to one redacting handler on stderr.

    json_lines None: decided by MESHBOT_LOG_FORMAT or the terminal; level None: MESHBOT_LOG_LEVEL or INFO.
    """
    out = stream if stream is not None else sys.stderr
    as_json = json_wanted(out) if json_lines is None else json_lines
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    chosen_level = (level or os.environ.get(LEVEL_ENV) or "INFO").upper()
    root.setLevel(chosen_level if chosen_level in logging.getLevelNamesMapping() else "INFO")
    register_secrets(secrets)
    logging.captureWarnings(True)


def audit(*, user: str, channel: str, command: str, outcome: str, **extra: Any) -> None:
    """One line per command: who ran what, where, and how it ended (tokens are redacted anyway)."""
    fields = {"audit": True, "user": user, "channel": channel, "command": command, "outcome": outcome, **extra}
    AUDIT.info("command %s by %s in %s: %s", command, user, channel, outcome, extra={"fields": fields})
