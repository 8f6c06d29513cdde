"""End to end: `meshbot serve --mode http` as a real process; signed slash commands in, /metrics scraped.

Also the log contract of the running bot: one JSON audit line per command, and no token or signing
secret anywhere in what it writes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_double import SIGNING_SECRET, SlackDouble, post_signed, slash_form

FIXTURE = Path(__file__).parent / "fixtures" / "small-cluster.yaml"
BOT_TOKEN = "xoxb-4242424242-4242424242-ScrapeTestTokenValue0000"
COMMANDS = ["help", "status", "status", "mtls"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def wait_until(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, SlackDouble, Path]]:
    slack = SlackDouble(bot_token=BOT_TOKEN).start()
    port = free_port()
    log_path = tmp_path / "meshbot.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MESHBOT_SLACK_API_URL": slack.api_url,
        "MESHBOT_FROM_FILE": str(FIXTURE),
        "MESHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'meshbot.sqlite'}",
        "MESHBOT_PORT": str(port),
        "MESHBOT_LOG_FORMAT": "json",
        "MESHBOT_LOG_LEVEL": "DEBUG",  # the chattiest level: still no secret may appear
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--mode", "http"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_until(lambda: get(base + "/healthz")[0] == 200 or process.poll() is not None, 30)
        assert up and process.poll() is None, log_path.read_text()[-3000:]
        yield base, slack, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        slack.stop()


def counted(body: str) -> dict[tuple[str, str], float]:
    return {
        (s.labels["command"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "meshbot_commands_total"
    }


def test_commands_show_up_on_metrics_and_in_the_audit_log(served: tuple[str, SlackDouble, Path]) -> None:
    base, slack, log_path = served
    status, body = get(base + "/metrics")
    assert status == 200 and "meshbot_leader" in body
    assert counted(body) == {}  # a fresh process has counted nothing

    for n, text in enumerate(COMMANDS):
        code, _ = post_signed(base + "/slack/events", slash_form(slack, text, response=f"r{n}"))
        assert code == 200, text

    def all_counted() -> bool:
        seen = counted(get(base + "/metrics")[1])
        return sum(seen.values()) >= len(COMMANDS)

    assert wait_until(all_counted, 20), get(base + "/metrics")[1]
    seen = counted(get(base + "/metrics")[1])
    # the fixture cluster answers every one of them: counted by name, all with outcome "ok"
    assert seen == {("help", "ok"): 1, ("status", "ok"): 2, ("mtls", "ok"): 1}
    latency = [
        s
        for family in text_string_to_metric_families(get(base + "/metrics")[1])
        for s in family.samples
        if s.name == "meshbot_command_duration_seconds_count" and s.labels["command"] == "status"
    ]
    assert [s.value for s in latency] == [2]

    # A forged request is refused and counts nothing.
    code, _ = post_signed(base + "/slack/events", slash_form(slack, "status"), secret="0" * 32)
    assert code == 401
    time.sleep(0.3)
    assert sum(counted(get(base + "/metrics")[1]).values()) == len(COMMANDS)

    written = log_path.read_text()
    audits = []
    for line in written.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("audit"):
                audits.append(record)
    assert sorted(a["command"] for a in audits) == sorted(COMMANDS)
    assert {(a["user"], a["channel"]) for a in audits} == {("UALICE", "CALLOWED")}
    assert {a["outcome"] for a in audits} == {"ok"}
    assert BOT_TOKEN not in written and SIGNING_SECRET not in written
