"""Posting to Slack with retries that neither lose nor duplicate a message.

429 is retried after Retry-After; 5xx and connection errors with exponential backoff. A post
that failed after the server may have taken it (5xx, a dropped connection) is looked up first
(conversations.history, by the idempotency key carried in the message metadata) so a retry
never posts twice. The caller records the intent before calling `post` and the ts after it;
`bot.state` re-drives intents left without a ts by a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.ports import DeliveryError

LOG = logging.getLogger(__name__)
METADATA_EVENT = "meshbot_post"
HISTORY_PAGE = 200

T = TypeVar("T")


class PostError(DeliveryError):
    """Slack refused the message, or kept failing after every retry."""


class SlackPoster:
    def __init__(
        self,
        client: WebClient,
        *,
        retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    @classmethod
    def connect(
        cls, token: str, api_url: str, *, identity: str = "", retries: int = 5, backoff: float = 1.0
    ) -> SlackPoster:
        base = api_url if api_url.endswith("/") else api_url + "/"
        # Our own retry loop below decides what is safe to retry; the SDK's built-in one is off.
        client = WebClient(
            token=token, base_url=base, retry_handlers=[], user_agent_prefix=f"meshbot/{identity}".rstrip("/")
        )
        return cls(client, retries=retries, backoff=backoff)

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str | None = None,
        key: str | None = None,
        since: datetime | None = None,
    ) -> str:
        """Post once; `key` makes retries (and re-drives after a crash) find an earlier success."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None

        def send() -> str:
            response = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=metadata, unfurl_links=False
            )
            return str(response["ts"])

        def already() -> str | None:
            return self.find(channel, key, since=since, thread_ts=thread_ts) if key else None

        return self._with_retries(send, already)

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> str:
        """Edit a message in place (idempotent by nature, so every failure may simply be retried)."""

        def send() -> str:
            response = self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return str(response.get("ts") or ts)

        return self._with_retries(send, lambda: None)

    def find(
        self, channel: str, key: str | None, *, since: datetime | None, thread_ts: str | None = None
    ) -> str | None:
        """The ts of a message this bot posted with idempotency `key`, if Slack has it."""
        if key is None:
            return None
        oldest = f"{since.timestamp() - 60:.6f}" if since else "0"
        try:
            if thread_ts:
                response = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=HISTORY_PAGE
                )
            else:
                response = self.client.conversations_history(
                    channel=channel, oldest=oldest, include_all_metadata=True, limit=HISTORY_PAGE
                )
        except (SlackApiError, URLError, OSError) as exc:
            # Without history access (scope channels:history) a retry may duplicate: say so in the log.
            LOG.warning("cannot look up message %s in %s before retrying: %s", key, channel, exc)
            return None
        for message in response.get("messages") or []:
            payload = ((message.get("metadata") or {}).get("event_payload")) or {}
            if payload.get("key") == key:
                return str(message["ts"])
        return None

    def _with_retries(self, send: Callable[[], T], already: Callable[[], T | None]) -> T:
        maybe_taken = False
        for attempt in range(self.retries + 1):
            if maybe_taken:
                found = already()
                if found is not None:
                    return found
            try:
                return send()
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    wait = _retry_after(exc.response.headers, self.backoff)
                elif status >= 500:
                    maybe_taken = True
                    wait = self.backoff * 2**attempt
                else:
                    raise PostError(f"Slack refused the message: {exc.response.get('error') or status}") from None
                problem = f"HTTP {status}"
            except (URLError, ConnectionError, TimeoutError, OSError) as exc:
                maybe_taken = True
                wait = self.backoff * 2**attempt
                problem = f"{type(exc).__name__}: {exc}"
            if attempt == self.retries:
                raise PostError(f"Slack kept failing ({problem}) after {self.retries} retries")
            LOG.warning("Slack call failed (%s); retry %d/%d in %.1fs", problem, attempt + 1, self.retries, wait)
            self.sleep(min(wait, self.max_wait))
        raise AssertionError("unreachable")


def _retry_after(headers: Any, default: float) -> float:
    try:
        return float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or default)
    except (TypeError, ValueError):
        return default
