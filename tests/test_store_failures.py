"""A store that cannot open stops `serve`, `scheduler` and the CLI with one clear line and an exit code: an empty
(zero-length) SQLite file, a damaged one, a PostgreSQL that refuses; never a password, never a traceback loop."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.store import Store, StoreError, mask, safe_url
from tests.slack_double import SIGNING_SECRET, SlackDouble

ROOT = Path(__file__).resolve().parents[1]
EXIT_CONFIG = 3


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def bot_env(slack: SlackDouble, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))}
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MESHBOT_SLACK_API_URL=slack.api_url,
        MESHBOT_DATABASE_URL=url,
        MESHBOT_LOG_FORMAT="text",
    )
    return env


def damaged(path: Path) -> Path:
    """A real store whose pages were overwritten in the middle (a disk or copy gone wrong)."""
    store = Store(f"sqlite:///{path}")
    for n in range(300):
        store.audit(user=f"U{n}", channel="C", command="digest list " * 20, outcome="ok")
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, min(len(data), 4096 * 6), 7):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    return path


COMMANDS = [("serve", "--mode", "http", "--port", "0"), ("scheduler",), ("digest", "list")]


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS, ids=["serve", "scheduler", "cli"])
def test_an_empty_sqlite_file_is_reported_not_started_empty(argv: Any, slack: SlackDouble, tmp_path: Path) -> None:
    path = tmp_path / "meshbot.sqlite"
    path.touch()
    result = run(*argv, env=bot_env(slack, f"sqlite:///{path}"))
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip().splitlines() == [
        f"meshbot: the SQLite store {path} is an empty file (0 bytes), not a meshbot database: "
        "restore it from a backup, or delete it to start with an empty store"
    ]
    assert path.stat().st_size == 0  # left as found, for whoever looks into it


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS[::2], ids=["serve", "cli"])
def test_a_damaged_sqlite_file_is_one_line_and_an_exit_code(argv: Any, slack: SlackDouble, tmp_path: Path) -> None:
    path = damaged(tmp_path / "meshbot.sqlite")
    result = run(*argv, env=bot_env(slack, f"sqlite:///{path}"))
    assert result.returncode == EXIT_CONFIG, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"meshbot: the SQLite store {path} is damaged (")
    assert lines[0].endswith("restore it from a backup, or recover it with `sqlite3 FILE .recover`")


def test_a_file_that_is_not_a_database_is_one_line(slack: SlackDouble, tmp_path: Path) -> None:
    path = tmp_path / "meshbot.sqlite"
    path.write_text("these are someone's notes, not a database\n" * 200)
    result = run("serve", "--mode", "http", "--port", "0", env=bot_env(slack, f"sqlite:///{path}"))
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip().splitlines() == [
        f"meshbot: cannot open the store sqlite:///{path}: file is not a database"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS[:2], ids=["serve", "scheduler"])
def test_a_database_that_refuses_is_named_without_its_password(
    argv: Any, slack: SlackDouble, postgres: Any, tmp_path: Path
) -> None:
    url = postgres.url("no_such_db").replace("meshbot@", "meshbot:Pa55-w0rd.x@")
    result = run(*argv, env=bot_env(slack, url))
    assert result.returncode == EXIT_CONFIG
    assert "Pa55-w0rd.x" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"meshbot: cannot open the store postgresql+psycopg://meshbot:***@127.0.0.1:{postgres.port}")
    assert 'database "no_such_db" does not exist' in line


def test_masking_covers_the_url_its_password_and_log_lines() -> None:
    url = "postgresql+psycopg://bot:s3cr%40t-pw@db.internal:5432/meshbot"
    assert safe_url(url) == "postgresql+psycopg://bot:***@db.internal:5432/meshbot"
    assert mask(f"could not connect to {url}\nDETAIL: password s3cr@t-pw rejected", url) == (
        "could not connect to postgresql+psycopg://bot:***@db.internal:5432/meshbot"
    )
    assert "s3cr@t-pw" not in mask("password s3cr@t-pw rejected", url)
    assert logs.redact(f"store {url} down") == "store postgresql+psycopg://bot:[REDACTED]@db.internal:5432/meshbot down"


def test_a_store_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.sqlite").touch()
    with pytest.raises(StoreError) as failure:
        Store(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert "\n" not in str(failure.value)
