"""Putting a rendered reply in front of people: response_url, chat.postMessage, and report files.

Every delivery goes through `bot.poster.SlackPoster`: retried on 429 and 5xx, a channel post keyed so a
retry after a 5xx finds the first attempt instead of posting twice, each one logged and counted.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.poster import PostError, SlackPoster
from bot.slack.render import SlackMessage
from bot.slack.threads import ThreadMemory
from handlers.messages import msg
from handlers.reply import Chart
from knowledge import Language

LOG = logging.getLogger("meshbot.slack")
# The bot cannot post into a channel it was not invited to; the response_url still works there.
NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}


def _note(message: SlackMessage, text: str) -> SlackMessage:
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
    return SlackMessage(message.text, [*message.blocks[:49], note], message.report, message.summarised, message.stats)


def report_name(command: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", command.lower()).strip("-") or "report"
    return f"meshbot-{slug}.txt"


class Delivery:
    def __init__(self, client: WebClient, threads: ThreadMemory, *, retries: int = 5, backoff: float = 1.0) -> None:
        self.client = client
        self.threads = threads
        # Its own client without the SDK's retry handlers: the poster's loop decides, logs and counts each retry.
        own = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout, retry_handlers=[])
        self.poster = SlackPoster(own, retries=retries, backoff=backoff)

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str | None = None) -> str:
        """Post in the channel (in a thread when given) and remember the thread as one meshbot answers in."""
        ts = self.poster.post(
            channel,
            message.text,
            message.blocks,
            thread_ts=thread_ts,
            key=f"answer:{uuid.uuid4().hex}",
            since=datetime.now(UTC),
        )
        self.threads.remember(channel, thread_ts or ts)
        return ts

    def respond(self, respond: Respond, **message: Any) -> None:
        """An answer through the request's response_url, retried like every post."""
        if respond.response_url is None:
            raise PostError("this request has no response_url")
        self.poster.respond(respond.response_url, {k: v for k, v in message.items() if v is not None})

    def upload(self, channel: str, report: str, command: str, language: Language, *, thread_ts: str | None) -> None:
        self.poster.upload(
            channel=channel,
            thread_ts=thread_ts,
            content=report,
            filename=report_name(command),
            title=report_name(command),
            initial_comment=msg("slack.report.comment", language, command=command),
        )

    def upload_chart(
        self, channel: str, chart: Chart, command: str, language: Language, *, thread_ts: str | None = None
    ) -> None:
        """A reply's trend as a small PNG beside the table (matplotlib, imported only here)."""
        from bot.chart import png

        name = report_name(command).removesuffix(".txt") + ".png"
        try:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=png(chart),
                filename=name,
                title=chart.title,
                initial_comment=msg("traffic.chart.comment", language, name=command),
            )
        except SlackApiError as exc:  # the table is already there: a missing image is only logged
            LOG.warning("chart upload failed: %s", exc.response.get("error"))

    def answer_command(
        self,
        respond: Respond,
        message: SlackMessage,
        *,
        public: bool,
        channel: str,
        user: str,
        command: str,
        language: Language,
    ) -> None:
        """A slash command's answer: ephemeral through the response_url, or posted in the channel."""
        if public:
            try:
                ts = self.post(channel, message)
            except PostError as exc:
                if exc.error not in NOT_A_MEMBER:
                    raise
                self.respond(respond, text=message.text, blocks=message.blocks, response_type="in_channel")
                return
            if message.report is not None:
                self._upload_or_say(channel, message.report, command, language, thread_ts=ts)
            return
        if message.report is not None:
            # Ephemeral stays private: the whole report goes to the asker's DM with the bot, not the channel.
            try:
                dm = str(self.client.conversations_open(users=user)["channel"]["id"])
                self.upload(dm, message.report, command, language, thread_ts=None)
                message = _note(message, msg("slack.summary.sent_dm", language))
            except (SlackApiError, PostError) as exc:
                error = _error_of(exc)
                LOG.warning("report upload failed: %s", error)
                message = _note(message, msg("slack.summary.upload_failed", language, error=error, command=command))
        self.respond(respond, text=message.text, blocks=message.blocks, response_type="ephemeral")

    def answer_in_thread(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None, command: str, language: Language
    ) -> str:
        ts = self.post(channel, message, thread_ts=thread_ts)
        if message.report is not None:
            self._upload_or_say(channel, message.report, command, language, thread_ts=thread_ts or ts)
        return ts

    def _upload_or_say(self, channel: str, report: str, command: str, language: Language, *, thread_ts: str) -> None:
        try:
            self.upload(channel, report, command, language, thread_ts=thread_ts)
        except PostError as exc:
            error = _error_of(exc)
            LOG.warning("report upload failed: %s", error)
            text = msg("slack.summary.upload_failed", language, error=error, command=command)
            self.poster.post(channel, text, [], thread_ts=thread_ts, key=f"answer:{uuid.uuid4().hex}")


def _error_of(exc: SlackApiError | PostError) -> str:
    if isinstance(exc, PostError):
        return exc.error or str(exc)
    return str(exc.response.get("error"))


def payload_get(body: dict[str, Any], *path: str) -> Any:
    """body["a"]["b"] or None: Slack omits fields freely, and a missing one must not be a 500."""
    node: Any = body
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
