"""What the digest and migrate commands need from the runtime, as Protocols the bot implements.

Handlers stay free of SQLAlchemy, APScheduler and Slack: they read and write this state through
a port on the Context, so the same commands run from the terminal and from Slack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from handlers.messages import msg
from handlers.reply import Reply
from knowledge import Language

MigrationStatus = Literal["active", "done", "rolled-back"]
DeliveryAction = Literal["posted", "updated"]


class DeliveryError(Exception):
    """The message could not be delivered (Slack not configured, or failing after every retry)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        """A message key (handlers/messages_data) that says it in the user's language, where there is one."""

    def explain(self, language: Language) -> str:
        return msg(self.key, language) if self.key else str(self)


class AuditRow(BaseModel):
    """One audit row as `meshbot audit` shows it."""

    at: datetime
    user: str
    channel: str
    command: str
    arguments: dict[str, Any] = {}
    target_channel: str | None = None
    outcome: str
    request_id: str = ""
    surface: str = ""


class Subscription(BaseModel):
    id: int
    channel: str
    schedule: str
    """A crontab (5 fields, or 6 with seconds first), or `every Ns|Nm|Nh`."""
    namespaces: list[str] = []
    """Empty: every namespace."""
    created_by: str = ""
    created_at: datetime
    language: Language = "en"


class DigestRecord(BaseModel):
    """The last digest posted to a channel: what it said (state) and where (ts)."""

    channel: str
    ts: str | None
    state: dict[str, Any]
    posted_at: datetime


class Delivery(BaseModel):
    channel: str
    ts: str
    action: DeliveryAction
    """`updated`: nothing changed, so the previous message was edited in place."""


class MigrationRecord(BaseModel):
    namespace: str
    channel: str
    thread_ts: str | None = None
    phase: int = 1
    phase_started_at: datetime
    checklist: dict[str, bool] = Field(default_factory=dict)
    """Check name -> satisfied, for the checklist items that the cluster can confirm."""
    observed: dict[str, Any] = Field(default_factory=dict)
    """The namespace as last seen by a progress check (handlers.migration_progress.Observation)."""
    reminded_phase: int | None = None
    """The phase whose timer has already reminded, so a reminder is posted once."""
    status: MigrationStatus = "active"
    started_by: str = ""
    language: Language = "en"
    """The language it was started in: progress and reminders in the thread use it."""


class DigestPort(Protocol):
    def subscribe(
        self, channel: str, schedule: str, namespaces: list[str], user: str, language: Language = "en"
    ) -> Subscription: ...

    def unsubscribe(self, *, subscription_id: int | None = None, channel: str | None = None) -> list[Subscription]: ...

    def subscriptions(self, channel: str | None = None) -> list[Subscription]: ...

    def last_digest(self, channel: str, scope: str = "") -> DigestRecord | None:
        """The last digest posted to `channel` for `scope` (its namespaces, comma-joined; "" for all)."""
        ...

    def publish_digest(
        self, channel: str, reply: Reply, state: dict[str, Any], *, replace_previous: bool, scope: str = ""
    ) -> Delivery:
        """Post (or, with replace_previous, edit the last digest in place), then remember `state`."""
        ...

    def settle_digests(self, channel: str) -> None:
        """Before a new digest of `channel` is computed: a pending one (a crash, an outage) is found in Slack
        and kept as posted, or dropped for the new one; DeliveryError when Slack cannot say which."""
        ...


class MigrationPort(Protocol):
    def migration(self, namespace: str) -> MigrationRecord | None: ...

    def migration_for_thread(self, channel: str, thread_ts: str) -> MigrationRecord | None: ...

    def migrations(self, *, active_only: bool = True) -> list[MigrationRecord]: ...

    def save_migration(self, record: MigrationRecord) -> MigrationRecord: ...

    def post(self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None) -> str:
        """Post a message (in a thread when thread_ts is given); returns its ts.

        `key` identifies the message: a retry after Slack may have taken it finds it instead of posting twice.
        """
        ...


class StatePort(DigestPort, MigrationPort, Protocol):
    """Everything the stateful commands need, plus the clock (injectable so timers are testable)."""

    def now(self) -> datetime: ...

    def audit(
        self,
        *,
        user: str,
        channel: str,
        command: str,
        outcome: str,
        arguments: dict[str, Any] | None = None,
        target_channel: str | None = None,
        request_id: str = "",
        surface: str = "",
    ) -> None:
        """Remember who ran what (with its arguments), where, for which channel, and how it ended."""
        ...

    def audit_rows(self, since: datetime) -> list[AuditRow]:
        """The audit trail since `since`, oldest first (rows past the retention are gone)."""
        ...


class Turn(BaseModel):
    """One answered question of a thread or DM, as later questions there need it."""

    question: str
    language: Language = "en"
    units: list[str] = []
    entries: list[str] = []
    namespace: str | None = None
    """The cluster namespace the question was about, if any."""
    cluster: str | None = None
    kind: str = ""


class ConversationPort(Protocol):
    """Earlier turns of a thread or DM (bounded, expiring), kept where a restart does not lose them."""

    def recall(self, key: str) -> list[Turn]:
        """The turns of conversation `key`, oldest first; [] when none or expired."""
        ...

    def remember(self, key: str, turn: Turn) -> None: ...
