"""Context that surrounds a question or a command: a migration thread, the kernel setting."""

from __future__ import annotations

import json

import pytest

import knowledge
from bot.cli import main
from cluster.demo import DEMO_PATH
from knowledge.search import search


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how do I roll back?", "migration-rollback"),
        ("롤백 어떻게 해?", "migration-rollback"),
    ],
)
def test_a_migration_thread_makes_short_questions_answerable(question: str, expected: str) -> None:
    kb = knowledge.default()
    assert not search(kb, question).found  # alone, one generic word is a Kubernetes question
    result = search(kb, question, mesh_context=True)
    assert result.found and result.best is not None
    assert result.best.entry_id == expected


@pytest.mark.parametrize("question", ["what's the weather in Seoul?", "thanks!", "점심 뭐 먹지?"])
def test_a_migration_thread_does_not_answer_chit_chat(question: str) -> None:
    assert not search(knowledge.default(), question, mesh_context=True).found


def kernel_findings(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["precheck", "--from-file", str(DEMO_PATH), "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    return [f for f in report["cluster"]["findings"] if f["code"] == "kernel-too-old"]


def test_kernel_minimum_comes_from_the_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert kernel_findings(capsys), "the demo cluster has a node on kernel 5.4, below the default 5.8"
    monkeypatch.setenv("MESHBOT_KERNEL_MIN", "5.3")
    assert kernel_findings(capsys) == []


def test_an_unknown_cli_command_gets_the_whole_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrat", "payments"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'migrat'" in err
    assert "precheck" in err and "migrate" in err  # the command list, not only a complaint


def test_a_command_typed_in_korean_is_answered_in_korean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits", "엔보이필터", "--output", "json"]) == 0
    korean = capsys.readouterr().out
    assert main(["limits", "envoyfilter", "--output", "json"]) == 0
    english = capsys.readouterr().out
    assert korean != english and "지원" in korean and "지원" not in english
    assert main(["limits", "엔보이필터", "--lang", "en", "--output", "json"]) == 0
    assert capsys.readouterr().out == english  # --lang wins
