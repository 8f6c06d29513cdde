"""The terminal and the bot's store: where it is, what a CLI subscription means, previews of posts."""

from __future__ import annotations

import argparse
import json

from bot.config import Settings
from handlers.messages import msg
from handlers.reply import Reply, Section


def with_store_note(command: str, parsed: argparse.Namespace, reply: Reply, settings: Settings) -> Reply:
    """A subscription made in the terminal is only a row in the store: say who will act on it, and which store."""
    if command != "digest" or getattr(parsed, "action", None) != "subscribe" or reply.error:
        return reply
    from bot.store import safe_url

    note = Section(text=msg("cli.digest.subscribed", reply.language, store=safe_url(settings.database_url)))
    return reply.model_copy(update={"sections": [*reply.sections, note]})


def block_kit_json(reply: Reply) -> str | None:
    """A `--dry-run` preview as the chat.postMessage payload it would send (Block Kit), or None for other replies."""
    would_post = reply.data.get("would_post")
    if not isinstance(would_post, dict):
        return None
    from bot.slack.render import render

    message = render(Reply.model_validate(would_post))
    payload = {"channel": reply.data.get("channel"), "text": message.text, "blocks": message.blocks}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
