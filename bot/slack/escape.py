"""Escaping for Slack text: nothing that comes from users or the cluster can ping, link or break a block.

Slack parses `<…>` as links and mentions (`<!channel>`, `<!here>`, `<@U…>`), so `&`, `<` and `>` become
HTML entities (Slack shows them as the characters). The bare words `@channel`, `@here` and `@everyone`
only ping when a message is sent with `link_names`, which meshbot never sets; they are still broken
with an invisible word joiner after the `@`, so no setting or client quirk can turn them into a ping.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
FENCE = "```"


def escape(text: str) -> str:
    """Safe Slack text (mrkdwn or plain_text) for any string from a user, the cluster or the knowledge base."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)


def in_code(text: str) -> str:
    """Text placed inside a ``` block: a fence inside it would end the block early."""
    return text.replace(FENCE, "`" + WORD_JOINER + "``")


def markdown_to_mrkdwn(text: str) -> str:
    """The knowledge base writes **bold** (Markdown); Slack's mrkdwn writes *bold*."""
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
