"""`advise`: the seed's decision tree, its conflict rule, and the deciding questions as actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from handlers.advise import ADVISE_NEED, decide, default_rules
from knowledge import KnowledgeBase, load
from knowledge import default as default_kb
from knowledge.schema import AdviceRules, Need

KB_MIN = Path(__file__).with_name("fixtures") / "kb_min"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_kb()


@pytest.fixture(scope="module")
def rules(kb: KnowledgeBase) -> AdviceRules:
    assert kb.advice is not None
    return kb.advice


def needs(kb: KnowledgeBase, *keys: str) -> list[Need]:
    by_key = {n.key: n for n in kb.decision.needs}
    return [by_key[k] for k in keys]


def advise_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["advise", *argv, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("keys", "mode", "waypoint"),
    [
        (("l7",), "sidecar", False),
        (("tracing",), "sidecar", False),
        (("per-pod-metrics",), "sidecar", False),
        (("resource-efficiency",), "ambient", False),
        (("legacy-no-injection",), "ambient", False),
        (("new-build",), "ambient", False),
        # the seed: resource efficiency first -> ambient, and a waypoint where L7 is needed
        (("l7", "resource-efficiency"), "ambient", True),
        (("tracing", "new-build"), "ambient", True),
        # per-pod detail cannot be had in ambient: it keeps the sidecar
        (("per-pod-metrics", "resource-efficiency"), "sidecar", False),
        (("l7", "per-pod-metrics", "new-build"), "sidecar", False),
        # apps that cannot take a sidecar leave only ambient, whatever else is asked
        (("legacy-no-injection", "per-pod-metrics"), "ambient", False),
        (("legacy-no-injection", "l7"), "ambient", True),
    ],
)
def test_decision_rule(kb: KnowledgeBase, rules: AdviceRules, keys: tuple[str, ...], mode: str, waypoint: bool) -> None:
    advice = decide(needs(kb, *keys), rules)
    assert (advice.mode, advice.waypoint) == (mode, waypoint)


def test_unmet_needs_are_stated(kb: KnowledgeBase, rules: AdviceRules) -> None:
    advice = decide(needs(kb, "per-pod-metrics", "resource-efficiency"), rules)
    assert advice.conflict and [n.key for n in advice.unmet] == ["resource-efficiency"]
    advice = decide(needs(kb, "legacy-no-injection", "per-pod-metrics"), rules)
    assert [n.key for n in advice.unmet] == ["per-pod-metrics"]


def test_without_advice_rules_sidecar_needs_are_not_served_by_waypoints() -> None:
    small = load(KB_MIN)
    advice = decide(needs(small, "l7", "resource-efficiency"), default_rules())
    assert advice.mode == "sidecar" and not advice.waypoint


def test_json_contract_and_documented_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = advise_json(capsys, "--need", "l7", "--need", "resource-efficiency")
    assert code == 0
    assert set(data) == {"mode", "needs", "reasons", "waypoint", "questions"}
    assert data["mode"] == "ambient" and data["waypoint"] is True
    assert data["needs"] == ["l7", "resource-efficiency"]
    assert isinstance(data["reasons"], list) and len(data["reasons"]) == 2 and data["questions"] == []
    main(["advise", "--need", "l7,resource-efficiency"])  # comma-separated works too
    text = capsys.readouterr().out
    assert "How conflicts are settled" in text and "waypoint" in text.lower()


def test_korean_reply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--need", "legacy-no-injection", "--lang", "ko"]) == 0
    out = capsys.readouterr().out
    assert "추천: ambient 모드" in out and "이유" in out


def test_no_flags_lists_the_deciding_questions_as_actions(
    kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = advise_json(capsys)
    assert code == 0 and data["mode"] is None and data["needs"] == [] and data["waypoint"] is False
    questions = data["questions"]
    assert isinstance(questions, list)
    assert [q["need"] for q in questions] == [n.key for n in kb.decision.needs]
    from handlers import Context, run_text

    reply = run_text("advise", [], Context(kb=kb, language="ko"))
    assert len(reply.actions) == len(kb.decision.needs)
    first = reply.actions[0]
    assert first.action_id == ADVISE_NEED and first.label == kb.decision.needs[0].question.ko
    assert json.loads(first.value) == {"argv": ["--need", kb.decision.needs[0].key], "lang": "ko", "refine": True}


def test_unknown_need_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--need", "telepathy"]) == 2
    err = capsys.readouterr().err
    assert "Unknown need telepathy" in err and "resource-efficiency" in err and "Traceback" not in err


def test_trade_off_is_spelled_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--need", "per-pod-metrics", "--need", "resource-efficiency", "--lang", "ko"]) == 0
    out = capsys.readouterr().out
    assert "추천: sidecar 모드" in out
    assert "완전히 충족되지 않는 요구: resource-efficiency" in out and "충돌 해결 규칙" in out
