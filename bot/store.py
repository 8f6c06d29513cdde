"""The bot's durable state: digest subscriptions and history, tracked migrations, the outbox, the audit trail.

SQLite file by default, any SQLAlchemy URL otherwise (PostgreSQL for several replicas). The
schema is versioned in `schema_version`: a new database gets the current tables at once, an
older one runs the ordered upgrade steps below, so an upgrade never needs the file deleted.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from handlers.ports import Turn


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class DigestSubscription(Base):
    __tablename__ = "digest_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    schedule: Mapped[str] = mapped_column(String(120))
    namespaces: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Added in schema version 4.
    language: Mapped[str] = mapped_column(String(2), default="en")


class DigestRun(Base):
    """One digest: the intent is written before posting (ts empty), the ts after it."""

    __tablename__ = "digest_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | posted | updated
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The rendered message (text, blocks), so an interrupted post can be re-driven after a restart."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Added in schema version 4: the namespaces covered ("" for all), so "what changed" compares like with like.
    scope: Mapped[str] = mapped_column(Text, default="")


class Migration(Base):
    __tablename__ = "migrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    phase: Mapped[int] = mapped_column(Integer, default=1)
    phase_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checklist: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    started_by: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Added in schema version 3.
    observed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reminded_phase: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Added in schema version 4.
    language: Mapped[str] = mapped_column(String(2), default="en")


class OutboxPost(Base):
    """A message to post (added in schema version 5): written before posting, so a crash neither loses nor repeats it.

    A keyed row stays "posted" until the state it was derived from is saved (then it is deleted), so a re-run
    of the same logical post after a crash finds it here instead of posting again.
    """

    __tablename__ = "outbox_posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | posted
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who ran what, where, when, and how it ended (added in schema version 2)."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Added in schema version 6: the arguments, the channel acted on, the request and its surface.
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target_channel: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str] = mapped_column(String(64), default="")
    surface: Mapped[str] = mapped_column(String(16), default="")


class ConversationTurn(Base):
    """One answered question of a Slack thread or DM, for follow-ups (bot/conversations.py).

    A new table needs no upgrade step: `upgrade` creates any missing table after the steps.
    """

    __tablename__ = "conversation_turns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), index=True)
    """`CHANNEL:THREAD_TS` (a thread) or `CHANNEL:` (a DM)."""
    turn: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SlackEvent(Base):
    """A Slack event already taken (added in schema version 7): Slack's retries of it are answered once.

    In the store, not in memory, so the replica that gets a retry knows what another replica took.
    """

    __tablename__ = "slack_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --- schema upgrades: step N brings a version N-1 database to version N ---


def _v2_audit(conn: Connection) -> None:
    AuditEntry.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]


def _add_column(conn: Connection, table: str, column: str, ddl: str, fill: str) -> None:
    """ALTER TABLE … ADD COLUMN (portable across SQLite and PostgreSQL), once, with a value for old rows."""
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        # Table, column and type come from the constants below, never from input.
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
        conn.execute(text(f"UPDATE {table} SET {column} = {fill}"))  # noqa: S608


def _v3_migration_observation(conn: Connection) -> None:
    _add_column(conn, "migrations", "observed", "JSON", "'{}'")
    _add_column(conn, "migrations", "reminded_phase", "INTEGER", "NULL")


def _v4_language_and_scope(conn: Connection) -> None:
    _add_column(conn, "digest_subscriptions", "language", "VARCHAR(2)", "'en'")
    _add_column(conn, "migrations", "language", "VARCHAR(2)", "'en'")
    _add_column(conn, "digest_runs", "scope", "TEXT", "''")


def _v5_outbox(conn: Connection) -> None:
    OutboxPost.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]


def _v6_audit_details(conn: Connection) -> None:
    _add_column(conn, "audit_entries", "arguments", "JSON", "'{}'")
    _add_column(conn, "audit_entries", "target_channel", "VARCHAR(64)", "NULL")
    _add_column(conn, "audit_entries", "request_id", "VARCHAR(64)", "''")
    _add_column(conn, "audit_entries", "surface", "VARCHAR(16)", "''")


def _v7_slack_events(conn: Connection) -> None:
    SlackEvent.__table__.create(conn, checkfirst=True)  # type: ignore[attr-defined]


UPGRADES: dict[int, Callable[[Connection], None]] = {
    2: _v2_audit,
    3: _v3_migration_observation,
    4: _v4_language_and_scope,
    5: _v5_outbox,
    6: _v6_audit_details,
    7: _v7_slack_events,
}
SCHEMA_VERSION = max(UPGRADES)


def schema_version(conn: Connection) -> int | None:
    """The stored version; 1 for a database from before versioning; None for an empty one."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables:
        row = conn.execute(text("SELECT version FROM schema_version WHERE id = 1")).first()
        if row is not None:
            return int(row[0])
    return 1 if "digest_subscriptions" in tables else None


UPGRADE_LOCK = zlib.crc32(b"meshbot schema upgrade")
"""The PostgreSQL advisory lock key every replica takes around an upgrade (a fixed 32-bit number)."""


def serialise(conn: Connection, key: int = UPGRADE_LOCK) -> None:
    """Hold a transaction-scoped lock shared by every replica on this database (until the transaction ends).

    PostgreSQL: an advisory lock (two replicas starting at once upgrade one after the other, the second
    then finds the current version). SQLite: the file's write lock, taken at once (BEGIN IMMEDIATE) rather
    than at the first write, so two processes do not both read "no tables yet" before either creates them.
    Must be the transaction's first statement.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif conn.dialect.name == "sqlite":
        # pysqlite has not begun a transaction yet (it does so before the first write): begin it ourselves.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine) -> int:
    """Bring the database to SCHEMA_VERSION, keeping its data; returns the version it had (0 if new).

    Serialised across replicas (see `serialise`), and one transaction: PostgreSQL's DDL is transactional,
    so an upgrade interrupted half-way leaves the old version, never a mix.
    """
    with engine.begin() as conn:
        serialise(conn)
        found = schema_version(conn)
        if found is None:
            Base.metadata.create_all(conn)
        else:
            for version in range(found + 1, SCHEMA_VERSION + 1):
                UPGRADES[version](conn)
            Base.metadata.create_all(conn)  # any table a step did not need to touch
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(text("INSERT INTO schema_version (id, version) VALUES (1, :v)"), {"v": SCHEMA_VERSION})
    return found or 0


def _make_sqlite_folder(url: str) -> None:
    """The default store lives in the user's data directory, which may not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        # If it cannot be made, opening the file fails with SQLite's own clear error, answered as a setting error.
        with suppress(OSError):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a CLI process read while the bot writes; busy_timeout waits for the other writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    _make_sqlite_folder(url)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class StoreError(Exception):
    """The store cannot be opened; the message is one line, without the database password."""


def safe_url(url: str) -> str:
    """The database URL without its password, for every message that names it."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unparseable database URL)"


def mask(text: str, url: str) -> str:
    """`text` (e.g. a driver's error) with the URL's password, and the URL itself, masked; first line only."""
    line = (text.strip().splitlines() or [""])[0]
    try:
        password = make_url(url).password
    except ArgumentError:
        password = None
    line = line.replace(url, safe_url(url))
    if password:
        line = line.replace(str(password), "***")
    return line


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _check_sqlite(engine: Engine) -> None:
    """An empty or damaged SQLite file is reported at once (SQLite would start an empty zero-length file as new,
    and a damaged page fails only when a job reads it, again and again)."""
    path = _sqlite_file(engine)
    if path is None or not path.exists():
        return
    # A file that another replica has just created is empty only until its first statement writes the
    # header (milliseconds): only a file that stays empty is one that lost its content.
    deadline = time.monotonic() + 1.0
    while path.is_file() and path.stat().st_size == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if path.is_file() and path.stat().st_size == 0:
        raise StoreError(
            f"the SQLite store {path} is an empty file (0 bytes), not a meshbot database: "
            "restore it from a backup, or delete it to start with an empty store"
        )
    with engine.connect() as conn:
        problems = [str(row[0]) for row in conn.execute(text("PRAGMA quick_check"))]
    if problems != ["ok"]:
        found = [line.strip() for p in problems for line in p.splitlines() if line.strip() and "***" not in line]
        detail = (found[0][:160] if found else "integrity check failed") + (
            f"; {len(found) - 1} more problem(s)" if len(found) > 1 else ""
        )
        raise StoreError(
            f"the SQLite store {path} is damaged ({detail}): restore it from a backup, "
            "or recover it with `sqlite3 FILE .recover`"
        )


class Store:
    """Open (and upgrade) the database at `url`; StoreError (one line, password masked) when it cannot."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = make_engine(url)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store {safe_url(url)}: {mask(str(exc), url)}") from None
        try:
            _check_sqlite(self.engine)
            self.upgraded_from = upgrade(self.engine)
        except StoreError:
            self.engine.dispose()
            raise
        except (SQLAlchemyError, OSError) as exc:
            self.engine.dispose()
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"cannot open the store {safe_url(url)}: {mask(str(cause), url)}") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def serialised(self, key: int = UPGRADE_LOCK) -> Iterator[Connection]:
        """A transaction that holds the replicas' shared lock (see `serialise`): for one-time setup steps."""
        with self.engine.begin() as conn:
            serialise(conn, key)
            yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

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
        with self.session() as s:
            s.add(
                AuditEntry(
                    user=user[:64],
                    channel=channel[:64],
                    command=command[:2000],
                    outcome=outcome[:32],
                    arguments=arguments or {},
                    target_channel=target_channel[:64] if target_channel else None,
                    request_id=request_id[:64],
                    surface=surface[:16],
                )
            )

    def audit_entries(self, since: datetime) -> list[AuditEntry]:
        with self.session() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.at >= since).order_by(AuditEntry.at, AuditEntry.id))
            return list(rows)

    def purge_audit(self, before: datetime) -> int:
        """Forget audit rows older than `before` (the retention); returns how many went."""
        with self.session() as s:
            result: Any = s.execute(delete(AuditEntry).where(AuditEntry.at < before))
            return int(result.rowcount or 0)

    def claim_event(self, event_id: str, *, keep: timedelta = timedelta(hours=1)) -> bool:
        """True the first time any replica claims `event_id`, False for Slack's retries of it.

        The primary key decides between replicas at once; claims older than `keep` (Slack retries for
        minutes, not hours) are pruned on the way.
        """
        try:
            with self.session() as s:
                s.add(SlackEvent(event_id=event_id[:128], seen_at=utcnow()))
        except IntegrityError:
            return False
        with self.session() as s:
            s.execute(delete(SlackEvent).where(SlackEvent.seen_at < utcnow() - keep))
        return True

    def reachable(self) -> bool:
        """The database answers a trivial query (for /readyz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


OPEN_ERRORS: tuple[type[Exception], ...] = (StoreError, SQLAlchemyError, ValueError)
"""What opening a store may raise for a bad URL or an unreachable/unreadable database (StoreError: all of it,
as one line with the password masked)."""


MAX_TURNS = 10
"""Turns kept per conversation (thread or DM); older ones are deleted as new ones come."""


class StoreConversations:
    """handlers.ports.ConversationPort: the earlier turns of threads and DMs, bounded and expiring
    (turns older than the TTL are neither read nor kept: deleted on the next write)."""

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
