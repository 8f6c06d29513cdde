"""handlers.ports.ConversationPort on the store: the earlier turns of threads and DMs survive a restart.

Bounded: the last MAX_TURNS turns of a conversation are kept, older ones deleted as new ones come;
expiring: turns older than MESHBOT_CONVERSATION_TTL are neither read nor kept (deleted on write).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from bot.store import ConversationTurn, Store, utcnow
from handlers.ports import ConversationPort, Turn

MAX_TURNS = 10


class StoreConversations:
    def __init__(self, store: Store, ttl_seconds: float, max_turns: int = MAX_TURNS) -> None:
        self.store = store
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_turns = max_turns

    def recall(self, key: str) -> list[Turn]:
        since = utcnow() - self.ttl
        with self.store.session() as s:
            rows = s.scalars(
                select(ConversationTurn)
                .where(ConversationTurn.key == key, ConversationTurn.at >= since)
                .order_by(ConversationTurn.id.desc())
                .limit(self.max_turns)
            ).all()
            return [Turn.model_validate(row.turn) for row in reversed(rows)]

    def remember(self, key: str, turn: Turn) -> None:
        with self.store.session() as s:
            s.add(ConversationTurn(key=key[:160], turn=turn.model_dump(mode="json")))
            s.flush()
            keep = s.scalars(
                select(ConversationTurn.id)
                .where(ConversationTurn.key == key[:160])
                .order_by(ConversationTurn.id.desc())
                .limit(self.max_turns)
            ).all()
            s.execute(
                delete(ConversationTurn).where(ConversationTurn.key == key[:160], ConversationTurn.id.not_in(keep))
            )
            s.execute(delete(ConversationTurn).where(ConversationTurn.at < utcnow() - self.ttl))

    def knows(self, key: str) -> bool:
        return bool(self.recall(key))


def conversations_for(state: object, ttl_seconds: float) -> ConversationPort | None:
    """The conversation memory on the bot's store, when the state has one (None: no memory)."""
    store = getattr(state, "store", None)
    return StoreConversations(store, ttl_seconds) if isinstance(store, Store) else None
