"""The conversation memory of `ask` (handlers.ports.ConversationPort) on the bot's store.

The table and its queries live in bot/store.py (SQLAlchemy stays there): the last turns of each
thread or DM, bounded and expiring after MESHBOT_CONVERSATION_TTL, so a restart keeps them.
"""

from __future__ import annotations

from bot.store import Store, StoreConversations
from handlers.ports import ConversationPort


def conversations_for(state: object, ttl_seconds: float) -> ConversationPort | None:
    """The conversation memory on the bot's store, when the state has one (None: no memory)."""
    store = getattr(state, "store", None)
    return StoreConversations(store, ttl_seconds) if isinstance(store, Store) else None
