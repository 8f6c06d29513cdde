"""The answer engine: direct answers from units, numbers computed, several questions, scope, memory, cache."""

from __future__ import annotations

import json
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import knowledge
from bot.store import ConversationTurn, Store, StoreConversations
from handlers import Context, run_text
from handlers.ports import Turn
from knowledge.answers import cache
from knowledge.answers.engine import engine_for
from knowledge.answers.understand import near_miss, numbers_of, split, understand
from knowledge.base import DATA_DIR, KnowledgeError, load


def ask(question: str, **ctx: object) -> dict[str, object]:
    reply = run_text("ask", [question], Context(kb=knowledge.default(), **ctx))  # type: ignore[arg-type]
    return reply.data


def test_a_yes_no_question_gets_the_answer_in_its_first_words() -> None:
    data = ask("Can I use EnvoyFilter in ambient?")
    answer = str(data["answer"])
    assert answer.startswith("No") and "WasmPlugin" in answer
    assert data["short"] and str(data["short"]) in answer.split("\n")[0]
    assert data["units"] and data["sources"][0] == "ambient-envoyfilter"  # type: ignore[index]


def test_sources_name_the_guide_section_or_upstream_page() -> None:
    refs = ask("ztunnel은 노드마다 메모리를 얼마나 써?")["references"]
    assert any("가이드" in r or r.startswith("https://") for r in refs)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We have 4000 pods on 40 nodes", {"pods": 4000, "nodes": 40}),
        ("파드 500개 사이드카면", {"pods": 500}),
        ("1000파드/10노드면", {"pods": 1000, "nodes": 10}),
        ("노드 10개에 노드당 파드 40개씩", {"pods": 400, "nodes": 10}),
        ("3 waypoints and 2k pods", {"pods": 2000, "waypoints": 3}),
        ("파드 500개 노드 20대", {"pods": 500, "nodes": 20}),  # the 500 is the pods', not the nodes'
        ("350 sidecar pods at chart defaults", {"pods": 350}),
    ],
)
def test_numbers_are_read_from_the_question(text: str, expected: dict[str, int]) -> None:
    assert numbers_of(text) == expected


def test_a_resource_estimate_is_computed_on_both_bases() -> None:
    answer = str(ask("We have 4000 pods on 40 nodes: how much memory would sidecars vs ambient take?")["answer"])
    # the guide's observed figures: 80 MB per sidecar, 50 MB per ztunnel; chart requests: 128 Mi, 512 Mi
    assert "320,000 MB" in answer and "2,000 MB" in answer
    assert "512,000 Mi" in answer and "20,480 Mi" in answer
    assert "observed" in answer and "request" in answer  # each total says which basis it is


def test_an_estimate_computes_cpu_beside_memory() -> None:
    answer = str(ask("4 waypoints with chart defaults - total requests and limits?")["answer"])
    # chart defaults per waypoint: requests 128 Mi / 100m, limits 1 Gi / 2 CPUs
    assert "512 Mi" in answer and "400m" in answer
    assert "4,096 Mi" in answer and "8,000m" in answer


@pytest.mark.parametrize(
    ("question", "opening"),
    [
        ("사이드카 없이 mTLS 가능해?", "예"),  # not PeerAuthentication DISABLE's "아니요"
        ("can we get mTLS without any sidecars?", "Yes"),
        ("ztunnel이 HTTP 헤더 보고 라우팅해줘?", "아니요"),
    ],
)
def test_a_yes_no_answer_is_about_the_asked_subject(question: str, opening: str) -> None:
    assert str(ask(question)["answer"]).startswith(opening)


def test_two_questions_in_one_message_are_both_answered() -> None:
    assert len(split("Can I use EnvoyFilter in ambient? And how much memory does ztunnel use per node?")) == 2
    answer = str(ask("Can I use EnvoyFilter in ambient? And how much memory does ztunnel use per node?")["answer"])
    assert answer.startswith("1.") and "\n2." in answer
    assert "WasmPlugin" in answer and "50 MB" in answer  # the guide writes its observed figures in MB


def test_kinds_are_recognised() -> None:
    assert understand("어떤 모드를 골라야 해?").kind == "which-mode"
    assert understand("how do I roll back?").kind == "how-to"
    assert understand("ztunnel 메모리 얼마나 써?").kind == "how-much"


def test_mode_choice_is_in_scope_without_istio() -> None:
    data = ask("우리 팀은 리소스 절감이 제일 중요해. 어떤 모드를 골라야 해?")
    assert data["found"] is True and str(data["answer"]).startswith("Ambient")


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("how do kubernetes native sidecar containers work with restartPolicy: Always?", "native sidecar"),
        ("NetworkPolicy로 네임스페이스 간 트래픽 막는 법", "NetworkPolicy"),
        ("GKE Dataplane V2 설정 어떻게 해?", "CNI"),
        ("how does cilium kube-proxy replacement work?", "CNI"),
        ("helm upgrade --atomic rolled back my release, why?", "Helm"),
        ("헬름 차트 values 덮어쓰는 법", "Helm"),
    ],
)
def test_near_misses_are_refused_saying_what_they_are_about(question: str, subject: str) -> None:
    data = ask(question)
    assert data["found"] is False and subject.lower() in str(data["answer"]).lower()


@pytest.mark.parametrize(
    "question",
    [
        "Linkerd vs Consul which is lighter?",
        "cilium service mesh로 mTLS 하는 법",
        "AWS App Mesh virtual node setup",
        "python list comprehension with if else",
        "내일 서울 날씨 어때?",
        "redis sentinel failover 시간",
    ],
)
def test_clear_non_istio_subjects_are_refused(question: str) -> None:
    data = ask(question)
    assert data["found"] is False and ("Istio" in str(data["answer"]))  # says what it covers


@pytest.mark.parametrize(
    "question",
    [
        "is it safe to run both modes in one cluster?",
        "HBONE 포트 방화벽 열어야 함?",
        "migrate namespace to sidecarless mode",
        "allowedRoutes 설정은 뭐 하는 거야?",  # a unit term that is the mesh's own identifier
        "unknown command tls-check, what replaced it?",
        "different teams want different modes, is that ok?",
    ],
)
def test_mesh_questions_without_the_word_istio_are_answered(question: str) -> None:
    assert ask(question)["found"] is True


@pytest.mark.parametrize(
    "question",
    [
        "install ztunnel with helm",  # Helm, but for Istio's own chart
        "does ambient need a NetworkPolicy that admits port 15008?",
        "can ambient run on top of cilium?",
    ],
)
def test_istio_questions_naming_a_near_miss_subject_are_answered(question: str) -> None:
    assert ask(question)["found"] is True


def test_no_unit_example_question_is_taken_for_a_near_miss() -> None:
    """The out-of-scope list is checked against the units' own phrasings: none of them is refused."""
    kb = knowledge.default()
    refused = [
        (unit.id, q)
        for unit in kb.units.values()
        for q in [*unit.questions.en, *unit.questions.ko]
        if near_miss(q) is not None
    ]
    assert refused == []


@pytest.mark.parametrize(("greeting", "lang"), [("hi", "en"), ("고마워!", "ko"), ("thanks!", "en")])
def test_greetings_get_a_friendly_line_and_three_examples(greeting: str, lang: str) -> None:
    data = ask(greeting)
    assert data["language"] == lang and data["kind"] == "greeting"
    assert str(data["answer"]).count("\n- ") == 3


def test_a_weak_match_says_so_and_offers_closest_topics() -> None:
    engine = engine_for(knowledge.default())
    answer = engine.answer("ambient waypoint sidecar thing maybe stuff")
    if answer.found and answer.confidence < 0.42:
        assert answer.alternatives and "not sure" in answer.text
    else:
        assert answer.found is False or answer.confidence >= 0.42


def test_a_follow_up_uses_the_earlier_turn() -> None:
    memory = MemoryPort()
    first = ask("how much memory does a sidecar use?", channel="D1", conversation=memory)
    assert "80" in str(first["answer"])
    follow = ask("and ztunnel?", channel="D1", conversation=memory)
    assert "ztunnel" in str(follow["answer"]) and "50" in str(follow["answer"])
    alone = ask("and ztunnel?")
    assert alone["answer"] != follow["answer"]


class MemoryPort:
    def __init__(self) -> None:
        self.turns: dict[str, list[Turn]] = {}

    def recall(self, key: str) -> list[Turn]:
        return list(self.turns.get(key, []))

    def remember(self, key: str, turn: Turn) -> None:
        self.turns.setdefault(key, []).append(turn)


def test_the_conversation_store_is_bounded_and_expires(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    memory = StoreConversations(store, ttl_seconds=3600, max_turns=3)
    for n in range(5):
        memory.remember("C1:1", Turn(question=f"q{n}"))
    assert [t.question for t in memory.recall("C1:1")] == ["q2", "q3", "q4"]
    with store.session() as s:
        assert s.query(ConversationTurn).count() == 3  # older turns deleted, not only hidden
        for row in s.query(ConversationTurn):
            row.at = row.at - timedelta(hours=2)
    assert memory.recall("C1:1") == []  # expired
    memory.remember("C2:", Turn(question="new"))
    with store.session() as s:
        assert s.query(ConversationTurn).count() == 1  # expired turns deleted on the next write
    store.close()


def test_a_store_fault_never_breaks_the_answer() -> None:
    class Broken:
        def recall(self, key: str) -> list[Turn]:
            raise RuntimeError("database is gone")

        def remember(self, key: str, turn: Turn) -> None:
            raise RuntimeError("database is gone")

    data = ask("Can I use EnvoyFilter in ambient?", channel="C1", conversation=Broken())
    assert data["found"] is True and str(data["answer"]).startswith("No")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_gets_a_reply_in_the_contract(text: str) -> None:
    reply = run_text("ask", [text], Context(kb=knowledge.default()))
    assert reply.language in ("ko", "en")
    if reply.error:
        assert reply.data.get("error")
    else:
        assert {"found", "answer", "sources", "language"} <= set(reply.data)
        assert isinstance(reply.data["sources"], list)
        json.dumps(reply.data)  # JSON-serialisable, as the CLI prints it


def test_the_cache_is_used_and_follows_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    monkeypatch.setenv("MESHBOT_CACHE_DIR", str(tmp_path / "cache"))
    first = cache.cached_knowledge(data, load)
    files = list((tmp_path / "cache").glob("engine-*.pickle"))
    assert len(files) == 1
    started = time.process_time()
    again = cache.cached_knowledge(data, load)
    assert time.process_time() - started < 1.0 and again is not first  # loaded, not rebuilt in this process
    assert (
        engine_for(again).answer("ztunnel memory per node?").text
        == engine_for(first).answer("ztunnel memory per node?").text
    )
    unit_file = next((data / "units").glob("*.yaml"))
    unit_file.write_text(unit_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    cache.cached_knowledge(data, load)
    assert [p.name for p in (tmp_path / "cache").glob("engine-*.pickle")] != [files[0].name]  # a new key


def test_a_malformed_knowledge_file_is_named_and_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    unit_file = next((data / "units").glob("*.yaml"))
    unit_file.write_text("units: [ {id: broken", encoding="utf-8")
    monkeypatch.setenv("MESHBOT_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(KnowledgeError, match=unit_file.name):
        cache.cached_knowledge(data, load)
    assert not list((tmp_path / "cache").glob("engine-*.pickle"))


def test_an_unusable_cache_dir_only_means_building_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("MESHBOT_CACHE_DIR", str(blocker / "cache"))
    kb = cache.cached_knowledge(DATA_DIR, load)
    assert engine_for(kb).answer("Can I use EnvoyFilter in ambient?").found
