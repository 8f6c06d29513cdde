"""The store, schema upgrades, event claims, digests and the scheduler's job store on a real PostgreSQL server
(tests/pg_server.py starts one) and on SQLite: every test here runs on both (`database_url`).

Replicas are what PostgreSQL is for, so several stores (and processes) share one database here: upgrades
take turns under an advisory lock, a Slack event is claimed once, jobs scheduled by one are seen by another.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from bot.config import Settings
from bot.poster import PostError, SlackPoster
from bot.runtime import Runtime
from bot.scheduler import MeshScheduler
from bot.state import BotState
from bot.store import (
    SCHEMA_VERSION,
    UPGRADE_LOCK,
    AuditEntry,
    Base,
    DigestRun,
    OutboxPost,
    Store,
    StoreError,
    make_engine,
)
from handlers.ports import MigrationRecord
from handlers.reply import Reply
from tests.slack_double import SlackDouble

ROOT = Path(__file__).resolve().parents[1]


def render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    return reply.title, [{"type": "section", "text": {"type": "mrkdwn", "text": reply.title}}]


def test_a_new_database_gets_the_current_schema_and_keeps_state_across_reopening(database_url: str) -> None:
    store = Store(database_url)
    assert store.upgraded_from == 0
    state = BotState(store, None, render)
    state.subscribe("COPS", "@daily", ["payments"], "UALICE", "ko")
    state.save_migration(
        MigrationRecord(namespace="orders", channel="CMIG", thread_ts="1.2", phase_started_at=datetime.now(UTC))
    )
    store.audit(user="UALICE", channel="COPS", command="digest subscribe @daily payments", outcome="ok")
    store.close()

    reopened = Store(database_url)
    assert reopened.upgraded_from == SCHEMA_VERSION
    tables = set(inspect(reopened.engine).get_table_names())
    assert {"digest_subscriptions", "digest_runs", "migrations", "audit_entries", "outbox_posts", "slack_events"} <= (
        tables
    )
    again = BotState(reopened, None, render)
    [sub] = again.subscriptions()
    assert (sub.channel, sub.namespaces, sub.language) == ("COPS", ["payments"], "ko")
    migration = again.migration_for_thread("CMIG", "1.2")
    assert migration is not None and migration.namespace == "orders"
    with reopened.session() as s:
        assert [a.command for a in s.query(AuditEntry)] == ["digest subscribe @daily payments"]


def test_a_version_4_database_is_upgraded_keeping_its_data(database_url: str) -> None:
    engine = make_engine(database_url)
    v4 = [t for name, t in Base.metadata.tables.items() if name not in ("outbox_posts", "slack_events")]
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=v4)
        conn.execute(text("INSERT INTO schema_version (id, version) VALUES (1, 4)"))
        conn.execute(
            text(
                "INSERT INTO digest_subscriptions (id, channel, schedule, namespaces, created_by, created_at, language)"
                " VALUES (7, 'COPS', 'every 1h', '[\"payments\"]', 'UALICE', :at, 'en')"
            ),
            {"at": datetime(2026, 1, 2, tzinfo=UTC)},
        )
    engine.dispose()
    store = Store(database_url)
    assert store.upgraded_from == 4
    [sub] = BotState(store, None, render).subscriptions()
    assert (sub.id, sub.namespaces) == (7, ["payments"])
    with store.session() as s:
        s.add(OutboxPost(channel="C", key="k", payload={}))
    assert store.claim_event("Ev1")  # the version 7 table
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).all() == [(SCHEMA_VERSION,)]


def test_replicas_starting_together_upgrade_the_schema_once(database_url: str) -> None:
    # Four processes open a new database at the same instant: on PostgreSQL the advisory lock makes them
    # take turns (without it, concurrent CREATE TABLEs collide); the first creates, the others find it done.
    script = "import sys; from bot.store import Store; print(Store(sys.argv[1]).upgraded_from)"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err.decode()[-600:] for _, err in results]
    found = sorted(int(out) for out, _ in results)
    assert found == [0, SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]
    with Store(database_url).engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).all() == [(SCHEMA_VERSION,)]


def test_an_upgrade_waits_for_the_advisory_lock(postgres: Any) -> None:
    import psycopg

    url = postgres.fresh_database()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    done = threading.Event()
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))  # another replica is upgrading
        threading.Thread(target=lambda: (Store(url), done.set()), daemon=True).start()
        assert not done.wait(1.5)  # waits its turn
        holder.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
        assert done.wait(15)


def test_a_slack_event_is_claimed_once_across_replicas(database_url: str) -> None:
    replicas = [Store(database_url), Store(database_url)]
    results: list[bool] = []
    lock = threading.Lock()

    def claim(store: Store) -> None:
        first = store.claim_event("Ev0001")
        with lock:
            results.append(first)

    threads = [threading.Thread(target=claim, args=(replicas[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 7 + [True]
    assert replicas[1].claim_event("Ev0002") and not replicas[0].claim_event("Ev0002")


def test_a_digest_slack_took_before_a_crash_is_settled_not_posted_again(database_url: str, slack: SlackDouble) -> None:
    poster = SlackPoster.connect(slack.bot_token, slack.api_url, retries=0, backoff=0.01)
    state = BotState(Store(database_url), poster, render)
    slack.fail("chat.postMessage", 500, taken=True)  # Slack has it; the answer (and so the saved ts) is lost
    with pytest.raises(PostError):
        state.publish_digest("CDIG", Reply(title="digest 1"), {"n": 1}, replace_previous=False)
    restarted = BotState(Store(database_url), poster, render)
    restarted.settle_digests("CDIG")
    last = restarted.last_digest("CDIG")
    [posted] = slack.of("chat.postMessage")
    assert last is not None and last.ts == posted.result["ts"]
    delivery = restarted.publish_digest("CDIG", Reply(title="digest 2"), {"n": 2}, replace_previous=True)
    assert delivery.action == "updated" and len(slack.of("chat.postMessage")) == 1
    with restarted.store.session() as s:
        assert [r.status for r in s.query(DigestRun).order_by(DigestRun.id)] == ["posted", "updated"]


def test_the_job_store_keeps_a_schedule_for_the_next_replica(database_url: str, slack: SlackDouble) -> None:
    settings = Settings(slack_bot_token=slack.bot_token, slack_api_url=slack.api_url, database_url=database_url)

    def runtime() -> Runtime:
        poster = SlackPoster.connect(slack.bot_token, slack.api_url, retries=0)
        return Runtime(settings, BotState(Store(database_url), poster, render), None)

    first = runtime()
    sub = first.state.subscribe("CJOB", "every 1h", [], "UALICE")
    leader = MeshScheduler(first).start(paused=False)
    try:
        job = leader.scheduler.get_job(f"digest:{sub.id}")
        assert job is not None
        planned = job.next_run_time
    finally:
        leader.shutdown()
    follower = MeshScheduler(runtime()).start(paused=True)  # the next replica, not (yet) leading
    try:
        job = follower.scheduler.get_job(f"digest:{sub.id}")
        assert job is not None and job.next_run_time == planned
        assert {j.id for j in follower.scheduler.get_jobs()} == {f"digest:{sub.id}", "reconcile"}
    finally:
        follower.shutdown()


def test_a_store_that_cannot_open_names_it_without_the_password(postgres: Any) -> None:
    url = postgres.url("no_such_database").replace("meshbot@", "meshbot:Sup3r-s3cret@")
    started = time.monotonic()
    with pytest.raises(StoreError) as failure:
        Store(url)
    message = str(failure.value)
    assert "Sup3r-s3cret" not in message and "***" in message and "no_such_database" in message
    assert "\n" not in message and time.monotonic() - started < 30
