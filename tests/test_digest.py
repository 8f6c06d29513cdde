"""Digests: `digest now` from the terminal, what changed, in-place updates, limits, a schedule surviving a crash."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from digest_runtime import Process, bot_env, digest_calls, meshbot, scheduled_runs
from mesh_cluster import write_cluster
from slack_double import SlackDouble

import handlers
from bot.cli import main
from bot.config import load_settings
from bot.runtime import build_state
from bot.slack.render import MAX_BLOCKS, MAX_SECTION, render
from handlers.digest_compose import compose
from handlers.digest_model import DigestState, NamespaceFacts, diff
from knowledge import default as default_knowledge


@pytest.fixture
def env(slack: SlackDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = bot_env(slack, tmp_path / "meshbot.sqlite")
    for key, value in values.items():
        if key.startswith(("MESHBOT_", "SLACK_")):
            monkeypatch.setenv(key, value)
    return values


def blocks_text(call: Any) -> str:
    return json.dumps(call.body.get("blocks"), ensure_ascii=False)


def test_digest_now_posts_once_then_shows_what_changed_then_updates_in_place(
    slack: SlackDouble, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = write_cluster(tmp_path / "cluster.yaml")
    done = meshbot("digest", "now", "--channel", "CDIGEST", "--from-file", str(dump), env=env)
    assert done.returncode == 0, done.stderr
    [first] = digest_calls(slack, "CDIGEST")
    assert first.method == "chat.postMessage" and "posted in CDIGEST" in done.stdout
    assert "First digest here" in blocks_text(first) and "payments" in blocks_text(first)

    # payments moves to ambient (labels swapped, pods restarted) and its PeerAuthentication goes PERMISSIVE.
    write_cluster(dump, payments="restarted", payments_mtls="PERMISSIVE")
    assert main(["digest", "now", "--channel", "CDIGEST", "--from-file", str(dump)]) == 0
    calls = digest_calls(slack, "CDIGEST")
    assert [c.method for c in calls] == ["chat.postMessage", "chat.postMessage"]
    second = blocks_text(calls[1])
    assert "What changed since the last digest" in second
    assert "`payments` mode: sidecar → ambient" in second
    assert "`payments` mTLS: STRICT → PERMISSIVE" in second
    assert "Pods on sidecars: 3 → 0" in second

    # Nothing changed: the last message is edited in place, nothing new is posted.
    capsys.readouterr()
    assert main(["digest", "now", "--channel", "CDIGEST", "--from-file", str(dump), "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    calls = digest_calls(slack, "CDIGEST")
    assert [c.method for c in calls][-1] == "chat.update" and len(calls) == 3
    assert calls[2].body["ts"] == calls[1].result["ts"]
    assert "No changes since" in blocks_text(calls[2])
    assert out["delivery"]["action"] == "updated" and out["changed"] is False


def test_digest_now_without_slack_or_channel_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MESHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    dump = write_cluster(tmp_path / "cluster.yaml")
    assert main(["digest", "now", "--from-file", str(dump)]) == 2
    assert "Which channel?" in capsys.readouterr().err
    assert main(["digest", "now", "--channel", "C1", "--from-file", str(dump)]) == 4
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    assert main(["migrate", "start", "payments", "--channel", "C1", "--from-file", str(dump)]) == 4
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    env = {k: v for k, v in os.environ.items() if k != "SLACK_BOT_TOKEN"}
    refused = meshbot("scheduler", "--from-file", str(dump), env=env)
    assert refused.returncode == 3 and "the scheduler posts to Slack: set SLACK_BOT_TOKEN" in refused.stderr
    monkeypatch.setenv("MESHBOT_DATABASE_URL", "postgresql+nodriver://meshbot:s3cret@db/meshbot")
    assert main(["digest", "list"]) == 3
    err = capsys.readouterr().err
    assert "cannot open the store postgresql+nodriver://meshbot:***@db/meshbot" in err and "s3cret" not in err


def test_subscribe_list_unsubscribe_and_bad_schedules(tmp_path: Path, slack: SlackDouble) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    ctx = handlers.Context(kb=default_knowledge(), state=build_state(settings), channel="CHERE", user="UALICE")
    reply = handlers.run_text("digest", ["subscribe", "0", "9", "*", "*", "1-5", "payments", "orders"], ctx)
    assert not reply.error and reply.data["subscription"]["schedule"] == "0 9 * * 1-5"
    assert reply.data["subscription"]["namespaces"] == ["payments", "orders"]
    reply = handlers.run_text("digest", ["subscribe", "<#COTHER|ops>", "every", "6h"], ctx)
    assert reply.data["subscription"]["channel"] == "COTHER"
    listed = handlers.run_text("digest", ["list"], ctx).data["subscriptions"]
    assert [(s["channel"], s["schedule"]) for s in listed] == [("CHERE", "0 9 * * 1-5"), ("COTHER", "every 6h")]
    bad = handlers.run_text("digest", ["subscribe", "99", "9", "*", "*", "*"], ctx)
    assert bad.error and "99" in bad.data["error"]
    bad_ns = handlers.run_text("digest", ["subscribe", "@daily", "Not_A_Namespace"], ctx)
    assert bad_ns.error and "not a valid namespace" in bad_ns.data["error"]
    ko = handlers.Context(kb=default_knowledge(), state=ctx.state, channel="CHERE", language="ko")
    removed = handlers.run_text("digest", ["unsubscribe"], ko)
    assert "구독을 해지했습니다" in removed.sections[0].text and len(removed.data["removed"]) == 1
    assert [s["channel"] for s in handlers.run_text("digest", ["list"], ctx).data["subscriptions"]] == ["COTHER"]
    no_store = handlers.run_text("digest", ["list"], handlers.Context(kb=default_knowledge()))
    assert no_store.error and "MESHBOT_DATABASE_URL" in no_store.data["error"]


def test_a_digest_of_a_huge_cluster_stays_within_block_kit_limits() -> None:
    now = datetime.now(UTC)
    big = DigestState(
        taken_at=now,
        namespaces={
            f"team-{i:04d}": NamespaceFacts(
                mode="sidecar",
                mtls="PERMISSIVE",
                pods={"sidecar": i % 40 + 1},
                findings=[f"blocker envoyfilter-unsupported EnvoyFilter team-{i:04d}/f"],
            )
            for i in range(3000)
        },
    )
    before = big.model_copy(update={"namespaces": {}, "taken_at": now - timedelta(days=1)})
    reply = compose(big, diff(before, big), "en", previous_posted_at=before.taken_at)
    message = render(reply)
    assert not message.summarised and len(message.blocks) <= MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= MAX_SECTION for b in message.blocks)
    text = json.dumps(message.blocks)
    assert "and 2990 more" in text  # the tables show the top 10
    assert "New namespace" in text and "more" in text


def test_a_subscription_survives_a_crash_and_is_posted_on_schedule_once(
    slack: SlackDouble, env: dict[str, str], tmp_path: Path
) -> None:
    dump = write_cluster(tmp_path / "cluster.yaml")
    env = {**env, "MESHBOT_FROM_FILE": str(dump), "MESHBOT_IDENTITY": "first"}
    subscribed = meshbot("digest", "subscribe", "every", "3s", "--channel", "CSCHED", "--lang", "ko", env=env)
    assert subscribed.returncode == 0, subscribed.stderr
    first = Process("scheduler", env=env, log=tmp_path / "first.log")
    first.kill()  # before its first tick: the schedule lives only in the database now
    assert digest_calls(slack, "CSCHED") == []
    with sqlite3.connect(tmp_path / "meshbot.sqlite") as db:
        [(next_run,)] = db.execute("SELECT next_run_time FROM apscheduler_jobs WHERE id = 'digest:1'").fetchall()
    second = Process("scheduler", env={**env, "MESHBOT_IDENTITY": "second"}, log=tmp_path / "second.log")
    try:
        slack.wait_for(lambda calls: len(digest_calls(slack, "CSCHED")) >= 2, timeout=15)
    finally:
        second.stop()
    calls = digest_calls(slack, "CSCHED")
    assert [c.method for c in calls[:2]] == ["chat.postMessage", "chat.update"]  # one post, then in-place updates
    assert len([c for c in calls if c.method == "chat.postMessage"]) == 1
    assert "메시 다이제스트" in json.dumps(calls[0].body["blocks"], ensure_ascii=False)  # subscribed in Korean
    wall = time.time() - (time.monotonic() - calls[0].at)
    assert wall >= next_run - 0.5  # not before the time the crashed process had scheduled
    runs = scheduled_runs([tmp_path / "first.log", tmp_path / "second.log"], "digest:1")
    assert len(runs) == len(set(runs)) == len(calls), (runs, len(calls))  # one digest per tick
    assert datetime.fromisoformat(runs[0]).timestamp() == pytest.approx(next_run, abs=0.01)  # the crashed one's tick
    with sqlite3.connect(tmp_path / "meshbot.sqlite") as db:
        audited = db.execute(
            "SELECT user, command, arguments, target_channel, outcome FROM audit_entries WHERE surface = 'scheduler'"
        ).fetchall()
    # Each tick ran `digest now` through the same pipeline as a typed command, and left its audit row.
    assert len(audited) >= len(calls)
    assert {(u, c, t, o) for u, c, _, t, o in audited} == {("scheduler", "digest", "CSCHED", "ok")}
    assert json.loads(audited[0][2])["action"] == "now"


def test_digest_of_the_demo_cluster_shows_a_label_edit_as_a_change(
    slack: SlackDouble, env: dict[str, str], tmp_path: Path
) -> None:
    from cluster.demo import DEMO_PATH

    dump = tmp_path / "demo"
    shutil.copytree(DEMO_PATH, dump, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    assert main(["digest", "now", "--channel", "CDEMO", "--from-file", str(dump)]) == 0
    first = blocks_text(digest_calls(slack, "CDEMO")[0])
    assert "sidecar 5" in first and "mixed 1" in first and "Open blockers" in first  # billing, partners: 4th, 5th
    staging = dump / "25-staging.yaml"
    edited = staging.read_text().replace("    istio-injection: enabled\n", "", 1)
    assert edited != staging.read_text()
    staging.write_text(edited)  # the team drops the injection label: staging is ambient only
    assert main(["digest", "now", "--channel", "CDEMO", "--from-file", str(dump)]) == 0
    calls = digest_calls(slack, "CDEMO")
    assert [c.method for c in calls] == ["chat.postMessage", "chat.postMessage"]
    second = blocks_text(calls[1])
    assert "`staging` mode: mixed → ambient" in second
    assert "Resolved: `mixed-mode-namespace`" in second


def test_digest_commands_through_the_slack_app(slack: SlackDouble, tmp_path: Path) -> None:
    from functools import partial

    from bot.slack.serve import Server
    from cluster.dump import read_dump
    from tests.slack_double import SIGNING_SECRET, post_signed, slash_form

    settings = load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        operators="UALICE",  # slash_form's user: subscribing and posting are an operator's
    )
    dump = write_cluster(tmp_path / "cluster.yaml")
    state = build_state(settings)
    server = Server(settings, "http", read_cluster=partial(read_dump, dump), state=state, host="127.0.0.1", port=0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"

    def answer(name: str) -> str:
        calls = slack.wait_for(lambda cs: [c for c in cs if c.method == "response_url" and c.body["_to"] == name])
        return json.dumps(calls[0].body, ensure_ascii=False)

    try:
        post_signed(url, slash_form(slack, "digest subscribe every 6h payments", channel="CTEAM", response="sub"))
        assert "Subscribed CTEAM" in answer("sub") and "every 6h" in answer("sub")
        post_signed(url, slash_form(slack, "digest now payments", channel="CTEAM", response="now"))
        assert "Digest posted in CTEAM" in answer("now")
        [posted] = digest_calls(slack, "CTEAM")
        assert posted.method == "chat.postMessage" and "Mesh digest" in blocks_text(posted)
        assert "orders" not in blocks_text(posted)  # only the namespaces asked for
    finally:
        server.stop(grace=2)
    assert [(s.channel, s.namespaces) for s in state.subscriptions()] == [("CTEAM", ["payments"])]
