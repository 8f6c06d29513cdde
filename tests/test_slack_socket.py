"""Socket Mode for real: apps.connections.open (Slack double) hands out the WebSocket double's URL,
which sends `hello`, delivers envelopes and checks that each is acked by envelope_id."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.slack.serve import Server
from tests.slack_double import BOT_USER, TEAM, SlackDouble
from tests.socket_double import SocketDouble


@pytest.fixture(scope="module")
def doubles() -> Iterator[tuple[SlackDouble, SocketDouble]]:
    slack = SlackDouble().start()
    socket = SocketDouble().start()
    slack.socket_url = socket.url
    yield slack, socket
    socket.stop()
    slack.stop()


@pytest.fixture(scope="module")
def server(doubles: tuple[SlackDouble, SocketDouble]) -> Iterator[Server]:
    slack, socket = doubles
    settings = Settings(slack_bot_token=slack.bot_token, slack_app_token=slack.app_token, slack_api_url=slack.api_url)
    srv = Server(settings, "socket", read_cluster=None, host="127.0.0.1", port=0, ping_interval=1.0)
    srv.start()
    socket.wait_connected()
    yield srv
    srv.stop(grace=2)


def status_of(server: Server, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_connects_with_the_app_token_and_reports_healthy(
    server: Server, doubles: tuple[SlackDouble, SocketDouble]
) -> None:
    slack, _ = doubles
    opened = slack.of("apps.connections.open")
    assert opened and opened[0].headers["authorization"] == f"Bearer {slack.app_token}"
    assert status_of(server, "/healthz") == 200
    assert status_of(server, "/readyz") == 200
    assert status_of(server, "/slack/events") == 404  # Socket Mode serves no events endpoint


def test_slash_command_envelope_is_acked_then_answered(
    server: Server, doubles: tuple[SlackDouble, SocketDouble]
) -> None:
    slack, socket = doubles
    payload = {
        "token": "legacy",
        "team_id": TEAM,
        "channel_id": "CSOCK",
        "user_id": "UALICE",
        "command": "/mesh",
        "text": "help",
        "response_url": slack.response_url("sock1"),
        "trigger_id": "1.2.3",
        "api_app_id": "A0MESHBOT",
    }
    envelope_id = socket.deliver("slash_commands", payload, accepts_response_payload=True)
    ack, seconds = socket.wait_ack(envelope_id)
    assert ack["envelope_id"] == envelope_id
    assert seconds < 1.0
    answer = slack.wait_for(lambda calls: [c for c in calls if c.method == "response_url" and c.body["_to"] == "sock1"])
    assert "help [COMMAND]" in answer[0].text()


def test_events_api_envelope_is_acked_and_the_mention_answered(
    server: Server, doubles: tuple[SlackDouble, SocketDouble]
) -> None:
    slack, socket = doubles
    before = len(slack.of("chat.postMessage"))
    event = {
        "type": "app_mention",
        "channel": "CSOCK",
        "user": "UALICE",
        "ts": "1800000100.000100",
        "text": f"<@{BOT_USER}> what is a waypoint?",
    }
    body = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0MESHBOT",
        "type": "event_callback",
        "event_id": "EvSOCK1",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }
    envelope_id = socket.deliver("events_api", body)
    socket.wait_ack(envelope_id)
    posted = slack.wait_method("chat.postMessage", before + 1)[before]
    assert posted.body["channel"] == "CSOCK" and posted.body["thread_ts"] == "1800000100.000100"


def test_interactive_envelope_is_acked(server: Server, doubles: tuple[SlackDouble, SocketDouble]) -> None:
    slack, socket = doubles
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "UALICE"},
        "api_app_id": "A0MESHBOT",
        "container": {"type": "message", "channel_id": "CSOCK", "is_ephemeral": True},
        "channel": {"id": "CSOCK"},
        "response_url": slack.response_url("sock2"),
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": "explain#0", "value": json.dumps({"kb": "nope", "lang": "en"})}],
    }
    envelope_id = socket.deliver("interactive", payload)
    ack, _ = socket.wait_ack(envelope_id)
    assert ack["envelope_id"] == envelope_id
    answer = slack.wait_for(lambda calls: [c for c in calls if c.method == "response_url" and c.body["_to"] == "sock2"])
    assert "nope" in answer[0].text()  # "no explanation is stored for `nope`"


def test_dropped_connection_is_reopened(server: Server, doubles: tuple[SlackDouble, SocketDouble]) -> None:
    slack, socket = doubles
    opened = len(slack.of("apps.connections.open"))
    socket.disconnect()
    slack.wait_method("apps.connections.open", opened + 1, timeout=20)
    socket.wait_connected()
    deadline = time.monotonic() + 10
    while status_of(server, "/readyz") != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_of(server, "/readyz") == 200


def test_a_redelivered_events_api_envelope_is_acked_and_answered_once(
    server: Server, doubles: tuple[SlackDouble, SocketDouble]
) -> None:
    slack, socket = doubles
    event = {
        "type": "app_mention",
        "channel": "CSOCKRE",
        "user": "UALICE",
        "ts": "1800000200.000100",
        "text": f"<@{BOT_USER}> what is ztunnel?",
    }
    body = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0MESHBOT",
        "type": "event_callback",
        "event_id": "EvSOCKRETRY",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }
    # Slack redelivers an envelope it saw no ack for: a new envelope_id, the same event_id.
    for envelope_id in [socket.deliver("events_api", body) for _ in range(3)]:
        socket.wait_ack(envelope_id)
    slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.body.get("channel") == "CSOCKRE"]
    )
    time.sleep(1.0)  # a second answer would be on its way by now
    assert len([c for c in slack.of("chat.postMessage") if c.body.get("channel") == "CSOCKRE"]) == 1
