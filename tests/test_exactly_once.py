"""Exactly once: answers survive 429s and 5xx without doubling, Slack's redeliveries are answered once, and a
crash or an outage never makes a tick post two digests.

Over real HTTP: the Slack app in HTTP mode (two replicas sharing one store for the redeliveries), the
Slack Web API double answering the way Slack does when it limits or fails (Retry-After, JSON 500s,
gateway 502/503 pages, a 500 after it took the message), and `meshbot digest now` processes as ticks.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from digest_runtime import bot_env, digest_calls, meshbot, wait_until
from mesh_cluster import write_cluster
from sqlalchemy import select

from bot import metrics
from bot.config import Settings
from bot.slack.serve import Server
from bot.store import DigestRun, Store
from tests.slack_double import BOT_USER, SIGNING_SECRET, SlackDouble, event_body, post_signed, slash_form

_ids = itertools.count(1)


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def posts(method: str, outcome: str) -> float:
    return sample("meshbot_slack_posts_total", method=method, outcome=outcome)


def retries(method: str, reason: str) -> float:
    return sample("meshbot_slack_retries_total", method=method, reason=reason)


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(f"sqlite:///{tmp_path_factory.mktemp('once') / 'meshbot.sqlite'}")


@pytest.fixture(scope="module")
def replicas(slack: SlackDouble, store: Store) -> Iterator[tuple[Server, Server]]:
    """Two replicas of the HTTP app behind one Slack app, sharing one store (as on one PostgreSQL)."""
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        slack_retries=4,
        slack_backoff=0.05,
    )
    servers = tuple(
        Server(settings, "http", read_cluster=None, host="127.0.0.1", port=0, claim_event=store.claim_event)
        for _ in range(2)
    )
    for server in servers:
        server.start()
    yield servers  # type: ignore[misc]
    for server in servers:
        server.stop(grace=2)


def url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/slack/events"


def test_an_ephemeral_answer_through_429_and_500s_reaches_the_response_url_once(
    replicas: tuple[Server, Server], slack: SlackDouble
) -> None:
    server = replicas[0]
    name = f"once{next(_ids)}"
    before = (posts("response_url", "ok"), retries("response_url", "429"), retries("response_url", "5xx"))
    slack.fail("response_url", 429, 500, 503, retry_after=1)
    status, _ = post_signed(url(server), slash_form(slack, "help", response=name))
    assert status == 200
    slack.wait_for(
        lambda calls: [c for c in calls if c.method == "response_url" and c.status == 200 and c.body["_to"] == name]
    )
    time.sleep(0.5)  # nothing else is on its way
    tries = [c for c in slack.attempts("response_url") if c.body["_to"] == name]
    assert [c.status for c in tries] == [429, 500, 503, 200]
    assert tries[1].at - tries[0].at >= 0.9  # Retry-After: 1 was honoured
    assert posts("response_url", "ok") == before[0] + 1
    assert retries("response_url", "429") == before[1] + 1
    assert retries("response_url", "5xx") == before[2] + 2


def test_a_public_answer_through_429_and_a_500_after_slack_took_it_is_posted_once(
    replicas: tuple[Server, Server], slack: SlackDouble
) -> None:
    server = replicas[1]
    channel = f"CPUB{next(_ids)}"
    found, ok = posts("chat.postMessage", "found"), posts("chat.postMessage", "ok")
    slack.fail("chat.postMessage", 429)
    slack.fail("chat.postMessage", 500, taken=True)  # Slack has the message, the answer is lost
    status, _ = post_signed(url(server), slash_form(slack, "help --public", channel=channel))
    assert status == 200
    wait_until(lambda: posts("chat.postMessage", "found") > found, timeout=10)
    time.sleep(0.5)
    in_channel = [c for c in slack.of("chat.postMessage") if c.body.get("channel") == channel]
    assert len(in_channel) == 1  # the retry looked it up (conversations.history) instead of posting again
    assert [c.status for c in slack.attempts("chat.postMessage") if c.body.get("channel") == channel] == [429, 200]
    assert posts("chat.postMessage", "ok") == ok  # counted as found, not as a second success
    assert [c for c in slack.of("conversations.history") if c.body.get("channel") == channel]


def test_a_public_answer_through_a_500_that_slack_did_not_take_is_posted_once(
    replicas: tuple[Server, Server], slack: SlackDouble
) -> None:
    channel = f"CPUB{next(_ids)}"
    ok = posts("chat.postMessage", "ok")
    slack.fail("chat.postMessage", 500, 502)
    post_signed(url(replicas[0]), slash_form(slack, "help --public", channel=channel))
    slack.wait_for(
        lambda calls: [
            c for c in calls if c.method == "chat.postMessage" and c.status == 200 and c.body.get("channel") == channel
        ]
    )
    time.sleep(0.5)
    statuses = [c.status for c in slack.attempts("chat.postMessage") if c.body.get("channel") == channel]
    assert statuses == [500, 502, 200]
    assert posts("chat.postMessage", "ok") == ok + 1


def test_an_event_delivered_three_times_to_two_replicas_is_answered_once(
    replicas: tuple[Server, Server], slack: SlackDouble
) -> None:
    channel = f"CEVT{next(_ids)}"
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": "UBOB",
        "text": f"<@{BOT_USER}> what is a waypoint?",
        "ts": "1800000000.000300",
    }
    body = event_body(event)
    redelivered = sample("meshbot_slack_events_redelivered_total")
    # Slack retries an event it thinks was not acked in time, with X-Slack-Retry-Num and the same event_id.
    first = post_signed(url(replicas[0]), body, content_type="application/json")
    second = post_signed(
        url(replicas[1]),
        body,
        content_type="application/json",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    third = post_signed(
        url(replicas[0]),
        body,
        content_type="application/json",
        headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert [first[0], second[0], third[0]] == [200, 200, 200]
    slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.body.get("channel") == channel]
    )
    time.sleep(1.0)  # time for a second answer, were one on its way
    answers = [c for c in slack.of("chat.postMessage") if c.body.get("channel") == channel]
    assert len(answers) == 1 and answers[0].body["thread_ts"] == event["ts"]
    assert sample("meshbot_slack_events_redelivered_total") == redelivered + 2


def test_a_new_event_with_another_id_is_still_answered(replicas: tuple[Server, Server], slack: SlackDouble) -> None:
    channel = f"CEVT{next(_ids)}"
    for n in range(2):
        event = {
            "type": "app_mention",
            "channel": channel,
            "user": "UBOB",
            "text": f"<@{BOT_USER}> help",
            "ts": f"18.{n}",
        }
        assert post_signed(url(replicas[n]), event_body(event), content_type="application/json")[0] == 200
    slack.wait_for(
        lambda calls: (
            len([c for c in calls if c.method == "chat.postMessage" and c.body.get("channel") == channel]) == 2
        )
    )


# --- digests: one per tick, whatever happened before ----------------------------------------------------


@pytest.fixture
def digest_env(tmp_path: Path) -> Iterator[tuple[SlackDouble, dict[str, str]]]:
    double = SlackDouble().start()
    env = bot_env(double, tmp_path / "meshbot.sqlite", MESHBOT_FROM_FILE=str(write_cluster(tmp_path / "c.yaml")))
    yield double, env
    double.stop()


def tick(env: dict[str, str], **extra: str) -> int:
    """One tick: what the scheduler's digest job runs (deliver_digest), in its own process."""
    return meshbot("digest", "now", "--channel", "CTICK", env={**env, **extra}).returncode


def runs(db: Path) -> list[str]:
    store = Store(f"sqlite:///{db}")
    try:
        with store.session() as s:
            return [r.status for r in s.scalars(select(DigestRun).order_by(DigestRun.id))]
    finally:
        store.close()


@pytest.mark.slow
def test_a_crash_between_slack_taking_the_digest_and_saving_it_posts_one_digest_per_tick(
    digest_env: tuple[SlackDouble, dict[str, str]], tmp_path: Path
) -> None:
    slack, env = digest_env
    # Slack takes the digest and the answer never arrives; with no retries left the process ends there,
    # its run still "pending": the state a crash between "Slack took it" and "state saved" leaves.
    slack.fail("chat.postMessage", 500, taken=True)
    assert tick(env, MESHBOT_SLACK_RETRIES="0") != 0
    assert runs(tmp_path / "meshbot.sqlite") == ["pending"]
    assert [c.method for c in digest_calls(slack, "CTICK")] == ["chat.postMessage"]
    assert tick(env) == 0  # found in Slack: kept as posted, and this tick's digest (no change) edits it in place
    assert tick(env) == 0
    calls = digest_calls(slack, "CTICK")
    assert [c.method for c in calls] == ["chat.postMessage", "chat.update", "chat.update"]
    assert {c.body["ts"] for c in calls[1:]} == {calls[0].result["ts"]}
    assert runs(tmp_path / "meshbot.sqlite") == ["posted", "updated", "updated"]


@pytest.mark.slow
def test_an_outage_longer_than_the_retries_posts_one_digest_per_tick_afterwards(
    digest_env: tuple[SlackDouble, dict[str, str]], tmp_path: Path
) -> None:
    slack, env = digest_env
    slack.fail("chat.postMessage", 503, 500, 502)  # three attempts (two retries), none taken
    failed = meshbot("digest", "now", "--channel", "CTICK", env={**env, "MESHBOT_SLACK_RETRIES": "2"})
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert digest_calls(slack, "CTICK") == []
    # Slack is back but cannot say yet whether the lost digest arrived: this tick posts nothing.
    slack.fail("conversations.history", 503)
    assert tick(env, MESHBOT_SLACK_RETRIES="0") != 0
    assert digest_calls(slack, "CTICK") == []
    assert tick(env) == 0  # not in Slack: superseded by this tick's digest, posted once
    assert tick(env) == 0
    calls = digest_calls(slack, "CTICK")
    assert [c.method for c in calls] == ["chat.postMessage", "chat.update"]
    statuses = runs(tmp_path / "meshbot.sqlite")
    assert statuses.count("superseded") >= 1 and statuses[-2:] == ["posted", "updated"], statuses
    assert "pending" not in statuses


@pytest.mark.slow
def test_migration_status_posts_carry_idempotency_keys(slack: SlackDouble, tmp_path: Path) -> None:
    env = bot_env(slack, tmp_path / "meshbot.sqlite", MESHBOT_FROM_FILE=str(write_cluster(tmp_path / "c.yaml")))
    assert meshbot("migrate", "start", "payments", "--channel", "CMIG", env=env).returncode == 0
    done = meshbot("migrate", "done", "payments", env=env)
    assert done.returncode == 0, done.stderr
    thread = [c for c in slack.of("chat.postMessage") if c.body.get("channel") == "CMIG"]
    keys = [((c.body.get("metadata") or {}).get("event_payload") or {}).get("key") for c in thread]
    assert keys[-1] == "migration:payments:done:1", keys
    assert all(keys), json.dumps(keys)


def test_a_report_file_and_an_in_place_update_are_retried_through_429_and_5xx(slack: SlackDouble) -> None:
    from bot.poster import SlackPoster

    poster = SlackPoster.connect(slack.bot_token, slack.api_url, retries=3, backoff=0.01)
    uploads, updates = posts("files.upload", "ok"), posts("chat.update", "ok")
    slack.fail("files.getUploadURLExternal", 429, 503, retry_after=0)
    slack.fail("files.completeUploadExternal", 500)
    before = len(slack.of("files.completeUploadExternal"))
    poster.upload(channel="CFILE", content="report\n" * 50, filename="meshbot-report.txt", title="report")
    completed = slack.of("files.completeUploadExternal")[before:]
    assert len(completed) == 1 and posts("files.upload", "ok") == uploads + 1
    assert retries("files.upload", "5xx") >= 2
    slack.fail("chat.update", 502, 429, retry_after=0)
    assert poster.update("CFILE", "1700000001.000100", "digest", []) == "1700000001.000100"
    assert posts("chat.update", "ok") == updates + 1
    assert [c.status for c in slack.attempts("chat.update")][-3:] == [502, 429, 200]


def test_a_migration_post_an_outage_left_pending_goes_out_once_before_the_next_check(
    slack: SlackDouble, tmp_path: Path
) -> None:
    from bot.poster import PostError, SlackPoster
    from bot.state import BotState
    from handlers.reply import Reply

    def render(reply: Reply) -> tuple[str, list[dict[str, object]]]:
        return reply.title, []

    poster = SlackPoster.connect(slack.bot_token, slack.api_url, retries=1, backoff=0.01)
    state = BotState(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), poster, render)
    slack.fail("chat.postMessage", 503, 503)  # longer than the retries
    with pytest.raises(PostError):
        state.post("CMIGO", Reply(title="labels swapped"), thread_ts="1.1", key="migration:pay:1.1:labels")
    assert state.finish_posts("CMIGO") == 1  # what the next migration check does first
    assert state.finish_posts("CMIGO") == 0
    # The check then computes the same progress: the key finds the post, nothing goes out twice.
    state.post("CMIGO", Reply(title="labels swapped"), thread_ts="1.1", key="migration:pay:1.1:labels")
    assert len([c for c in slack.of("chat.postMessage") if c.body.get("channel") == "CMIGO"]) == 1
