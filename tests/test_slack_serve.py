"""`meshbot serve` as a process: one clear line for bad settings, and a graceful stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.slack.serve import Server
from cluster.snapshot import Snapshot
from tests.slack_double import SIGNING_SECRET, SlackDouble, post_signed, slash_form

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))}
    env.update(extra)
    return env


def serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--mode", "socket"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "serve --mode socket needs SLACK_APP_TOKEN (xapp-"),
        (["--mode", "http"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "serve --mode http needs SLACK_SIGNING_SECRET"),
        (["--mode", "http"], {}, "needs SLACK_BOT_TOKEN"),
        (["--mode", "socket"], {"SLACK_BOT_TOKEN": "xoxp-user-token"}, "a bot token starts with xoxb-"),
        (["--mode", "socket"], {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "starts with xapp-"),
        (
            ["--mode", "http"],
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "MESHBOT_CLUSTER_CHANNELS": ""},
            "Slack API",
        ),
    ],
)
def test_bad_settings_stop_with_one_clear_line(
    args: list[str], env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    env = clean_env(MESHBOT_SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/", **env)
    env["MESHBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'meshbot.sqlite'}"
    result = serve(*args, env=env)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_a_token_slack_rejects_is_one_clear_line(slack: SlackDouble, tmp_path: Path) -> None:
    env = clean_env(
        MESHBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'meshbot.sqlite'}",
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="s",
        MESHBOT_SLACK_API_URL=slack.api_url,
    )
    result = serve("--mode", "http", "--port", "0", env=env)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "meshbot: Slack rejected SLACK_BOT_TOKEN (invalid_auth); copy the Bot User OAuth Token (xoxb-…)"
    )


def test_sigterm_stops_gracefully_after_answering(slack: SlackDouble, tmp_path: Path) -> None:
    env = clean_env(
        MESHBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'meshbot.sqlite'}",
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MESHBOT_SLACK_API_URL=slack.api_url,
        MESHBOT_HOST="127.0.0.1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--mode", "http", "--port", "0"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "meshbot serving (http mode) on http://127.0.0.1:" in line, line
        port = int(line.rsplit(":", 1)[1])
        status, _ = post_signed(f"http://127.0.0.1:{port}/slack/events", slash_form(slack, "help", response="term1"))
        assert status == 200
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - started < 25
        assert "meshbot stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    answered = [c for c in slack.of("response_url") if c.body["_to"] == "term1"]
    assert answered, "the command acked before SIGTERM was never answered"


def slow_reader(seconds: float) -> Callable[[], Snapshot]:
    """The demo cluster, read slowly: a cluster read still in flight when SIGTERM arrives."""
    from cluster.demo import DEMO_PATH
    from cluster.dump import read_dump

    def read() -> Snapshot:
        time.sleep(seconds)
        return read_dump(DEMO_PATH)

    return read


@pytest.mark.parametrize(("grace", "delivered"), [(10.0, True), (0.2, False)])
def test_stop_delivers_answers_in_flight_within_the_grace_period(
    slack: SlackDouble, grace: float, delivered: bool
) -> None:
    settings = Settings(
        slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url
    )
    server = Server(settings, "http", read_cluster=slow_reader(1.0), host="127.0.0.1", port=0)
    server.start()
    name = f"drain-{grace}"
    status, _ = post_signed(f"http://127.0.0.1:{server.port}/slack/events", slash_form(slack, "status", response=name))
    assert status == 200
    started = time.monotonic()
    assert server.stop(grace=grace) is delivered
    answered = [c for c in slack.of("response_url") if c.body["_to"] == name]
    if delivered:
        assert answered and "payments" in answered[0].text()  # delivered before stop() returned
        assert time.monotonic() - started < 5
    else:
        assert not answered  # stop() gave up waiting; the work thread still finishes before the process exits
        slack.wait_for(lambda calls: [c for c in calls if c.method == "response_url" and c.body["_to"] == name])
