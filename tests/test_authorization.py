"""Who may run what from Slack: the real Bolt app over real HTTP, the Slack Web API double, a real SQLite store.

Operators are named by user id (UOPS) and by user group (SOPS, whose members the double lists
through `usergroups.users.list`); channels are allowed with and without a namespace limit.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from mesh_cluster import write_cluster

from bot.cli import main
from bot.config import Settings, SettingsError, load_settings
from bot.runtime import build_state
from bot.slack.serve import Server
from bot.state import BotState
from cluster.dump import read_dump
from handlers.schedules import shortest_gap, trigger_for
from tests.slack_double import SIGNING_SECRET, TEAM, SlackDouble, post_signed, slash_form

OPS = "COPS"
PAYMENTS_ONLY = "CPAY"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    double.usergroups["SOPS"] = ["UGROUPIE"]
    yield double
    double.stop()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('authz') / 'meshbot.sqlite'}"


@pytest.fixture(scope="module")
def state(slack: SlackDouble, store_url: str) -> BotState:
    return build_state(settings(slack, store_url))


def settings(slack: SlackDouble, store_url: str, **extra: Any) -> Settings:
    return load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=store_url,
        cluster_channels=f"{OPS},{PAYMENTS_ONLY}:payments",
        operators="UOPS,SOPS",
        slack_team_id=TEAM,
        rate_limit=extra.pop("rate_limit", 1000),
        **extra,
    )


@pytest.fixture(scope="module")
def server(
    slack: SlackDouble, store_url: str, state: BotState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    dump = write_cluster(tmp_path_factory.mktemp("cluster") / "cluster.yaml")
    srv = Server(
        settings(slack, store_url), "http", read_cluster=partial(read_dump, dump), state=state, host="127.0.0.1", port=0
    )
    srv.start()
    yield f"http://127.0.0.1:{srv.port}/slack/events"
    srv.stop(grace=2)


def ask(slack: SlackDouble, url: str, text: str, *, user: str = "UALICE", channel: str = OPS, **kw: str) -> str:
    """Run `/mesh TEXT` as `user` in `channel`; the answer as Slack received it at the response_url."""
    name = f"a{next(_ids)}"
    status, _ = post_signed(url, slash_form(slack, text, user=user, channel=channel, response=name, **kw))
    assert status == 200
    call = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "response_url" and c.body["_to"] == name), None)
    )
    return json.dumps(call.body, ensure_ascii=False)


def test_state_changing_commands_are_an_operators_by_user_or_user_group(
    slack: SlackDouble, server: str, state: BotState
) -> None:
    refused = ask(slack, server, "digest subscribe @daily payments", user="UALICE")
    assert "only operators may run it" in refused and "MESHBOT_OPERATORS" in refused
    assert state.subscriptions(OPS) == []
    refused = ask(slack, server, "migrate rollback payments", user="UALICE")
    assert "only operators may run it" in refused
    korean = ask(slack, server, "digest subscribe @daily payments --lang ko", user="UALICE")
    assert "운영자(MESHBOT_OPERATORS)만" in korean

    accepted = ask(slack, server, "digest subscribe @daily payments", user="UOPS")
    assert "Subscribed COPS" in accepted
    by_group = ask(slack, server, "digest subscribe @weekly orders", user="UGROUPIE")  # a member of SOPS
    assert "Subscribed COPS" in by_group
    assert sorted(s.schedule for s in state.subscriptions(OPS)) == ["@daily", "@weekly"]
    assert any(c.body.get("usergroup") == "SOPS" for c in slack.of("usergroups.users.list"))
    # Reading stays open to anyone in the channel.
    assert "@daily" in ask(slack, server, "digest list", user="UALICE")

    rollback = ask(slack, server, "migrate rollback payments", user="UOPS")
    assert "only operators" not in rollback and "No tracked migration for `payments`" in rollback
    # Memberships are cached (MESHBOT_OPERATOR_GROUPS_SECONDS): one lookup for every check above.
    assert len(slack.of("usergroups.users.list")) == 1


def test_a_digest_for_a_channel_outside_the_allow_list_is_refused(slack: SlackDouble, server: str) -> None:
    refused = ask(slack, server, "digest subscribe <#CSECRET|secret> every 6h payments", user="UOPS")
    assert "`CSECRET` is not allowed" in refused and "COPS" in refused
    # An allowed channel limited to payments may not be sent another namespace either.
    refused = ask(slack, server, f"digest subscribe <#{PAYMENTS_ONLY}|pay> @daily orders", user="UOPS")
    assert f"`{PAYMENTS_ONLY}` may only see `payments`" in refused


def test_a_schedule_more_often_than_the_minimum_is_refused(slack: SlackDouble, server: str, state: BotState) -> None:
    before = len(state.subscriptions())
    for schedule in ("every 1s", "*/1 * * * * *", "*/5 * * * *"):
        refused = ask(slack, server, f"digest subscribe {schedule} payments", user="UOPS")
        assert "runs more often than allowed" in refused and "3600s" in refused, schedule
    assert len(state.subscriptions()) == before


def test_the_shortest_gap_of_a_schedule() -> None:
    assert shortest_gap(trigger_for("every 1s")).total_seconds() == 1
    assert shortest_gap(trigger_for("*/5 * * * *")).total_seconds() == 300
    assert shortest_gap(trigger_for("@hourly")).total_seconds() == 3600
    assert shortest_gap(trigger_for("@weekdays")).total_seconds() == 86400
    assert shortest_gap(trigger_for("0 9,17 * * *")).total_seconds() == 8 * 3600


def test_a_channel_limited_to_payments_lists_and_posts_its_digests(
    slack: SlackDouble, server: str, state: BotState
) -> None:
    listed = ask(slack, server, "digest list", channel=PAYMENTS_ONLY)
    assert "refused" not in listed and "only" not in listed
    # It sees the COPS subscription to payments (within its namespaces), not the one to orders.
    assert "payments" in listed and "orders" not in listed
    before = len(slack.of("chat.postMessage"))
    posted = ask(slack, server, "digest now payments", channel=PAYMENTS_ONLY, user="UOPS")
    assert f"Digest posted in {PAYMENTS_ONLY}" in posted
    assert len(slack.of("chat.postMessage")) == before + 1
    whole = ask(slack, server, "digest now", channel=PAYMENTS_ONLY, user="UOPS")
    assert "Digest posted" not in whole and "payments" in whole  # the whole cluster is not this channel's
    # Unsubscribing from there only reaches what it may see: the orders subscription survives.
    orders = next(s for s in state.subscriptions(OPS) if s.namespaces == ["orders"])
    ask(slack, server, f"digest unsubscribe {orders.id}", channel=PAYMENTS_ONLY, user="UOPS")
    assert orders.id in [s.id for s in state.subscriptions(OPS)]


def test_another_workspace_is_refused(slack: SlackDouble, server: str) -> None:
    from urllib.parse import parse_qsl, urlencode

    name = f"a{next(_ids)}"
    form = dict(parse_qsl(slash_form(slack, "status payments", user="UOPS", channel=OPS, response=name)))
    form["team_id"] = "T0STRANGER"
    assert post_signed(server, urlencode(form))[0] == 200
    call = slack.wait_for(lambda cs: next((c for c in cs if c.method == "response_url" and c.body["_to"] == name), 0))
    assert "serves another Slack workspace" in json.dumps(call.body)


def test_the_audit_row_carries_the_arguments(slack: SlackDouble, server: str, store_url: str) -> None:
    ask(slack, server, "digest subscribe <#CSECRET|secret> every 6h payments", user="UOPS")
    path = store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT user, channel, command, arguments, target_channel, outcome, request_id, surface"
            " FROM audit_entries WHERE target_channel = 'CSECRET' ORDER BY id DESC"
        ).fetchall()
    user, channel, command, arguments, target, outcome, request_id, surface = rows[0]
    assert (user, channel, command, target, outcome, surface) == ("UOPS", OPS, "digest", "CSECRET", "refused", "slack")
    assert json.loads(arguments) == {
        "action": "subscribe",
        "words": ["<#CSECRET|secret>", "every", "6h", "payments"],
        "channel": None,
        "dry_run": False,
    }
    assert len(request_id) == 16


def test_meshbot_audit_lists_the_rows(
    server: str, slack: SlackDouble, store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ask(slack, server, "migrate rollback payments", user="UALICE")
    monkeypatch.setenv("MESHBOT_DATABASE_URL", store_url)
    assert main(["audit", "--since", "1h", "--output", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    refused = [e for e in entries if e["command"] == "migrate" and e["outcome"] == "refused" and e["user"] == "UALICE"]
    assert refused and refused[-1]["arguments"]["words"] == ["payments"]
    assert main(["audit", "--since", "1h"]) == 0
    text = capsys.readouterr().out
    assert "UALICE" in text and "migrate action=rollback" in text
    # The CLI itself is audited too (the operator's terminal: not authorized, still recorded), reading
    # commands included once MESHBOT_DATABASE_URL names the store.
    assert main(["limits", "lua"]) == 0
    assert "Lua" in capsys.readouterr().out
    assert main(["audit", "--output", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    cli = [(e["command"], e["arguments"]) for e in entries if e["surface"] == "cli"]
    assert ("limits", {"feature": ["lua"]}) in cli and ("audit", {"since": "1h"}) in cli
    assert main(["audit", "--since", "yesterday-ish"]) == 2
    assert "give a duration" in capsys.readouterr().err


def test_no_operators_configured_refuses_with_how_to(slack: SlackDouble, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    plain = load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        database_url=url,
    )
    srv = Server(plain, "http", read_cluster=None, state=build_state(plain), host="127.0.0.1", port=0)
    srv.start()
    try:
        answer = ask(slack, f"http://127.0.0.1:{srv.port}/slack/events", "digest now", user="UOPS")
    finally:
        srv.stop(grace=2)
    assert "no operators are configured" in answer and "MESHBOT_OPERATORS" in answer


def test_the_rate_limit_is_per_user(slack: SlackDouble, tmp_path: Path) -> None:
    limited = settings(slack, f"sqlite:///{tmp_path / 'db.sqlite'}", rate_limit=3)
    srv = Server(limited, "http", read_cluster=None, state=build_state(limited), host="127.0.0.1", port=0)
    srv.start()
    url = f"http://127.0.0.1:{srv.port}/slack/events"
    try:
        answers = [ask(slack, url, "compare", user="UBUSY") for _ in range(4)]
        other = ask(slack, url, "compare", user="UCALM")
    finally:
        srv.stop(grace=2)
    assert all("Too many commands" not in a for a in answers[:3])
    assert "Too many commands" in answers[3] and "at most 3 a minute" in answers[3]
    assert "Too many commands" not in other


@pytest.mark.parametrize(
    ("value", "problem"),
    [("alice", "not a Slack user id"), ("U1,#ops", "not a Slack user id"), ("C0123", "not a Slack user id")],
)
def test_operator_ids_are_checked(value: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(operators=value)


def test_min_digest_interval_takes_durations() -> None:
    assert load_settings(min_digest_interval="30m").min_digest_interval == 1800
    assert load_settings(min_digest_interval="90").min_digest_interval == 90
    with pytest.raises(SettingsError, match="duration"):
        load_settings(min_digest_interval="often")


def test_audit_rows_past_the_retention_are_forgotten(slack: SlackDouble, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    state = build_state(settings(slack, url, audit_retention_days=30))
    state.audit(user="UOLD", channel=OPS, command="status", outcome="ok")
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.execute("UPDATE audit_entries SET at = datetime('now', '-31 days') WHERE user = 'UOLD'")
    state.audit(user="UNEW", channel=OPS, command="status", outcome="ok", arguments={"namespace": "payments"})
    rows = state.audit_rows(datetime(2000, 1, 1, tzinfo=UTC))
    assert [(r.user, r.arguments) for r in rows] == [("UNEW", {"namespace": "payments"})]
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        assert db.execute("SELECT count(*) FROM audit_entries").fetchone() == (1,)


def test_a_mention_from_another_workspace_is_refused(slack: SlackDouble, server: str) -> None:
    from tests.slack_double import BOT_USER, event_body

    before = len(slack.of("chat.postMessage"))
    body = json.loads(
        event_body(
            {
                "type": "app_mention",
                "user": "UOPS",
                "text": f"<@{BOT_USER}> status payments",
                "channel": OPS,
                "ts": "1700000100.000100",
            }
        )
    )
    body["team_id"] = "T0STRANGER"
    assert post_signed(server, json.dumps(body), content_type="application/json")[0] == 200
    [answer] = slack.wait_method("chat.postMessage", before + 1)[before:]
    assert "serves another Slack workspace" in json.dumps(answer.body)


def test_a_reading_command_in_the_terminal_creates_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MESHBOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]
    assert list(tmp_path.iterdir()) == []
