"""Helpers for digest/migration tests: the bot's environment, and `meshbot` processes to start and kill."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from slack_double import Call, SlackDouble

ROOT = Path(__file__).resolve().parents[1]


def bot_env(slack: SlackDouble, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESHBOT_", "SLACK_"))}
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        MESHBOT_SLACK_API_URL=slack.api_url,
        MESHBOT_DATABASE_URL=f"sqlite:///{db}",
        MESHBOT_LOG_FORMAT="text",
        MESHBOT_SLACK_BACKOFF="0.05",
        MESHBOT_MIN_DIGEST_INTERVAL="1",  # the tests run schedules of seconds
        **extra,
    )
    return env


def meshbot(*argv: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Process:
    """A long-running `meshbot …` (scheduler) that a test can wait for, kill -9, or stop."""

    def __init__(self, *argv: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *argv], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=self._out, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "meshbot scheduler ID ready"
        if "ready" not in line:
            self.proc.kill()
            raise AssertionError(f"scheduler did not start: {line!r}\n{log.read_text()}")

    def kill(self) -> None:
        """kill -9: no shutdown handlers, no lease release (a crash)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._out.close()


def digest_calls(slack: SlackDouble, channel: str) -> list[Call]:
    """Digest posts and in-place updates to `channel`, in order."""
    with slack._lock:
        calls = list(slack.calls)
    return [
        c
        for c in calls
        if c.status == 200 and c.method in ("chat.postMessage", "chat.update") and c.body.get("channel") == channel
    ]


def agent(call: Call) -> str:
    """The replica that made the call (its identity is in the user agent)."""
    ua = call.headers.get("user-agent", "")
    return ua.split(" ")[0].removeprefix("meshbot/")


def scheduled_runs(logs: list[Path], job_id: str) -> list[str]:
    """The scheduled times of the runs of `job_id`, across the logs of every replica (APScheduler logs each run)."""
    pattern = re.compile(rf'Running job "{re.escape(job_id)} \(.*\)" \(scheduled at ([^)]+)\)')
    return [m.group(1) for log in logs if log.exists() for m in pattern.finditer(log.read_text())]


def wait_until(predicate: Any, timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")
