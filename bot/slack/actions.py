"""Buttons: "Explain" a finding, or run the command a follow-up names (its words in the value).

A button's value comes back from Slack as the user clicked it, so it is parsed defensively: a
value that does not parse is ignored with a log line, never a crash.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Respond

from bot.slack.delivery import payload_get
from bot.slack.render import EXPLAIN, action_name, render
from bot.slack.routing import Asker
from handlers import COMMANDS, Reply
from knowledge import Language

if TYPE_CHECKING:
    from bot.slack.app import SlackApp

LOG = logging.getLogger("meshbot.slack")


def _language(value: Any, fallback: Language) -> Language:
    return "ko" if value == "ko" else "en" if value == "en" else fallback


def _json(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def handle(slack: SlackApp, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    name = action_name(str(action.get("action_id") or ""))
    value = str(action.get("value") or "")
    channel = str(payload_get(body, "channel", "id") or payload_get(body, "container", "channel_id") or "")
    user = str(payload_get(body, "user", "id") or "")
    message_ts = payload_get(body, "message", "ts")
    thread_ts = payload_get(body, "message", "thread_ts") or message_ts
    team = payload_get(body, "team", "id") or payload_get(body, "user", "team_id")
    asker = Asker(
        user=user, channel=channel, thread_ts=str(thread_ts) if thread_ts else None, team=str(team) if team else None
    )
    fallback = slack.router.settings.language
    ephemeral = bool(payload_get(body, "container", "is_ephemeral")) or message_ts is None

    reply: Reply
    replace = False
    if name == EXPLAIN:
        data = _json(value)
        reply = slack.router.explain(str(data.get("kb") or ""), _language(data.get("lang"), fallback))
    elif name in COMMANDS:
        answered = slack.router.button(name, value, asker, fallback)
        if answered is None:
            return
        reply, replace = answered  # a refining button (advise's needs) answers in place
    else:
        LOG.info("ignoring unknown button %s", name)
        return

    message = render(reply)
    if ephemeral or replace:
        slack.delivery.respond(
            respond,
            text=message.text,
            blocks=message.blocks,
            response_type="ephemeral",
            replace_original=replace,
        )
        return
    slack.delivery.answer_in_thread(channel, message, thread_ts=asker.thread_ts, command=name, language=reply.language)
