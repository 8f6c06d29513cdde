"""The bot's implementation of handlers.ports.StatePort: the store for state, the poster for Slack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot import metrics
from bot.poster import PostError, SlackPoster
from bot.store import DigestRun, DigestSubscription, Migration, OutboxPost, Store
from handlers.ports import AuditRow, Delivery, DeliveryError, DigestRecord, MigrationRecord, Subscription
from handlers.reply import Reply
from knowledge import Language

LOG = logging.getLogger(__name__)

KEEP_RUNS = 100
PURGE_EVERY = timedelta(hours=1)
"""How often a replica forgets audit rows past the retention (on its next audit write)."""

Render = Callable[[Reply], tuple[str, list[dict[str, Any]]]]
"""A Reply as Slack's fallback text and Block Kit blocks."""


class SlackNotConfiguredError(DeliveryError):
    """Posting was asked for but SLACK_BOT_TOKEN is not set."""


def _subscription(row: DigestSubscription) -> Subscription:
    return Subscription(
        id=row.id,
        channel=row.channel,
        schedule=row.schedule,
        namespaces=list(row.namespaces or []),
        created_by=row.created_by,
        created_at=row.created_at,
        language="ko" if row.language == "ko" else "en",
    )


def _migration(row: Migration) -> MigrationRecord:
    return MigrationRecord(
        namespace=row.namespace,
        channel=row.channel,
        thread_ts=row.thread_ts,
        phase=row.phase,
        phase_started_at=row.phase_started_at,
        checklist=dict(row.checklist or {}),
        observed=dict(row.observed or {}),
        reminded_phase=row.reminded_phase,
        status=row.status,
        started_by=row.started_by,
        language="ko" if row.language == "ko" else "en",
    )


class BotState:
    """StatePort backed by SQLAlchemy, posting through Slack; `on_change` nudges the scheduler."""

    def __init__(
        self,
        store: Store,
        poster: SlackPoster | None,
        render: Render,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_change: Callable[[], None] = lambda: None,
        audit_retention: timedelta = timedelta(days=90),
    ) -> None:
        self.audit_retention = audit_retention
        self._purged_at: datetime | None = None
        self.store = store
        self.poster = poster
        self.render = render
        self.clock = clock
        self.on_change = on_change

    def now(self) -> datetime:
        return self.clock()

    def _poster(self) -> SlackPoster:
        if self.poster is None:
            raise SlackNotConfiguredError(
                "posting to Slack needs SLACK_BOT_TOKEN (and MESHBOT_SLACK_API_URL off Slack)", key="delivery.no_token"
            )
        return self.poster

    # --- digests ---

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
        self.store.audit(
            user=user,
            channel=channel,
            command=command,
            outcome=outcome,
            arguments=arguments,
            target_channel=target_channel,
            request_id=request_id,
            surface=surface,
        )
        now = self.now()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            self.store.purge_audit(now - self.audit_retention)

    def audit_rows(self, since: datetime) -> list[AuditRow]:
        self.store.purge_audit(self.now() - self.audit_retention)
        return [
            AuditRow(
                at=row.at,
                user=row.user,
                channel=row.channel,
                command=row.command,
                arguments=dict(row.arguments or {}),
                target_channel=row.target_channel,
                outcome=row.outcome,
                request_id=row.request_id or "",
                surface=row.surface or "",
            )
            for row in self.store.audit_entries(since)
        ]

    def subscribe(
        self, channel: str, schedule: str, namespaces: list[str], user: str, language: Language = "en"
    ) -> Subscription:
        with self.store.session() as s:
            row = DigestSubscription(
                channel=channel,
                schedule=schedule,
                namespaces=namespaces,
                created_by=user,
                created_at=self.now(),
                language=language,
            )
            s.add(row)
            s.flush()
            sub = _subscription(row)
        self.on_change()
        return sub

    def unsubscribe(self, *, subscription_id: int | None = None, channel: str | None = None) -> list[Subscription]:
        with self.store.session() as s:
            query = select(DigestSubscription)
            if subscription_id is not None:
                query = query.where(DigestSubscription.id == subscription_id)
            if channel is not None:
                query = query.where(DigestSubscription.channel == channel)
            rows = list(s.scalars(query))
            gone = [_subscription(r) for r in rows]
            for r in rows:
                s.delete(r)
        if gone:
            self.on_change()
        return gone

    def subscriptions(self, channel: str | None = None) -> list[Subscription]:
        with self.store.session() as s:
            query = select(DigestSubscription).order_by(DigestSubscription.id)
            if channel is not None:
                query = query.where(DigestSubscription.channel == channel)
            return [_subscription(r) for r in s.scalars(query)]

    def subscription(self, subscription_id: int) -> Subscription | None:
        with self.store.session() as s:
            row = s.get(DigestSubscription, subscription_id)
            return _subscription(row) if row else None

    def last_digest(self, channel: str, scope: str = "") -> DigestRecord | None:
        with self.store.session() as s:
            row = s.scalars(
                select(DigestRun)
                .where(
                    DigestRun.channel == channel,
                    DigestRun.scope == scope,
                    DigestRun.status.in_(("posted", "updated")),
                )
                .order_by(DigestRun.id.desc())
                .limit(1)
            ).first()
            if row is None or row.posted_at is None:
                return None
            return DigestRecord(channel=row.channel, ts=row.ts, state=dict(row.state), posted_at=row.posted_at)

    def publish_digest(
        self, channel: str, reply: Reply, state: dict[str, Any], *, replace_previous: bool, scope: str = ""
    ) -> Delivery:
        poster = self._poster()
        self.settle_digests(channel)  # (deliver_digest did it before computing; a direct caller gets it here)
        text, blocks = self.render(reply)
        previous = self.last_digest(channel, scope) if replace_previous else None
        if previous is not None and previous.ts:
            try:
                ts = poster.update(channel, previous.ts, text, blocks)
            except PostError as exc:
                # The old message may be gone (deleted by someone): post afresh rather than lose the digest.
                LOG.warning("could not update the digest %s in %s (%s): posting a new one", previous.ts, channel, exc)
            else:
                with self.store.session() as s:
                    s.add(
                        DigestRun(
                            channel=channel,
                            ts=ts,
                            state=state,
                            status="updated",
                            scope=scope,
                            # The message's content dates from the last change: "no changes since" that time.
                            posted_at=previous.posted_at,
                            created_at=self.now(),
                            payload={"text": text, "blocks": blocks},
                        )
                    )
                self._prune(channel, scope)
                metrics.digest_posted()
                return Delivery(channel=channel, ts=ts, action="updated")
        # Intent first: a crash after this line is re-driven by resume_pending, never lost.
        with self.store.session() as s:
            run = DigestRun(
                channel=channel,
                state=state,
                status="pending",
                scope=scope,
                created_at=self.now(),
                payload={"text": text, "blocks": blocks},
            )
            s.add(run)
            s.flush()
            run_id, created = run.id, run.created_at
        ts = poster.post(channel, text, blocks, key=f"digest-run:{run_id}", since=created)
        self._mark_posted(run_id, ts)
        self._prune(channel, scope)
        return Delivery(channel=channel, ts=ts, action="posted")

    def settle_digests(self, channel: str) -> None:
        """A digest left pending (a crash after Slack took it, or an outage longer than the retries) is looked
        up: found, it is the last digest (posted); not found, it never reached anyone and the digest about to be
        computed replaces it ("superseded"), so a tick after an outage posts one digest, not the stale one too.
        When Slack cannot be asked, PostError: this tick posts nothing rather than risk a second copy."""
        poster = self._poster()
        with self.store.session() as s:
            query = select(DigestRun).where(DigestRun.status == "pending", DigestRun.channel == channel)
            pending = [(r.id, r.created_at) for r in s.scalars(query.order_by(DigestRun.id))]
        for run_id, created in pending:
            ts = poster.lookup(channel, f"digest-run:{run_id}", since=created)
            if ts is not None:
                LOG.info("digest %s in %s had reached Slack before the crash: kept as posted", run_id, channel)
                self._mark_posted(run_id, ts)
                continue
            LOG.warning("digest %s in %s never reached Slack: superseded by this one", run_id, channel)
            with self.store.session() as s:
                run = s.get(DigestRun, run_id)
                if run is not None and run.status == "pending":
                    run.status = "superseded"

    def _prune(self, channel: str, scope: str) -> None:
        """Keep the newest KEEP_RUNS digests of a channel and scope: history for "what changed", bounded."""
        with self.store.session() as s:
            keep = (
                select(DigestRun.id)
                .where(DigestRun.channel == channel, DigestRun.scope == scope)
                .order_by(DigestRun.id.desc())
                .limit(KEEP_RUNS)
            )
            s.execute(
                delete(DigestRun).where(
                    DigestRun.channel == channel,
                    DigestRun.scope == scope,
                    DigestRun.status != "pending",
                    DigestRun.id.not_in(keep.scalar_subquery()),
                )
            )

    def resume_pending(self, channel: str | None = None) -> int:
        """Finish digests and outbox posts a crash interrupted: find them in Slack, or post them now; how many."""
        poster = self._poster()
        with self.store.session() as s:
            query = select(DigestRun).where(DigestRun.status == "pending").order_by(DigestRun.id)
            if channel is not None:
                query = query.where(DigestRun.channel == channel)
            pending = [(r.id, r.channel, r.created_at, dict(r.payload or {})) for r in s.scalars(query)]
        for run_id, run_channel, created, payload in pending:
            key = f"digest-run:{run_id}"
            ts = poster.find(run_channel, key, since=created) or poster.post(
                run_channel, str(payload.get("text") or ""), list(payload.get("blocks") or []), key=key, since=created
            )
            self._mark_posted(run_id, ts)
        return len(pending) + self._resume_outbox(channel)

    def _mark_posted(self, run_id: int, ts: str) -> None:
        with self.store.session() as s:
            run = s.get(DigestRun, run_id)
            if run is not None:
                run.ts, run.status, run.posted_at = ts, "posted", self.now()
        metrics.digest_posted()

    # --- migrations ---

    def migration(self, namespace: str) -> MigrationRecord | None:
        with self.store.session() as s:
            row = s.scalars(
                select(Migration).where(Migration.namespace == namespace).order_by(Migration.id.desc()).limit(1)
            ).first()
            return _migration(row) if row else None

    def migration_for_thread(self, channel: str, thread_ts: str) -> MigrationRecord | None:
        with self.store.session() as s:
            row = s.scalars(
                select(Migration).where(Migration.channel == channel, Migration.thread_ts == thread_ts).limit(1)
            ).first()
            return _migration(row) if row else None

    def migrations(self, *, active_only: bool = True) -> list[MigrationRecord]:
        with self.store.session() as s:
            query = select(Migration).order_by(Migration.namespace)
            if active_only:
                query = query.where(Migration.status == "active")
            return [_migration(r) for r in s.scalars(query)]

    def save_migration(self, record: MigrationRecord) -> MigrationRecord:
        """Insert or update the namespace's migration (the newest row of that namespace)."""
        with self.store.session() as s:
            row = s.scalars(
                select(Migration).where(Migration.namespace == record.namespace).order_by(Migration.id.desc()).limit(1)
            ).first()
            if row is None or (
                row.status != "active" and record.status == "active" and row.thread_ts != record.thread_ts
            ):
                row = Migration(namespace=record.namespace, started_at=self.now())
                s.add(row)
            moved_on = (row.thread_ts, row.observed, row.reminded_phase) != (
                record.thread_ts,
                dict(record.observed),
                record.reminded_phase,
            )
            row.channel, row.thread_ts, row.phase = record.channel, record.thread_ts, record.phase
            row.phase_started_at, row.checklist = record.phase_started_at, dict(record.checklist)
            row.observed, row.reminded_phase = dict(record.observed), record.reminded_phase
            row.status, row.started_by, row.language = record.status, record.started_by, record.language
            if moved_on and record.thread_ts:
                # The posts derived from the old state are now part of it: their keys may be used afresh.
                s.execute(
                    delete(OutboxPost).where(
                        OutboxPost.channel == record.channel,
                        OutboxPost.status == "posted",
                        (OutboxPost.thread_ts == record.thread_ts) | (OutboxPost.ts == record.thread_ts),
                    )
                )
        self.on_change()
        return record

    # --- the outbox: other posts, intent first ---

    def post(self, channel: str, reply: Reply, *, thread_ts: str | None = None, key: str | None = None) -> str:
        """Post once per `key` until the state it came from is saved: a re-run after a crash finds the first one."""
        self._poster()  # no intent is recorded that could never be delivered
        text, blocks = self.render(reply)
        with self.store.session() as s:
            row = None
            if key is not None:
                row = s.scalars(
                    select(OutboxPost)
                    .where(OutboxPost.channel == channel, OutboxPost.thread_ts == thread_ts, OutboxPost.key == key)
                    .order_by(OutboxPost.id.desc())
                    .limit(1)
                ).first()
            if row is not None and row.status == "posted" and row.ts:
                return row.ts
            interrupted = row is not None
            if row is None:
                row = OutboxPost(
                    channel=channel,
                    thread_ts=thread_ts,
                    key=key or "",
                    payload={"text": text, "blocks": blocks},
                    status="pending",
                    created_at=self.now(),
                )
                s.add(row)
                s.flush()
                row.key = key or f"outbox:{row.id}"
            post_id = row.id
        return self._deliver(post_id, look_first=interrupted)

    def _deliver(self, post_id: int, *, look_first: bool) -> str:
        """Post an outbox row (after looking for it in Slack if an earlier attempt may have got through)."""
        poster = self._poster()
        with self.store.session() as s:
            row = s.get(OutboxPost, post_id)
            assert row is not None
            channel, thread_ts, key, created = row.channel, row.thread_ts, row.key, row.created_at
            text, blocks = str(row.payload.get("text") or ""), list(row.payload.get("blocks") or [])
        found = poster.find(channel, key, since=created, thread_ts=thread_ts) if look_first else None
        ts = found or poster.post(channel, text, blocks, thread_ts=thread_ts, key=key, since=created)
        with self.store.session() as s:
            row = s.get(OutboxPost, post_id)
            if row is not None and row.key.startswith("outbox:"):
                s.delete(row)  # no caller key: nothing to recognise it by later
            elif row is not None:
                row.status, row.ts = "posted", ts
        return ts

    def finish_posts(self, channel: str) -> int:
        """Deliver the outbox posts of `channel` left pending (found in Slack first, else posted); how many."""
        return self._resume_outbox(channel)

    def _resume_outbox(self, channel: str | None) -> int:
        with self.store.session() as s:
            query = select(OutboxPost.id).where(OutboxPost.status == "pending").order_by(OutboxPost.id)
            if channel is not None:
                query = query.where(OutboxPost.channel == channel)
            pending = list(s.scalars(query))
        for post_id in pending:
            self._deliver(post_id, look_first=True)
        return len(pending)
