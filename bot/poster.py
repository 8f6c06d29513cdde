"""Posting to Slack with retries that neither lose nor duplicate a message.

Every delivery goes through here: chat.postMessage, chat.update, a response_url, a file upload.
429 is retried after Retry-After; 5xx and connection errors with exponential backoff. A post
that failed after the server may have taken it (5xx, a dropped connection) is looked up first
(conversations.history, by the idempotency key carried in the message metadata) so a retry
never posts twice. The caller records the intent before calling `post` and the ts after it;
`bot.state` re-drives intents left without a ts by a crash. Each delivery is logged when it had to
be retried or failed, and counted by its real outcome (`meshbot_slack_posts`, `meshbot_slack_retries`).

A response_url message (ephemeral) and a file cannot be looked up: after a 5xx they are retried
anyway, since Slack's 5xx almost always means "not taken", and a lost answer is worse than a rare twin.
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
from slack_sdk.webhook import WebhookClient

from bot import metrics
from handlers.ports import DeliveryError

LOG = logging.getLogger(__name__)
METADATA_EVENT = "meshbot_post"
HISTORY_PAGE = 200

T = TypeVar("T")


class PostError(DeliveryError):
    """Slack refused the message, or kept failing after every retry."""

    def __init__(self, message: str, *, error: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.error = error
        """Slack's error code when it refused (e.g. not_in_channel), else empty."""


class _Status(Exception):
    """A non-2xx HTTP answer from a response_url (the Web API client raises SlackApiError itself)."""

    def __init__(self, status: int, headers: Any, body: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers, self.body = status, headers, body


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

        return self._with_retries("chat.postMessage", send, already)

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> str:
        """Edit a message in place (idempotent by nature, so every failure may simply be retried)."""

        def send() -> str:
            response = self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return str(response.get("ts") or ts)

        return self._with_retries("chat.update", send, lambda: None)

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        """Answer through a response_url (ephemeral, or replacing the original message)."""
        # No SDK retries: this loop counts and logs each one.
        webhook = WebhookClient(url=response_url, timeout=15, retry_handlers=[])

        def send() -> None:
            response = webhook.send_dict(message)
            if response.status_code >= 300:
                raise _Status(response.status_code, response.headers, str(response.body or ""))

        self._with_retries("response_url", send, lambda: None)

    def upload(self, **upload: Any) -> None:
        """files.upload v2 (get an upload URL, send the bytes, complete): retried as a whole."""

        def send() -> None:
            self.client.files_upload_v2(**upload)

        self._with_retries("files.upload", send, lambda: None)

    def find(
        self, channel: str, key: str | None, *, since: datetime | None, thread_ts: str | None = None
    ) -> str | None:
        """The ts of a message this bot posted with idempotency `key`, if Slack has it (None if it cannot say)."""
        try:
            return self.lookup(channel, key, since=since, thread_ts=thread_ts)
        except PostError as exc:
            # Without history access (scope channels:history) a retry may duplicate: say so in the log.
            LOG.warning("cannot look up message %s in %s before retrying: %s", key, channel, exc)
            return None

    def lookup(
        self, channel: str, key: str | None, *, since: datetime | None, thread_ts: str | None = None
    ) -> str | None:
        """Like `find`, but PostError when Slack cannot be asked (so "not there" is really not there)."""
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
        except SlackApiError as exc:
            raise PostError(f"Slack history: {_answer(exc)[2] or _answer(exc)[0]}") from None
        except (URLError, OSError) as exc:
            raise PostError(f"Slack history: {type(exc).__name__}: {exc}") from None
        for message in response.get("messages") or []:
            payload = ((message.get("metadata") or {}).get("event_payload")) or {}
            if payload.get("key") == key:
                return str(message["ts"])
        return None

    def _with_retries(self, method: str, send: Callable[[], T], already: Callable[[], T | None]) -> T:
        maybe_taken = False
        for attempt in range(self.retries + 1):
            if maybe_taken:
                found = already()
                if found is not None:
                    LOG.info("%s: an earlier attempt had got through; not sent again", method)
                    metrics.slack_post(method, "found")
                    return found
            try:
                result = send()
            except (SlackApiError, _Status) as exc:
                status, headers, error = _answer(exc)
                if status == 429:
                    wait, reason = _retry_after(headers, self.backoff), "429"
                elif status >= 500:
                    maybe_taken = True
                    wait, reason = self.backoff * 2**attempt, "5xx"
                else:
                    metrics.slack_post(method, "refused")
                    LOG.warning("%s: Slack refused it (%s)", method, error or status)
                    raise PostError(f"Slack refused the message: {error or status}", error=error) from None
                problem = f"HTTP {status}"
            except (URLError, ConnectionError, TimeoutError, OSError) as exc:
                maybe_taken = True
                wait, reason = self.backoff * 2**attempt, "network"
                problem = f"{type(exc).__name__}: {exc}"
            else:
                metrics.slack_post(method, "ok")
                if attempt:
                    LOG.info("%s delivered after %d retr%s", method, attempt, "y" if attempt == 1 else "ies")
                return result
            if attempt == self.retries:
                metrics.slack_post(method, "failed")
                LOG.error("%s failed: Slack kept failing (%s) after %d retries", method, problem, self.retries)
                raise PostError(f"Slack kept failing ({problem}) after {self.retries} retries")
            metrics.slack_retry(method, reason)
            LOG.warning("%s failed (%s); retry %d/%d in %.1fs", method, problem, attempt + 1, self.retries, wait)
            self.sleep(min(wait, self.max_wait))
        raise AssertionError("unreachable")


def _answer(exc: SlackApiError | _Status) -> tuple[int, Any, str]:
    """HTTP status, headers and Slack's error code of a failed call."""
    if isinstance(exc, _Status):
        return exc.status, exc.headers, exc.body[:100]
    response = exc.response
    return int(response.status_code), response.headers, str(response.get("error") or "")


def _retry_after(headers: Any, default: float) -> float:
    try:
        return float((headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or default)
    except (TypeError, ValueError):
        return default
