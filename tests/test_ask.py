"""`ask`: the search engine on a small fixture, and the command end to end on the bundled knowledge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from handlers.ask import MAX_QUESTION
from knowledge import KnowledgeBase, load
from knowledge.search import Index, index_for, language_of, search
from knowledge.text import strip_junk

KB_MIN = Path(__file__).with_name("fixtures") / "kb_min"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load(KB_MIN)


def ask_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["ask", *argv, "--output", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


# --- the engine, on the fixture -------------------------------------------------------------


def test_language_is_korean_only_with_hangul() -> None:
    assert language_of("ambient에서 EnvoyFilter 돼?") == "ko"
    assert language_of("EnvoyFilter in ambient?") == "en"
    assert language_of("1.24?") == "en"
    assert language_of("ㅠㅠ") == "ko"  # jamo only


def test_korean_and_english_find_the_same_entry(kb: KnowledgeBase) -> None:
    for question in ("엔보이필터를 앰비언트에서 쓸 수 있나", "is envoy filter usable with ambient mode"):
        result = search(kb, question)
        assert result.found, question
        assert result.best is not None and result.best.entry_id == "envoyfilter-ambient"


def test_synonyms_bridge_languages(kb: KnowledgeBase) -> None:
    result = search(kb, "상호 TLS 강제하려면")  # the fixture's entry says mTLS, not 상호 TLS
    assert result.found and result.best is not None and result.best.entry_id == "mtls-strict"


def test_typo_is_forgiven(kb: KnowledgeBase) -> None:
    result = search(kb, "how to deploy a waypiont")
    assert result.found and result.best is not None and result.best.entry_id == "waypoint-deploy"


def test_out_of_scope_is_refused(kb: KnowledgeBase) -> None:
    for question, reason in (
        ("What's the weather in Seoul?", "off-topic"),
        ("kafka 파티션 늘리는 법", "off-topic"),
        ("how to bake bread", "no-domain"),
    ):
        result = search(kb, question)
        assert not result.found and result.refusal == reason, question
        assert result.best is None and result.see_also() == []


def test_another_mesh_is_refused_even_with_a_mesh_word(kb: KnowledgeBase) -> None:
    result = search(kb, "istio ambient vs linkerd")
    assert not result.found and result.refusal == "off-topic"
    assert search(kb, "istio ambient envoyfilter").found  # the same question without linkerd is ours


def test_two_weak_terms_without_a_strong_one_still_count(kb: KnowledgeBase) -> None:
    # l7 and strict are weak in the fixture vocabulary: together they mark the mesh domain
    assert search(kb, "strict l7").found
    assert not search(kb, "strict").found


def test_index_is_built_once_per_knowledge_base(kb: KnowledgeBase) -> None:
    assert index_for(kb) is index_for(kb)
    other = load(KB_MIN)
    assert index_for(other) is not index_for(kb)


def test_matches_are_ranked_with_scores(kb: KnowledgeBase) -> None:
    result = Index(kb).search("waypoint L7 ambient")
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert result.matches[0].entry_id == "waypoint-deploy"


def test_strip_junk_counts_control_and_surrogates() -> None:
    assert strip_junk("a\x00b\udcff c\n") == ("a b c", 2)


# --- the command, on the bundled knowledge --------------------------------------------------


def test_must_show_envoyfilter_in_korean(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = ask_json(capsys, "ambient에서 EnvoyFilter 써도 돼?")
    assert code == 0
    assert {"found", "answer", "sources", "language", "short", "confidence", "units"} <= set(data)
    assert data["found"] is True and data["language"] == "ko"
    assert isinstance(data["sources"], list) and data["sources"][0] == "ambient-envoyfilter"
    answer = str(data["answer"])
    assert answer.startswith("아니요") and "WasmPlugin" in answer  # the answer first, then how
    assert len(answer) < 600  # a few lines, not the whole page


def test_must_show_weather_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = ask_json(capsys, "What's the weather in Seoul?")
    assert code == 0
    assert {k: data[k] for k in ("found", "sources", "language")} == {"found": False, "sources": [], "language": "en"}
    assert "does not cover" in str(data["answer"]) and "help" in str(data["answer"])


def test_not_found_answers_in_korean(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = ask_json(capsys, "kafka 파티션 늘리는 법")
    assert data["found"] is False and data["language"] == "ko"
    assert "다루지 않는" in str(data["answer"])


def test_see_also_is_cited(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = ask_json(capsys, "ambient에서 EnvoyFilter 써도 돼?")
    sources = data["sources"]
    assert isinstance(sources, list)
    for extra in sources[1:]:
        assert f"({extra})" in str(data["answer"])


def test_text_output_has_title_body_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "how", "do", "I", "roll", "back", "from", "ambient", "to", "sidecar?"]) == 0
    out = capsys.readouterr().out
    assert "migration-rollback" in out and "Source" in out


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_empty_question_is_a_clear_error(question: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", question]) == 2
    captured = capsys.readouterr()
    assert "Ask a question" in captured.err and "Traceback" not in captured.err + captured.out


def test_no_question_at_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask"]) == 2
    assert "Ask a question" in capsys.readouterr().err


def test_ten_thousand_characters_are_truncated_and_answered(capsys: pytest.CaptureFixture[str]) -> None:
    question = ("ambient에서 EnvoyFilter 써도 돼? " * 500)[:10_000]
    code, data = ask_json(capsys, question)
    assert code == 0 and data["found"] is True and data["language"] == "ko"
    assert f"{MAX_QUESTION}자" in str(data["answer"]) and "10000" in str(data["answer"])


@pytest.mark.parametrize("junk", ["\x00\x01\x02\x03\x04", "\udcff\udcfe\udcfd", "\x1b[31m\x07\x08\x7f\x1b"])
def test_binary_junk_is_a_clear_error(junk: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", junk, "--output", "json"])
    out = capsys.readouterr().out
    assert code == 2
    assert "no readable words" in json.loads(out)["error"]


def test_control_characters_inside_a_real_question_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = ask_json(capsys, "EnvoyFilter\x00 in ambient\x07?")
    assert code == 0 and data["found"] is True and data["sources"][0] == "ambient-envoyfilter"  # type: ignore[index]


def test_subprocess_meshbot_ask() -> None:
    bindir = Path(sys.executable).parent
    proc = subprocess.run(
        [str(bindir / "meshbot"), "ask", "ambient에서 EnvoyFilter 써도 돼?", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["found"] is True and data["language"] == "ko" and "WasmPlugin" in data["answer"]
