"""Slack events answered once: Slack redelivers an event it thinks was not acked (X-Slack-Retry-Num in HTTP
mode, retry_attempt in Socket Mode) with the same `event_id`, so the first delivery claims the id and the
others are acked without running anything.

The claim lives in the store (`Store.claim_event`) so it holds across replicas; without a store, in this
process's memory.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse

from bot import metrics

LOG = logging.getLogger("meshbot.slack")

Claim = Callable[[str], bool]
"""True the first time an event id is claimed, False afterwards."""


class MemoryClaims:
    """Claims of one process, bounded (the newest `keep` ids): enough for Slack's retries within minutes."""

    def __init__(self, keep: int = 10_000) -> None:
        self.keep = keep
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            while len(self._seen) > self.keep:
                self._seen.popitem(last=False)
            return True


def event_id_of(body: dict[str, Any]) -> str | None:
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None


def answer_once(claim: Claim) -> Callable[..., BoltResponse | None]:
    """A Bolt global middleware: a redelivered event is acked (200, empty) and goes no further."""

    # Bolt passes arguments by name: `next` it must be called.
    def once(body: dict[str, Any], resp: BoltResponse, next: Callable[[], None]) -> BoltResponse | None:
        event_id = event_id_of(body)
        if event_id is not None:
            try:
                first = claim(event_id)
            except Exception as exc:  # the store is down: answering twice beats never answering
                LOG.warning("cannot record Slack event %s (%s): handling it anyway", event_id, exc)
                first = True
            if not first:
                LOG.info("Slack redelivered event %s: already taken, acked without answering again", event_id)
                metrics.event_redelivered()
                return BoltResponse(status=200, body="")
        next()
        return resp

    return once
