"""`--dry-run`: what a command would post to Slack, shown instead of posted (nothing is sent or saved).

The preview carries the message itself (`data.would_post`), so a surface can render it exactly as it
would be posted: the terminal as text, `--output json` as the Block Kit payload of chat.postMessage.
"""

from __future__ import annotations

from handlers.messages import msg
from handlers.reply import Reply, Section
from knowledge import Language


def preview(would_post: Reply, channel: str | None, language: Language) -> Reply:
    where = channel or msg("preview.no_channel", language)
    note = Section(text=msg("preview.note", language, channel=where))
    return Reply(
        title=msg("preview.title", language, title=would_post.title),
        sections=[note, *would_post.sections],
        findings=would_post.findings,
        data={"dry_run": True, "channel": channel, "would_post": would_post.model_dump(mode="json")},
        language=language,
    )
