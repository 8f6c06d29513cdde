"""What people expect of a command-line tool: --version, help that shows every flag with an example, a
description for every command, --lang everywhere, exit 2 for an unknown help topic, shell completion."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.cli_conventions import subparsers
from handlers.help import flag_help

ROOT = Path(__file__).resolve().parents[1]


def commands() -> dict[str, argparse.ArgumentParser]:
    parser, _ = build_parser()
    return dict(subparsers(parser).choices)


def flags(parser: argparse.ArgumentParser) -> list[str]:
    return [max(a.option_strings, key=len) for a in parser._actions if a.option_strings and a.dest != "help"]


def test_version_both_ways(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"meshbot {version('meshbot')}"
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"meshbot {version('meshbot')}"


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_has_a_description_flags_and_an_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", name]) == 0
    shown = capsys.readouterr().out
    sub = commands()[name]
    assert sub.description and sub.description in " ".join(shown.split())
    for flag in flags(sub):
        assert flag in shown, f"{name}: {flag} missing from help"
    assert "--lang" in flags(sub)  # every command takes --lang
    example = re.search(r"example:\n  (meshbot .+)", shown)
    assert example, shown
    with pytest.raises(SystemExit) as exit_:  # `COMMAND --help` shows the same
        main([name, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == shown


@pytest.mark.parametrize("name", ["precheck", "status", "ask", "limits", "advise", "digest", "demo"])
def test_the_examples_parse(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", name]) == 0
    example = re.search(r"example:\n  meshbot (.+)", capsys.readouterr().out)
    assert example
    import shlex

    parser, _ = build_parser()
    parsed = parser.parse_args(shlex.split(example.group(1)))
    assert parsed.command == name


def test_help_lists_every_command_with_a_description_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    for lang, marker in (("en", "In the terminal"), ("ko", "터미널 전용")):
        assert main(["help", "--lang", lang]) == 0
        out = capsys.readouterr().out
        assert marker in out
        for name in commands():
            assert re.search(rf"^{name}\b", out, re.M), f"{name} missing from `help --lang {lang}`"
    assert main(["help", "demo", "--lang", "ko"]) == 0
    assert "둘러봅니다" in capsys.readouterr().out


def test_unknown_help_topic_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "precheck" in err and "Traceback" not in err


def test_ask_honours_lang(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["ask", "ambient에서 EnvoyFilter 써도 돼?", "--lang", "en", "--output", "json"]) == 0
    english = json.loads(capsys.readouterr().out)
    assert english["language"] == "en" and english["found"] and not re.search("[가-힣]", english["answer"])
    assert main(["ask", "can I use an EnvoyFilter in ambient?", "--lang", "ko", "--output", "json"]) == 0
    korean = json.loads(capsys.readouterr().out)
    assert korean["language"] == "ko" and korean["sources"] == english["sources"]
    assert main(["ask", "ambient에서 EnvoyFilter 써도 돼?", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["language"] == "ko"  # without --lang: the question's language


def completion(shell: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "completion", shell], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout


def test_bash_completion_completes_commands_and_flags(tmp_path: Path) -> None:
    script = tmp_path / "meshbot.bash"
    script.write_text(completion("bash"), encoding="utf-8")

    def complete(*words: str) -> set[str]:
        line = " ".join(["meshbot", *words])
        probe = (
            f"source {script}; COMP_WORDS=(meshbot {' '.join(words)}); COMP_CWORD={len(words)};"
            f" COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _shtab_meshbot; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        )
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
        return {w.strip() for w in done.stdout.split()}

    assert "precheck" in complete("pre")
    assert {"--fail-on", "--from-file"} <= complete("precheck", "--f")
    assert {"bash", "zsh"} <= complete("completion", "")


def test_zsh_completion_names_every_command() -> None:
    script = completion("zsh")
    assert script.startswith("#compdef meshbot")
    for name in commands():
        assert re.search(rf"\b{name}\b", script), name
    assert "--fail-on" in script and "--dry-run" in script


def test_the_readme_quotes_what_bare_serve_says() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == 3
    said = done.stderr.strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"$ meshbot serve\n{said}\n" in readme


@pytest.mark.parametrize("name", ["limits", "checklist", "advise", "completion", "demo", "digest", "migrate"])
def test_help_in_korean_explains_every_flag_in_korean(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", name, "--lang", "ko"]) == 0
    shown = capsys.readouterr().out
    sub = commands()[name]
    assert re.search("[가-힣]", sub.description or "") is None  # the parser itself stays English
    assert "이 도움말을 보여 주고 끝냅니다" in shown
    flat = " ".join(shown.split())
    for action in sub._actions:
        korean = flag_help(name, action.dest, "ko")
        assert korean and re.search("[가-힣]", korean), f"{name} {action.dest}: no Korean help"
        assert " ".join(korean.split()) in flat


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_help_topic_in_slack_lists_the_arguments(lang: str) -> None:
    """`/mesh help precheck` (the handler every surface shares) shows each argument, not one line."""
    from handlers.context import Context
    from handlers.dispatch import Pipeline
    from knowledge import default

    reply = Pipeline().run_words("help", ["precheck"], Context(kb=default(), language=lang))  # type: ignore[arg-type]
    (arguments,) = [s.table for s in reply.sections if s.table is not None and len(s.table.rows) == 2]
    assert [row[0] for row in arguments.rows] == ["NAMESPACE", "--fail-on"]
    assert all(bool(re.search("[가-힣]", row[1])) == (lang == "ko") for row in arguments.rows)
