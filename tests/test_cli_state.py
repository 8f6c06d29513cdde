"""The CLI's store lives in the user's data directory (or MESHBOT_DATABASE_URL), never in the working
directory; a subscription made in the terminal says who runs it; --dry-run previews posts without Slack."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "cluster" / "demo")


def fresh_env(tmp_path: Path) -> dict[str, str]:
    """A user with a home of their own and no meshbot settings: no store URL, no Slack token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MESHBOT_", "SLACK_"))}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"))
    env["COLUMNS"] = "400"  # long temporary paths stay on one line
    return env


def meshbot(cwd: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_commands_write_nothing_in_the_working_directory(tmp_path: Path) -> None:
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    env = fresh_env(tmp_path)
    env["PYTHONPATH"] = str(ROOT)  # run from an unrelated directory, as a user would
    runs = [
        ("digest", "list"),
        ("digest", "subscribe", "#mesh-ops", "@daily", "payments"),
        ("digest", "now", "--dry-run", "--channel", "C1", "--from-file", DEMO),
        ("migrate", "status", "payments"),
        ("migrate", "start", "payments", "--dry-run", "--from-file", DEMO),
        ("precheck", "--from-file", DEMO),
        ("ask", "what is ambient mode?"),
    ]
    for argv in runs:
        done = meshbot(cwd, env, *argv)
        assert "Traceback" not in done.stderr, (argv, done.stderr)
    assert list(cwd.iterdir()) == []
    store = Path(env["XDG_DATA_HOME"]) / "meshbot" / "meshbot.sqlite"
    assert store.is_file()
    with sqlite3.connect(store) as db:
        (channel, schedule) = db.execute("SELECT channel, schedule FROM digest_subscriptions").fetchone()
        assert (channel, schedule) == ("#mesh-ops", "@daily")
        assert db.execute("SELECT count(*) FROM digest_runs").fetchone() == (0,)  # a dry run records nothing
        assert db.execute("SELECT count(*) FROM migrations").fetchone() == (0,)


def test_database_url_wins(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    chosen = tmp_path / "chosen.sqlite"
    env["MESHBOT_DATABASE_URL"] = f"sqlite:///{chosen}"
    done = meshbot(ROOT, env, "digest", "subscribe", "#ops", "@daily")
    assert done.returncode == 0, done.stderr
    assert chosen.is_file() and not (Path(env["XDG_DATA_HOME"]) / "meshbot").exists()
    assert str(chosen) in " ".join(done.stdout.split())


def test_a_terminal_subscription_says_who_runs_it_and_where_it_is(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    for lang, words in (("en", ("meshbot serve", "meshbot scheduler", "MESHBOT_DATABASE_URL")), ("ko", ("저장소",))):
        done = meshbot(tmp_path, env, "digest", "subscribe", "#ops", "@daily", "--lang", lang)
        assert done.returncode == 0, done.stderr
        text = " ".join(done.stdout.split())
        assert all(w in text for w in words), text
        assert str(Path(env["XDG_DATA_HOME"]) / "meshbot" / "meshbot.sqlite") in text


def test_digest_dry_run_is_block_kit_without_slack(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    done = meshbot(tmp_path, env, "digest", "now", "--dry-run", "--channel", "C1", "--from-file", DEMO, "-o", "json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["channel"] == "C1" and payload["text"]
    assert payload["blocks"][0]["type"] == "header" and len(payload["blocks"]) <= 50
    assert all(block["type"] in {"header", "section", "context", "divider", "actions"} for block in payload["blocks"])
    text = meshbot(tmp_path, env, "digest", "now", "--dry-run", "--from-file", DEMO)
    assert text.returncode == 0 and "Nothing was posted" in text.stdout and "Namespaces by mode" in text.stdout
    real = meshbot(tmp_path, env, "digest", "now", "--channel", "C1", "--from-file", DEMO)
    assert real.returncode == 4  # without --dry-run it needs Slack, and says so
    assert "SLACK_BOT_TOKEN" in real.stderr + real.stdout


def test_migrate_start_dry_run_shows_the_thread_root(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    done = meshbot(tmp_path, env, "migrate", "start", "orders", "--dry-run", "--from-file", DEMO, "-o", "json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    texts = json.dumps(payload["blocks"], ensure_ascii=False)
    assert "orders" in payload["blocks"][0]["text"]["text"] and "kubectl" in texts


def test_a_store_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    env["MESHBOT_DATABASE_URL"] = f"sqlite:///{blocker / 'sub' / 'meshbot.sqlite'}"  # its folder cannot exist
    done = meshbot(tmp_path, env, "digest", "list")
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "cannot open the store" in done.stderr
