"""`meshbot demo [--lang ko]`: what meshbot is, one narrated step per question, pasteable commands, what next;
under 100 lines in both languages, as a fresh user runs it (a new process, piped, no Slack, no cluster)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^(\d)/(\d) (.+)$")


@cache
def demo(lang: str, cols: int) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "MESHBOT_LANGUAGE")}
    env["COLUMNS"] = str(cols)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--lang", lang], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 0, done.stderr
    assert not done.stderr
    return done.stdout


@pytest.mark.parametrize("cols", [80, 120])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_tour_is_short_narrated_and_ends_with_what_next(lang: str, cols: int) -> None:
    out = demo(lang, cols)
    lines = out.splitlines()
    assert len(lines) < 100, len(lines)
    assert "\x1b" not in out  # piped: plain text
    intro = " ".join(lines[:8])
    assert ("Istio" in intro and "sidecar" in intro and "ambient" in intro) and "$ meshbot" not in intro
    steps = [m for line in lines if (m := STEP.match(line))]
    assert len(steps) == int(steps[0].group(2)) >= 6  # every step narrated in one line
    for step in steps:  # the narration is the question it answers
        assert step.group(3).rstrip().endswith(("?", ":"))
    commands = [line for line in lines if line.startswith("$ meshbot ")]
    assert len(commands) == len(steps)
    assert ("What next" if lang == "en" else "다음에 할 일") in out
    for needle in ("--kubeconfig", "bot/slack/manifest.yaml", "--output markdown"):
        assert needle in out  # your cluster, Slack, CI
    if lang == "ko":
        assert re.search("[가-힣]", out) and "Each step below" not in out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_command_of_the_tour_pastes_and_runs(lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    for line in demo(lang, 120).splitlines():
        if not line.startswith("$ meshbot "):
            continue
        words = shlex.split(line[2:])  # what bash or zsh makes of the pasted line
        if "?" in line:
            assert re.search(r"'[^']*\?[^']*'", line), f"unquoted ? breaks zsh: {line}"
        assert main(words[1:]) == 0, line
        assert capsys.readouterr().out.strip()
