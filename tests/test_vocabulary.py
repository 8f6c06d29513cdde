"""General vocabulary behaviours of `ask`: which words mark a mesh question, and how phrasing maps to terms.

Each question here is written for this file (not copied from tests/eval_questions.yaml or the entries),
so these check the vocabulary rules, not a memorised phrasing.
"""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from knowledge import default as default_kb
from knowledge.schema import Term, Vocabulary
from knowledge.search import SearchResult, index_for, search
from knowledge.text import Analyzer


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_kb()


@pytest.fixture(scope="module")
def analyzer(kb: KnowledgeBase) -> Analyzer:
    return index_for(kb).analyzer


def best(result: SearchResult) -> str | None:
    return result.best.entry_id if result.best else None


@pytest.mark.parametrize(
    "question",
    ["istio-cni 데몬셋이 꼭 떠 있어야 해?", "is the istio cni node agent optional", "istio-cni-node crashloop 원인"],
)
def test_istio_cni_alone_is_a_mesh_question(kb: KnowledgeBase, question: str) -> None:
    assert search(kb, question).found, question


def test_bare_cni_alone_is_not_enough(kb: KnowledgeBase) -> None:
    assert search(kb, "which cni plugin is fastest").refusal == "no-domain"


@pytest.mark.parametrize(
    "question",
    [
        "checkout 네임스페이스를 STRICT 로 바꾸려면",
        "PERMISSIVE 상태로 두면 뭐가 위험해?",
        "what does permissive mode let through",
    ],
)
def test_mtls_mode_words_are_mesh_questions(kb: KnowledgeBase, question: str) -> None:
    entry = best(search(kb, question))
    assert entry is not None and entry.startswith("mtls-"), question


@pytest.mark.parametrize("question", ["how to turn on typescript strict mode", "strict mode in my eslint config"])
def test_lower_case_strict_of_other_tools_is_refused(kb: KnowledgeBase, question: str) -> None:
    assert not search(kb, question).found, question


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("our proxy container keeps getting OOMKilled", "sidecar-proxy-resources"),
        ("프록시 컨테이너 cpu 제한 올리는 법", None),
    ],
)
def test_proxy_container_reads_as_sidecar(
    analyzer: Analyzer, kb: KnowledgeBase, question: str, entry: str | None
) -> None:
    assert "sidecar" in analyzer.tokens(question)
    result = search(kb, question)
    assert result.found
    if entry:
        assert best(result) == entry


@pytest.mark.parametrize(
    "question",
    [
        "good wifi mesh router for a two-floor flat",
        "Wi-Fi 메시 공유기 어떤 게 좋아?",
        "blender mesh 폴리곤 수 줄이기",
        "mesh network at home keeps dropping",
        "export a 3d mesh from cad",
    ],
)
def test_mesh_of_other_fields_is_refused(kb: KnowledgeBase, question: str) -> None:
    assert not search(kb, question).found, question


@pytest.mark.parametrize("question", ["service mesh sidecar memory overhead", "서비스 메시 처음 도입할 때 주의할 점"])
def test_service_mesh_is_still_strong(analyzer: Analyzer, kb: KnowledgeBase, question: str) -> None:
    assert set(analyzer.tokens(question)) & analyzer.strong
    assert search(kb, question).found, question


@pytest.mark.parametrize(
    "question",
    [
        "sidecar vs ambient — which differs how?",
        "ambient versus sidecar: how do they differ",
        "사이드카랑 앰비언트 차이점",
    ],
)
def test_comparison_words_reach_the_mode_comparison(kb: KnowledgeBase, question: str) -> None:
    assert best(search(kb, question)) == "mode-comparison", question


def test_vs_is_kept_as_a_comparison_term(analyzer: Analyzer) -> None:
    assert "compare" in analyzer.tokens("sidecar vs ambient")
    # ...while "VS 리소스" still means a VirtualService.
    assert "virtualservice" in analyzer.tokens("VS 리소스 예제")


def test_hyphenated_variant_needs_the_hyphen(analyzer: Analyzer) -> None:
    plain = analyzer.tokens("roll out a waypoint for the payments namespace")
    assert "waypoint" in plain and "waypoint_for" not in plain
    assert "waypoint_for" in analyzer.tokens("set waypoint-for: all on the gateway")
    assert "use_waypoint" in analyzer.tokens("label the ns with use-waypoint")
    assert "use_waypoint" not in analyzer.tokens("should we use waypoint proxies at all")


def test_hyphenated_variant_takes_a_plural(analyzer: Analyzer) -> None:
    assert analyzer.tokens("two side-cars per pod")[0] == "sidecar"


def test_fault_injection_wins_over_outage_wording(analyzer: Analyzer, kb: KnowledgeBase) -> None:
    assert "fault_injection" in analyzer.tokens("앰비언트에서 장애 주입 실험")
    assert "debugging" in analyzer.tokens("앰비언트에서 장애 났는데 어디부터 봐?")
    assert best(search(kb, "ambient 쪽에 장애 났을 때 확인 순서")) == "ambient-troubleshooting"


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("waypoint 리밋 얼마나 줘?", "limit"),
        ("사이드카를 앰비언트로 바꿔도 돼?", "migration"),
        ("어떤 파드가 ambient인지 구분법", "detect"),
        ("앱 컨테이너가 먼저 떠요", "start_order"),
        ("ambient 기능 지원 상태", "feature_status"),
        ("waypoint 배포하려면", "deploy"),
        ("PeerAuthentication 적용 순서", "apply"),
        ("ztunnel 로그 레벨 세팅", "configure"),
        ("sidecar 끌 수 있나", "disable"),
    ],
)
def test_everyday_words_map_to_terms(analyzer: Analyzer, question: str, term: str) -> None:
    assert term in analyzer.tokens(question), analyzer.tokens(question)


def test_support_status_is_not_read_as_unsupported(analyzer: Analyzer) -> None:
    tokens = analyzer.tokens("ambient 지원 상태 정리")
    assert "feature_status" in tokens and "unsupported" not in tokens


def test_korean_job_loanword_is_not_matched_by_a_verb(analyzer: Analyzer) -> None:
    assert "configure" in analyzer.tokens("리소스 얼마로 잡아요")


@pytest.mark.parametrize(
    "question", ["IST0123 경고 의미", "ist0167 what now", "sidecar.istio.io/inject false 는 어디에"]
)
def test_istio_codes_and_label_keys_are_mesh_questions(kb: KnowledgeBase, question: str) -> None:
    assert search(kb, question).refusal != "no-domain", question


def test_port_level_mtls_keeps_the_mtls_signal(analyzer: Analyzer, kb: KnowledgeBase) -> None:
    assert "portlevelmtls" in analyzer.tokens("portLevelMtls for the metrics port")
    assert best(search(kb, "portLevelMtls 로 metrics 포트만 풀어주기")) == "mtls-port-exception"


def test_encryption_needs_service_to_service_traffic(kb: KnowledgeBase) -> None:
    assert best(search(kb, "서비스 사이 트래픽이 암호화되는지 확인")) == "mtls-status-check"
    assert best(search(kb, "are calls between microservices encrypted")) == "mtls-status-check"
    assert not search(kb, "how to encrypt a postgres column").found
    assert not search(kb, "encrypted links between postgres replicas").found


def test_gradual_rollout_of_a_deployment_is_not_a_mesh_question(kb: KnowledgeBase) -> None:
    assert search(kb, "gradual rollout of a k8s deployment, then roll back").refusal == "no-domain"


def test_mode_in_the_title_breaks_a_tie(kb: KnowledgeBase) -> None:
    assert best(search(kb, "explain the sidecar architecture to a new hire")) == "sidecar-architecture"
    ambient = best(search(kb, "ambient architecture for a new hire, ztunnel per node?"))
    assert ambient in {"ambient-architecture", "ambient-architecture-detail"}


def test_onboarding_a_namespace_enables_ambient(kb: KnowledgeBase) -> None:
    assert best(search(kb, "how do we onboard the billing namespace to ambient")) == "ambient-enable"


def test_gradual_mutual_tls_is_the_mtls_steps(kb: KnowledgeBase) -> None:
    assert best(search(kb, "상호 TLS 점진적으로 켜는 순서")) == "mtls-migration-steps"


def test_strong_patterns_must_compile() -> None:
    with pytest.raises(ValueError, match="not a regex"):
        Vocabulary(terms=[Term(term="istio", domain="strong")], strong_patterns=["(unclosed"])


def test_capitalised_mode_value_is_a_strong_pattern(analyzer: Analyzer) -> None:
    assert analyzer.names_strong_pattern("STRICT로 바꾸기")
    assert not analyzer.names_strong_pattern("strict 하게 리뷰해줘")
