"""Putting a rendered reply in front of people: response_url, chat.postMessage, and report files."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

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
    def __init__(self, client: WebClient, threads: ThreadMemory) -> None:
        self.client = client
        self.threads = threads

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str | None = None) -> str:
        """Post in the channel (in a thread when given) and remember the thread as one meshbot answers in."""
        result = self.client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts, unfurl_links=False
        )
        ts = str(result["ts"])
        self.threads.remember(channel, thread_ts or ts)
        return ts

    def upload(self, channel: str, report: str, command: str, language: Language, *, thread_ts: str | None) -> None:
        self.client.files_upload_v2(
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
            except SlackApiError as exc:
                if exc.response.get("error") not in NOT_A_MEMBER:
                    raise
                respond(text=message.text, blocks=message.blocks, response_type="in_channel")
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
            except SlackApiError as exc:
                LOG.warning("report upload failed: %s", exc.response.get("error"))
                error = str(exc.response.get("error"))
                message = _note(message, msg("slack.summary.upload_failed", language, error=error, command=command))
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

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
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            LOG.warning("report upload failed: %s", error)
            text = msg("slack.summary.upload_failed", language, error=error, command=command)
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)


def payload_get(body: dict[str, Any], *path: str) -> Any:
    """body["a"]["b"] or None: Slack omits fields freely, and a missing one must not be a 500."""
    node: Any = body
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
