"""The store: schema upgrades keep data, state survives reopening, posts are neither lost nor duplicated."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slack_double import SlackDouble

from bot.poster import PostError, SlackPoster
from bot.state import BotState
from bot.store import SCHEMA_VERSION, AuditEntry, DigestRun, OutboxPost, Store
from handlers.ports import MigrationRecord
from handlers.reply import Reply, Section


def render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    return reply.title, [{"type": "section", "text": {"type": "mrkdwn", "text": reply.title}}]


class HistoryDouble(SlackDouble):
    """The Slack double plus conversations.history, and a fault where Slack takes the message yet answers 500."""

    def __init__(self) -> None:
        super().__init__()
        self.take_then_fail: list[str] = []

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        status, head, body = super()._handle(path, headers, raw)
        method = path.split("?")[0].removeprefix("/api/")
        if method in self.take_then_fail and status == 200 and isinstance(body, dict) and body.get("ok"):
            self.take_then_fail.remove(method)
            return 500, {"Content-Type": "application/json"}, {"ok": False, "error": "internal_error"}
        return status, head, body

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method in ("conversations.history", "conversations.replies"):
            posted = [
                c
                for c in self.of("chat.postMessage")
                if c.body.get("channel") == body.get("channel")
                and (method == "conversations.history" or c.body.get("thread_ts") == body.get("ts"))
            ]
            messages = [
                {"ts": c.result["ts"], "text": c.body.get("text"), "metadata": c.body.get("metadata")} for c in posted
            ]
            return {"ok": True, "messages": list(reversed(messages))}
        return super()._answer(method, body)


@pytest.fixture
def slack() -> Any:
    double = HistoryDouble().start()
    yield double
    double.stop()


def poster_for(slack: SlackDouble) -> SlackPoster:
    poster = SlackPoster.connect(slack.bot_token, slack.api_url, retries=3, backoff=0.01)
    return poster


V1_SCHEMA = """
CREATE TABLE digest_subscriptions (id INTEGER PRIMARY KEY, channel VARCHAR(64), schedule VARCHAR(120),
  namespaces JSON, created_by VARCHAR(64), created_at DATETIME);
CREATE TABLE digest_runs (id INTEGER PRIMARY KEY, channel VARCHAR(64), ts VARCHAR(32), state JSON,
  status VARCHAR(16), payload JSON, created_at DATETIME, posted_at DATETIME);
CREATE TABLE migrations (id INTEGER PRIMARY KEY, namespace VARCHAR(63), channel VARCHAR(64), thread_ts VARCHAR(32),
  phase INTEGER, phase_started_at DATETIME, checklist JSON, status VARCHAR(16), started_by VARCHAR(64),
  started_at DATETIME);
INSERT INTO digest_subscriptions VALUES (7, 'COPS', 'every 1h', '["payments"]', 'UALICE', '2026-01-02 03:04:05');
INSERT INTO migrations VALUES (1, 'payments', 'CMIG', '1700000000.000100', 2, '2026-01-01 00:00:00',
  '{"istio-version": true}', 'active', 'UBOB', '2026-01-01 00:00:00');
"""


def test_new_database_gets_the_current_schema(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'new.sqlite'}")
    assert store.upgraded_from == 0
    with sqlite3.connect(tmp_path / "new.sqlite") as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"digest_subscriptions", "digest_runs", "migrations", "audit_entries", "outbox_posts"} <= tables


def test_upgrade_from_a_version_1_file_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)  # a file written by the first release: no schema_version, no audit, fewer columns
    store = Store(f"sqlite:///{path}")
    assert store.upgraded_from == 1
    state = BotState(store, None, render)
    [sub] = state.subscriptions()
    assert (sub.id, sub.channel, sub.schedule, sub.namespaces) == (7, "COPS", "every 1h", ["payments"])
    assert sub.language == "en"  # column added by the version 4 step, filled for old rows
    record = state.migration("payments")
    assert record is not None and record.phase == 2 and record.checklist == {"istio-version": True}
    assert record.reminded_phase is None and record.observed == {}
    # The columns and table added by the upgrade work.
    state.save_migration(record.model_copy(update={"reminded_phase": 2, "observed": {"mode": "ambient"}}))
    store.audit(user="UALICE", channel="COPS", command="digest list", outcome="ok")
    reopened = Store(f"sqlite:///{path}")
    assert reopened.upgraded_from == SCHEMA_VERSION  # nothing left to do the second time
    again = BotState(reopened, None, render).migration("payments")
    assert again is not None and again.reminded_phase == 2 and again.observed == {"mode": "ambient"}
    with reopened.session() as s:
        assert [a.command for a in s.query(AuditEntry)] == ["digest list"]


def test_subscriptions_and_migrations_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    state = BotState(Store(url), None, render)
    first = state.subscribe("COPS", "@daily", [], "UALICE")
    state.subscribe("CDEV", "every 6h", ["orders"], "UBOB")
    state.save_migration(
        MigrationRecord(namespace="orders", channel="CDEV", thread_ts="1.2", phase_started_at=datetime.now(UTC))
    )
    later = BotState(Store(url), None, render)
    assert [(s.channel, s.schedule) for s in later.subscriptions()] == [("COPS", "@daily"), ("CDEV", "every 6h")]
    assert later.migration_for_thread("CDEV", "1.2") is not None
    assert [s.id for s in later.unsubscribe(subscription_id=first.id)] == [first.id]
    assert [s.channel for s in BotState(Store(url), None, render).subscriptions()] == ["CDEV"]


def test_a_rate_limited_post_is_retried_after_retry_after_and_posted_once(slack: HistoryDouble) -> None:
    slack.rate_limit_once("chat.postMessage", retry_after=1)
    waits: list[float] = []
    poster = poster_for(slack)
    poster.sleep = waits.append
    ts = poster.post("COPS", "hello", [], key="k1")
    assert len(slack.attempts("chat.postMessage")) == 2 and len(slack.of("chat.postMessage")) == 1
    assert waits == [1.0] and ts == slack.of("chat.postMessage")[0].result["ts"]


def test_a_post_slack_took_before_failing_is_found_not_posted_again(slack: HistoryDouble) -> None:
    slack.take_then_fail.append("chat.postMessage")
    poster = poster_for(slack)
    poster.sleep = lambda _s: None
    ts = poster.post("COPS", "digest", [], key="digest-run:1")
    assert len(slack.of("chat.postMessage")) == 1  # the retry looked it up in the history instead of posting again
    assert ts == slack.of("chat.postMessage")[0].result["ts"]
    assert slack.of("conversations.history")


def test_a_post_that_keeps_failing_says_so(slack: HistoryDouble) -> None:
    for _ in range(4):
        slack.rate_limit_once("chat.postMessage", retry_after=0)
    poster = poster_for(slack)
    poster.sleep = lambda _s: None
    with pytest.raises(PostError, match="after 3 retries"):
        poster.post("COPS", "x", [])
    slack.error_once("chat.postMessage", "channel_not_found")
    with pytest.raises(PostError, match="channel_not_found"):
        poster.post("COPS", "x", [])


def test_an_intent_left_by_a_crash_is_posted_once_on_restart(tmp_path: Path, slack: HistoryDouble) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store(url)
    now = datetime.now(UTC)
    payload = {"text": "digest", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "digest"}}]}
    with store.session() as s:
        # Crash 1: the intent was written, the post never happened.
        s.add(DigestRun(channel="CA", state={}, status="pending", payload=payload, created_at=now))
        # Crash 2: the post happened (below), the ts was never written back.
        s.add(DigestRun(channel="CB", state={}, status="pending", payload=payload, created_at=now))
    poster = poster_for(slack)
    taken = poster.post("CB", "digest", [], key="digest-run:2")
    state = BotState(Store(url), poster, render)  # the new process
    assert state.resume_pending() == 2
    posts = slack.of("chat.postMessage")
    assert sorted(c.body["channel"] for c in posts) == ["CA", "CB"]  # CA posted now; CB not posted twice
    with state.store.session() as s:
        runs = {r.channel: r for r in s.query(DigestRun)}
    assert runs["CB"].ts == taken and runs["CA"].status == runs["CB"].status == "posted"
    assert state.resume_pending() == 0


def test_a_thread_post_slack_took_before_failing_is_found_in_the_thread(tmp_path: Path, slack: HistoryDouble) -> None:
    state = BotState(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), poster_for(slack), render)
    assert state.poster is not None
    state.poster.sleep = lambda _s: None  # no real waiting between retries
    root = state.post("CMIG", Reply(title="root", sections=[Section(text="x")]))
    slack.take_then_fail.append("chat.postMessage")
    progress = Reply(title="progress", sections=[Section(text="labels swapped")])
    ts = state.post("CMIG", progress, thread_ts=root, key="migration:payments:1")
    in_thread = [c for c in slack.of("chat.postMessage") if c.body.get("thread_ts") == root]
    assert len(in_thread) == 1 and ts == in_thread[0].result["ts"]
    assert slack.of("conversations.replies")


def test_digest_history_is_bounded_per_channel(
    tmp_path: Path, slack: HistoryDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.state

    monkeypatch.setattr(bot.state, "KEEP_RUNS", 2)
    state = BotState(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), poster_for(slack), render)
    for n in range(4):
        state.publish_digest("CA", Reply(title=f"digest {n}"), {"n": n}, replace_previous=False)
    state.publish_digest("CB", Reply(title="other"), {"n": 9}, replace_previous=False)
    with state.store.session() as s:
        kept = sorted((r.channel, r.state["n"]) for r in s.query(DigestRun))
    assert kept == [("CA", 2), ("CA", 3), ("CB", 9)]
    last = state.last_digest("CA")
    assert last is not None and last.state == {"n": 3}


def test_every_delivered_digest_is_counted_on_metrics(tmp_path: Path, slack: HistoryDouble) -> None:
    from bot import metrics

    def posted() -> float:
        return metrics.REGISTRY.get_sample_value("meshbot_digests_posted_total") or 0.0

    state = BotState(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), poster_for(slack), render)
    before = posted()
    state.publish_digest("CA", Reply(title="first"), {"n": 1}, replace_previous=True)
    state.publish_digest("CA", Reply(title="no change"), {"n": 1}, replace_previous=True)  # edited in place
    assert posted() == before + 2


class CrashingState(BotState):
    """A process that dies right after its next post, before the state derived from it is saved."""

    crash_on_save = True

    def save_migration(self, record: MigrationRecord) -> MigrationRecord:
        if self.crash_on_save:
            raise RuntimeError("the process died here")
        return super().save_migration(record)


def _migration_context(state: BotState, dump: Path) -> Any:
    from functools import partial

    import handlers
    from cluster.dump import read_dump
    from knowledge import default as default_knowledge

    return handlers.Context(
        kb=default_knowledge(), read_cluster=partial(read_dump, dump), state=state, channel="CMIG", user="UALICE"
    )


def test_a_migration_post_before_a_crash_is_not_posted_again_by_the_rerun(tmp_path: Path, slack: HistoryDouble) -> None:
    from mesh_cluster import write_cluster

    import handlers
    from handlers.migrate import check

    url, dump = f"sqlite:///{tmp_path / 'db.sqlite'}", write_cluster(tmp_path / "cluster.yaml")
    crashing = CrashingState(Store(url), poster_for(slack), render)
    with pytest.raises(RuntimeError):  # the root is in Slack, the migration never saved
        handlers.run_text("migrate", ["start", "payments"], _migration_context(crashing, dump))
    state = BotState(Store(url), poster_for(slack), render)  # the next process; the user says it again
    assert not handlers.run_text("migrate", ["start", "payments"], _migration_context(state, dump)).error
    [root] = slack.of("chat.postMessage")
    record = state.migration("payments")
    assert record is not None and record.thread_ts == root.result["ts"]

    write_cluster(dump, payments="labelled")  # the namespace moved: the next check has progress to post
    crashing = CrashingState(Store(url), poster_for(slack), render)
    with pytest.raises(RuntimeError):  # Slack took the progress post; the new observation was never saved
        check(record, _migration_context(crashing, dump), crashing)
    assert len(slack.of("chat.postMessage")) == 2
    state = BotState(Store(url), poster_for(slack), render)
    stale = state.migration("payments")
    assert stale is not None and stale.observed == record.observed  # so the re-run sees the same change
    again = check(stale, _migration_context(state, dump), state)
    progress = [c for c in slack.of("chat.postMessage") if c.body.get("thread_ts") == root.result["ts"]]
    assert len(progress) == 1 and again.data["posted"] == [progress[0].result["ts"]]
    saved = state.migration("payments")
    assert saved is not None and saved.observed != record.observed
    # Saved, the key is free again: the same change coming back later is news, posted once more.
    with state.store.session() as s:
        assert s.query(OutboxPost).filter(OutboxPost.status == "posted").count() == 0


def test_an_outbox_intent_left_by_a_crash_is_posted_once_on_restart(tmp_path: Path, slack: HistoryDouble) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store(url)
    now = datetime.now(UTC)
    payload = {"text": "progress", "blocks": []}
    with store.session() as s:
        # Crash 1: the intent was written, the post never happened.
        s.add(OutboxPost(channel="CA", thread_ts="1.1", key="migration:a:1.1:f1", payload=payload, created_at=now))
        # Crash 2: Slack took the post (below), then the process died before writing its ts.
        s.add(OutboxPost(channel="CB", thread_ts="2.2", key="migration:b:2.2:f2", payload=payload, created_at=now))
    poster = poster_for(slack)
    taken = poster.post("CB", "progress", [], thread_ts="2.2", key="migration:b:2.2:f2")
    state = BotState(Store(url), poster, render)  # the new process
    assert state.resume_pending() == 2
    posts = slack.of("chat.postMessage")
    assert sorted(c.body["channel"] for c in posts) == ["CA", "CB"]  # CA posted now; CB not posted twice
    assert state.resume_pending() == 0
    # The handler's re-run of the same logical post finds it done in the outbox, without even asking Slack.
    lookups = len(slack.of("conversations.replies"))
    assert state.post("CB", Reply(title="progress"), thread_ts="2.2", key="migration:b:2.2:f2") == taken
    assert len(slack.of("chat.postMessage")) == 2 and len(slack.of("conversations.replies")) == lookups


def test_the_schema_version_5_step_adds_the_outbox_to_a_version_4_file(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE outbox_posts")
        db.execute("UPDATE schema_version SET version = 4")
    store = Store(f"sqlite:///{path}")
    assert store.upgraded_from == 4
    with store.session() as s:
        s.add(OutboxPost(channel="C", key="k", payload={}))
    with store.session() as s:
        assert [p.key for p in s.query(OutboxPost)] == ["k"]
