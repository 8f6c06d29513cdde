"""A tracked migration: root message, questions in its thread, scheduled progress into the thread, phase timers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from digest_runtime import wait_until
from mesh_cluster import write_cluster
from slack_double import Call, SlackDouble

import handlers
from bot.config import load_settings
from bot.runtime import Runtime, build_state
from bot.scheduler import MeshScheduler
from bot.state import BotState
from cluster.dump import read_dump
from handlers import Pipeline
from knowledge import default as default_knowledge

CHANNEL = "CMIGRATE"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    return write_cluster(tmp_path / "cluster.yaml")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(slack: SlackDouble, tmp_path: Path, clock: Clock) -> BotState:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", slack_bot_token=slack.bot_token, slack_api_url=slack.api_url
    )
    built = build_state(settings)
    built.clock = clock
    return built


def context(state: BotState, dump: Path, *, thread_ts: str | None = None, language: str = "en") -> handlers.Context:
    return handlers.Context(
        kb=default_knowledge(),
        read_cluster=partial(read_dump, dump),
        state=state,
        channel=CHANNEL,
        thread_ts=thread_ts,
        user="UALICE",
        language=language,  # type: ignore[arg-type]
    )


def in_thread(slack: SlackDouble, ts: str) -> list[Call]:
    return [c for c in slack.of("chat.postMessage") if c.body.get("thread_ts") == ts]


def shown(call: Call) -> str:
    return json.dumps(call.body.get("blocks"), ensure_ascii=False)


def test_start_ask_in_the_thread_progress_and_ticks(
    slack: SlackDouble, state: BotState, dump: Path, tmp_path: Path
) -> None:
    started = handlers.run_text("migrate", ["start", "payments"], context(state, dump))
    assert not started.error, started.sections
    [root] = slack.of("chat.postMessage")
    thread = root.result["ts"]
    assert root.body["channel"] == CHANNEL and "thread_ts" not in root.body
    text = shown(root)
    assert "Precheck verdict" in text and "ready" in text  # the precheck verdict
    assert "kubectl label namespace payments istio.io/dataplane-mode=ambient" in text  # the plan
    assert "☐ Namespace labels switched" in text and "✅ Istio version" in text  # the checklist, auto-ticked
    assert started.data["migration"]["thread_ts"] == thread

    # Asked in the thread: the namespace is filled in; knowledge answers use it in their commands.
    ctx = context(state, dump, thread_ts=thread)
    status = Pipeline().run_words("migrate", ["status"], ctx)
    assert status.data["migration"]["namespace"] == "payments" and "Phase 1/4" in status.sections[0].text
    mode = Pipeline().run_words("status", [], ctx)
    assert [n["name"] for n in mode.data["namespaces"]] == ["payments"]
    rollback = Pipeline().run_words("ask", ["how do I roll back to sidecar?"], ctx)
    body = "\n".join(s.text for s in rollback.sections)
    assert "kubectl label namespace payments" in body and "istio-injection=enabled" in body
    assert "namespace production" not in body and "<NAMESPACE>" not in body
    outside = Pipeline().run_words("ask", ["how do I roll back to sidecar?"], context(state, dump))
    elsewhere = "\n".join(s.text for s in outside.sections)
    assert "namespace payments" not in elsewhere and "istio-injection=enabled" in elsewhere  # no thread, no name

    # The scheduler's progress checks (every second here) post into the thread when the cluster moves.
    settings = load_settings(database_url=state.store.url, migration_check_seconds=1, from_file=dump)
    scheduler = MeshScheduler(Runtime(settings, state, partial(read_dump, dump))).start(paused=False)
    try:
        write_cluster(dump, payments="restarted", keep_sidecars=1)  # labels swapped, 2 of 3 pods restarted
        first = wait_until(lambda: in_thread(slack, thread)[:1], timeout=10)[0]
        progress = shown(first)
        assert "Namespace labels: sidecar → ambient" in progress
        assert "1 pod(s) still run istio-proxy after the switch" in progress and "checkout-a1" in progress
        assert "`namespace-labels`" in progress and "✅ Namespace labels switched" in progress
        assert "☐ Pods restarted" in progress

        write_cluster(dump, payments="restarted", waypoint=True)  # the last pod restarted, a waypoint deployed
        second = wait_until(lambda: in_thread(slack, thread)[1:2], timeout=10)[0]
        progress = shown(second)
        assert "Pods with a sidecar: 1 → 0" in progress and "Waypoint deployed: `payments/waypoint`" in progress
        for item in ("✅ Pods restarted", "✅ Waypoint deployed", "✅ mTLS connections verified"):
            assert item in progress
    finally:
        scheduler.shutdown()
    record = state.migration("payments")
    assert record is not None and record.checklist["sidecars-removed"] and record.checklist["mtls-verified"]
    # Nothing moved since: a check posts nothing more.
    quiet = handlers.run_text("migrate", ["check", "payments"], context(state, dump))
    assert quiet.data["changed"] is False and len(in_thread(slack, thread)) == 2


def test_phase_timer_reminds_in_the_thread_once_when_due(
    slack: SlackDouble, state: BotState, dump: Path, clock: Clock
) -> None:
    handlers.run_text("migrate", ["start", "payments"], context(state, dump))
    thread = slack.of("chat.postMessage")[0].result["ts"]
    moved = handlers.run_text("migrate", ["phase", "2", "payments"], context(state, dump))
    assert "phase 2/4" in moved.sections[0].text and "after 7 days" in moved.sections[0].text
    assert "phase 2/4" in shown(in_thread(slack, thread)[-1])  # the thread keeps the whole story
    posted = len(in_thread(slack, thread))

    clock.now += timedelta(days=6, hours=23)
    handlers.run_text("migrate", ["check", "payments"], context(state, dump))
    assert len(in_thread(slack, thread)) == posted  # not due yet
    clock.now += timedelta(hours=2)
    handlers.run_text("migrate", ["check", "payments"], context(state, dump))
    [reminder] = in_thread(slack, thread)[posted:]
    assert "monitoring week of `payments` is over (7 days in phase 2)" in shown(reminder)
    assert "migrate phase 3 payments" in shown(reminder)
    clock.now += timedelta(days=1)
    handlers.run_text("migrate", ["check", "payments"], context(state, dump))
    assert len(in_thread(slack, thread)) == posted + 1  # reminded once


def test_bad_input_and_other_actions_answer_clearly(slack: SlackDouble, state: BotState, dump: Path) -> None:
    ctx = context(state, dump)
    assert "Which namespace?" in handlers.run_text("migrate", ["status"], ctx).data["error"]
    assert "No tracked migration for `orders`" in handlers.run_text("migrate", ["status", "orders"], ctx).data["error"]
    assert "not in the cluster" in handlers.run_text("migrate", ["start", "nope"], ctx).data["error"]
    assert "not a valid namespace" in handlers.run_text("migrate", ["start", "Bad_NS"], ctx).data["error"]
    assert "Phase must be 1 to 4" in handlers.run_text("migrate", ["phase", "9", "payments"], ctx).data["error"]
    handlers.run_text("migrate", ["start", "payments"], ctx)
    again = handlers.run_text("migrate", ["start", "payments"], ctx)
    assert "already tracked" in again.sections[0].text and len(slack.of("chat.postMessage")) == 1
    ko = handlers.run_text("migrate", ["rollback", "payments"], context(state, dump, language="ko"))
    assert "롤백합니다" in ko.sections[0].text and "istio-injection=enabled" in ko.sections[0].text
    assert ko.data["migration"]["status"] == "rolled-back"
    assert state.migrations(active_only=True) == []


def test_a_namespace_that_disappears_is_reported_once(slack: SlackDouble, state: BotState, dump: Path) -> None:
    handlers.run_text("migrate", ["start", "payments"], context(state, dump))
    thread = slack.of("chat.postMessage")[0].result["ts"]
    write_cluster(dump, payments="gone")
    for _ in range(2):
        handlers.run_text("migrate", ["check", "payments"], context(state, dump))
    [gone] = in_thread(slack, thread)
    assert "is not in the cluster any more" in shown(gone)
    record = state.migration("payments")
    assert record is not None and record.checklist["istio-version"]  # the last checklist is kept


def test_through_the_slack_app_start_by_slash_command_then_ask_in_the_thread(
    slack: SlackDouble, state: BotState, dump: Path
) -> None:
    from bot.slack.serve import Server
    from tests.slack_double import SIGNING_SECRET, event_body, post_signed, slash_form

    settings = load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        operators="UALICE",  # slash_form's user: starting a migration is an operator's
    )
    server = Server(settings, "http", read_cluster=partial(read_dump, dump), state=state, host="127.0.0.1", port=0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    try:
        status, _ = post_signed(url, slash_form(slack, "migrate start payments", channel=CHANNEL, response="start"))
        assert status == 200
        root = slack.wait_for(lambda calls: [c for c in calls if c.method == "chat.postMessage"])[0]
        thread = root.result["ts"]
        assert "Migration of `payments`" in shown(root)
        said = slack.wait_for(
            lambda calls: [c for c in calls if c.method == "response_url" and c.body["_to"] == "start"]
        )
        assert "Tracking the migration of `payments`" in json.dumps(said[0].body, ensure_ascii=False)

        # A reply in the migration thread (no mention): the bot answers there, for the thread's namespace.
        event = {
            "type": "message",
            "channel": CHANNEL,
            "user": "UBOB",
            "text": "migrate status",
            "ts": f"{float(thread) + 5:.6f}",
            "thread_ts": thread,
            "channel_type": "channel",
        }
        status, _ = post_signed(url, event_body(event), content_type="application/json")
        assert status == 200
        answer = wait_until(lambda: in_thread(slack, thread)[:1], timeout=10)[0]
        assert "Migration of `payments`: active" in shown(answer) and "Phase 1/4" in shown(answer)
    finally:
        server.stop(grace=2)


def test_the_version_item_stays_open_for_a_namespace_on_an_old_revision() -> None:
    from cluster.analysis import analyze
    from cluster.demo import DEMO_PATH
    from handlers.mesh_facts import observe
    from handlers.migration_progress import tick

    analysis, kb = analyze(read_dump(DEMO_PATH)), default_knowledge()
    assert tick(kb, observe(analysis, "billing"))["istio-version"] is False  # still on revision 1-21 (1.21.6)
    assert tick(kb, observe(analysis, "orders"))["istio-version"] is True  # the default revision, 1.23.2
