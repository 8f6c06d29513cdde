"""The knowledge base covers the seed (istio-core-patterns.md) from Quick Reference to the checklists.

One test per seed section: each proves that the entries or the structured tables carry that
section's facts (commands verbatim, every table row, every checklist item), and where ISTIO-FACTS
corrects the seed, that the correction is what the knowledge base says. Part B (mTLS, ambient deep
dive) has its own file, tests/test_knowledge_content_b.py.
"""

from __future__ import annotations

import re

import pytest

import knowledge
from knowledge import Entry, KnowledgeBase

PART_A_IDS = [
    "mode-decision-tree",
    "sidecar-architecture",
    "sidecar-injection",
    "sidecar-proxy-resources",
    "sidecar-scoping",
    "sidecar-startup",
    "ambient-architecture",
    "ambient-enable",
    "mode-comparison",
    "compare-resources",
    "compare-observability",
    "compare-maturity",
    "performance-figures",
    "ambient-limitations",
    "ambient-envoyfilter",
    "ambient-lua-filter",
    "ambient-l7-traffic",
    "ambient-monitoring-limits",
    "ambient-workload-compatibility",
    "ambient-hostnetwork",
    "ambient-init-container-networking",
    "ambient-unsupported-features",
    "ambient-feature-status",
    "ambient-version-requirements",
    "migration-sidecar-to-ambient",
    "migration-gradual",
    "migration-rollback",
    "hybrid-mode",
    "anti-patterns",
    "checklist-sidecar",
    "checklist-ambient",
    "checklist-migration",
]

# Each seed heading (## / ###) in part A's range, and the entry whose source cites it.
SEED_SECTIONS = {
    "Quick Reference": "mode-decision-tree",
    "Sidecar Mode / 아키텍처": "sidecar-architecture",
    "Sidecar Injection 설정": "sidecar-injection",
    "Sidecar 리소스 스코핑": "sidecar-scoping",
    "Ambient Mode / 아키텍처": "ambient-architecture",
    "Ambient 활성화": "ambient-enable",
    "CRITICAL: Sidecar vs Ambient 비교표": "mode-comparison",
    "성능 비교 (실측 기반)": "performance-figures",
    "미지원/제한 기능": "ambient-limitations",
    "모니터링 관점 제한": "ambient-monitoring-limits",
    "워크로드 호환성": "ambient-workload-compatibility",
    "Sidecar → Ambient": "migration-sidecar-to-ambient",
    "Gradual Migration": "migration-gradual",
    "하이브리드 구성": "hybrid-mode",
    "Anti-Patterns": "anti-patterns",
    "체크리스트 / Sidecar Mode": "checklist-sidecar",
    "체크리스트 / Ambient Mode": "checklist-ambient",
    "체크리스트 / 마이그레이션": "checklist-migration",
}

HANGUL = re.compile(r"[가-힣]")
CHECK_NAMES = {
    "istio-version",
    "kernel-version",
    "cni-compatibility",
    "envoyfilter-usage",
    "namespace-labels",
    "sidecars-removed",
    "waypoint-deployed",
    "mtls-verified",
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return knowledge.load()


def body(kb: KnowledgeBase, entry_id: str) -> tuple[str, str]:
    entry = kb.entry(entry_id)
    return entry.body.en, entry.body.ko


def both(kb: KnowledgeBase, entry_id: str) -> str:
    return "\n".join(body(kb, entry_id))


def mine(kb: KnowledgeBase) -> list[Entry]:
    return [kb.entry(i) for i in PART_A_IDS]


# --- shape of part A's entries ---


def test_every_part_a_entry_exists(kb: KnowledgeBase) -> None:
    missing = [i for i in PART_A_IDS if i not in kb.entries]
    assert not missing


def test_entries_are_bilingual_answers_with_varied_questions(kb: KnowledgeBase) -> None:
    for entry in mine(kb):
        assert HANGUL.search(entry.title.ko) and HANGUL.search(entry.body.ko), entry.id
        assert not HANGUL.search(entry.title.en), entry.id
        for lang in ("en", "ko"):
            questions = getattr(entry.questions, lang)
            assert 5 <= len(questions) <= 8, (entry.id, lang)
            assert len(set(questions)) == len(questions), (entry.id, lang)
            text = getattr(entry.body, lang)
            assert 3 <= len(text.strip().splitlines()) <= 45, (entry.id, lang)
            assert text.count("```") % 2 == 0, f"{entry.id} {lang}: unbalanced code fence"
        assert all(HANGUL.search(q) for q in entry.questions.ko), entry.id
        assert entry.tags == [t.lower() for t in entry.tags], entry.id
        assert entry.source.seed and entry.source.upstream and entry.source.version, entry.id


def test_questions_are_specific_to_one_entry(kb: KnowledgeBase) -> None:
    owners: dict[str, set[str]] = {}
    for entry in kb.entries.values():
        for question in [*entry.questions.en, *entry.questions.ko]:
            owners.setdefault(question.strip().lower(), set()).add(entry.id)
    shared = {q: ids for q, ids in owners.items() if len(ids) > 1 and ids & set(PART_A_IDS)}
    assert not shared


@pytest.mark.parametrize(("heading", "entry_id"), SEED_SECTIONS.items())
def test_seed_section_is_cited_by_its_entry(kb: KnowledgeBase, heading: str, entry_id: str) -> None:
    assert heading in (kb.entry(entry_id).source.seed or "")


# --- ## Quick Reference: the decision tree ---


def test_quick_reference_decision_tree(kb: KnowledgeBase) -> None:
    needs = {n.key: n for n in kb.decision.needs}
    assert list(needs) == [
        "l7",
        "tracing",
        "per-pod-metrics",
        "resource-efficiency",
        "legacy-no-injection",
        "new-build",
    ]
    modes = {key: need.mode for key, need in needs.items()}
    assert modes == {
        "l7": "sidecar",
        "tracing": "sidecar",
        "per-pod-metrics": "sidecar",
        "resource-efficiency": "ambient",
        "legacy-no-injection": "ambient",
        "new-build": "ambient",
    }
    with_waypoint = {key for key, need in needs.items() if need.waypoint is not None}
    assert with_waypoint == {"resource-efficiency", "new-build"}
    for need in needs.values():
        assert need.question.en.endswith("?") and need.question.ko.endswith("?"), need.key
    en, ko = body(kb, "mode-decision-tree")
    for branch in [
        "L7 기능 필수",
        "리소스 효율성 우선",
        "L7 필요 시",
        "레거시 앱 (Sidecar 주입 불가)",
        "모니터링 상세도 중요",
    ]:
        assert branch in ko
    assert "신규 구축 + 2026 이후" in ko and "Ambient 권장" in ko
    assert "legacy app" in en and "new build" in en


# --- ## Sidecar Mode ---


def test_sidecar_architecture(kb: KnowledgeBase) -> None:
    text = both(kb, "sidecar-architecture")
    assert "istio-proxy" in text and "Envoy" in text and "mTLS" in text


def test_sidecar_injection_settings(kb: KnowledgeBase) -> None:
    for text in body(kb, "sidecar-injection"):
        assert "istio-injection: enabled" in text
        assert 'sidecar.istio.io/inject: "false"' in text
        assert "istio.io/rev" in text and "istio-injection=disabled" in text
        assert "deprecated" in text
    resources = both(kb, "sidecar-proxy-resources")
    for annotation in [
        'sidecar.istio.io/proxyCPU: "100m"',
        'sidecar.istio.io/proxyMemory: "128Mi"',
        'sidecar.istio.io/proxyCPULimit: "500m"',
        'sidecar.istio.io/proxyMemoryLimit: "512Mi"',
    ]:
        assert annotation in resources
    assert "2000m" in resources and "1024Mi" in resources


def test_sidecar_resource_scoping(kb: KnowledgeBase) -> None:
    for text in body(kb, "sidecar-scoping"):
        for fact in ["kind: Sidecar", "workloadSelector", '"./*"', '"istio-system/*"', "mode: REGISTRY_ONLY"]:
            assert fact in text
    # the seed's '*/payment-service.svc' never matches a FQDN: the entry names the full host instead
    assert "payment-service.payments.svc.cluster.local" in both(kb, "sidecar-scoping")


def test_sidecar_startup_probe(kb: KnowledgeBase) -> None:
    text = both(kb, "sidecar-startup")
    assert "holdApplicationUntilProxyStarts" in text and "startupProbe" in text
    assert "restartPolicy: Always" in text and "1.27" in text


# --- ## Ambient Mode ---


def test_ambient_architecture(kb: KnowledgeBase) -> None:
    for text in body(kb, "ambient-architecture"):
        for fact in ["ztunnel", "DaemonSet", "waypoint", "HBONE", "15008", "istio-waypoint"]:
            assert fact in text


def test_ambient_enable(kb: KnowledgeBase) -> None:
    for text in body(kb, "ambient-enable"):
        for fact in [
            "kubectl label namespace production istio.io/dataplane-mode=ambient",
            "istio.io/waypoint-for: service",
            "gatewayClassName: istio-waypoint",
            "port: 15008",
            "protocol: HBONE",
            "istio.io/use-waypoint",
            "istio.io/dataplane-mode=none",
        ]:
            assert fact in text


# --- ## CRITICAL: Sidecar vs Ambient 비교표 ---


def test_comparison_table_has_every_seed_row(kb: KnowledgeBase) -> None:
    rows = kb.comparison.rows
    assert [r.aspect.ko for r in rows] == [
        "아키텍처",
        "리소스",
        "L4 mTLS",
        "L7 정책",
        "모니터링 상세도",
        "트레이싱",
        "성숙도",
        "앱 변경",
        "디버깅",
        "Startup 지연",
    ]
    cells = {r.aspect.ko: r for r in rows}
    assert "Pod당 Envoy" in cells["아키텍처"].sidecar.ko and "ztunnel" in cells["아키텍처"].ambient.ko
    assert "50-100MB" in cells["리소스"].sidecar.ko and "70%" in cells["리소스"].ambient.ko
    assert "waypoint" in cells["L7 정책"].ambient.ko
    assert "1.24" in cells["성숙도"].ambient.en and "5" in cells["성숙도"].sidecar.en
    assert cells["Startup 지연"].ambient.ko == "없음"
    for row in rows:
        assert HANGUL.search(row.aspect.ko) or row.aspect.ko == row.aspect.en
    table = both(kb, "mode-comparison")
    assert all(r.aspect.ko in table for r in rows)


def test_comparison_detail_entries(kb: KnowledgeBase) -> None:
    resources = both(kb, "compare-resources")
    for fact in ["200m", "512Mi", "100m", "128Mi", "70%"]:
        assert fact in resources
    observability = both(kb, "compare-observability")
    assert 'reporter="waypoint"' in observability and 'app="ztunnel"' in observability
    assert kb.entry("compare-observability").source.note is not None  # corrects reporter="ztunnel"
    maturity = both(kb, "compare-maturity")
    assert "1.24.0" in maturity and "2024-11-07" in maturity


def test_performance_figures(kb: KnowledgeBase) -> None:
    seed_figures = ["+80MB", "+50m", "~80GB", "+1ms", "+3ms", "~50MB", "~100MB", "~500MB", "+0.5ms", "+2ms"]
    table = " ".join(f"{r.sidecar.en} {r.ambient.en} {r.sidecar.ko} {r.ambient.ko}" for r in kb.comparison.figures)
    entry_en, entry_ko = body(kb, "performance-figures")
    for figure in seed_figures:
        assert figure in table and figure in entry_en and figure in entry_ko, figure
    assert "reported" in entry_en and "보고" in entry_ko
    assert {r.kb for r in kb.comparison.figures} == {"performance-figures"}


# --- ## CRITICAL: Ambient Mode 제한사항 ---

SEED_LIMITS = {
    "EnvoyFilter": "ambient-envoyfilter",
    "Lua Filter": "ambient-lua-filter",
    "일부 AuthorizationPolicy": "ambient-l7-authz",
    "RequestAuthentication (L7)": "ambient-request-authn",
    "Traffic Mirroring": "ambient-l7-traffic",
    "Fault Injection": "ambient-l7-traffic",
    "Custom Headers": "ambient-l7-traffic",
}


@pytest.mark.parametrize(("feature", "kb_id"), SEED_LIMITS.items())
def test_limitation_seed_rows(kb: KnowledgeBase, feature: str, kb_id: str) -> None:
    row = kb.limitation(feature)
    assert row is not None, feature
    assert row.kb == kb_id
    assert row.alternative.en and HANGUL.search(row.alternative.ko)
    assert row.status.en and row.status.ko


def test_limitations_add_the_upstream_unsupported_list(kb: KnowledgeBase) -> None:
    expected = {
        "peerauthentication-disable": "mtls-disable-ambient",
        "vm": "ambient-unsupported-features",
        "spire": "ambient-unsupported-features",
        "multicluster": "ambient-unsupported-features",
        "hostnetwork": "ambient-hostnetwork",
        "sidecar-resource": "sidecar-resource-in-ambient",
    }
    for key, kb_id in expected.items():
        row = kb.limitation(key)
        assert row is not None and row.key == key and row.kb == kb_id
    lua = kb.limitation("lua")
    assert lua is not None and "1.30" in lua.status.en and "WasmPlugin" in lua.alternative.en
    multicluster = kb.limitation("primary-remote")
    assert multicluster is not None and "1.29" in multicluster.status.en


def test_limitation_names_are_unambiguous(kb: KnowledgeBase) -> None:
    seen: dict[str, str] = {}
    for row in kb.limitations:
        for name in {row.key, *row.aliases, row.feature.en.lower(), row.feature.ko.lower()}:
            assert seen.setdefault(name.lower(), row.key) == row.key, f"{name!r} names two rows"
    assert kb.limitation("엔보이필터") is not None and kb.limitation("엔보이필터").key == "envoyfilter"  # type: ignore[union-attr]


def test_limitation_entries(kb: KnowledgeBase) -> None:
    overview = both(kb, "ambient-limitations")
    for feature in [
        "EnvoyFilter",
        "Lua",
        "AuthorizationPolicy",
        "RequestAuthentication",
        "DISABLE",
        "SPIRE",
        "hostNetwork",
    ]:
        assert feature in overview
    assert "kubectl get envoyfilter -A" in both(kb, "ambient-envoyfilter")
    assert "TrafficExtension" in both(kb, "ambient-lua-filter") and "kind: WasmPlugin" in both(kb, "ambient-lua-filter")
    traffic = both(kb, "ambient-l7-traffic")
    assert "kind: HTTPRoute" in traffic and "RequestMirror" in traffic and "Alpha" in traffic
    status = both(kb, "ambient-feature-status")
    for level in ["Stable", "Beta", "Alpha"]:
        assert level in status


def test_monitoring_limits(kb: KnowledgeBase) -> None:
    en, ko = body(kb, "ambient-monitoring-limits")
    assert "L4" in en and "waypoint" in en and "access log" in en
    assert "L4" in ko and "트레이싱" in ko and "액세스 로그" in ko


def test_workload_compatibility(kb: KnowledgeBase) -> None:
    text = both(kb, "ambient-workload-compatibility")
    for fact in ["Deployment", "StatefulSet", "hostNetwork: true", "init container", "Calico eBPF"]:
        assert fact in text
    assert "hostNetwork==true" in both(kb, "ambient-hostnetwork")
    assert "traffic.sidecar.istio.io/excludeOutboundIPRanges" in both(kb, "ambient-init-container-networking")


# --- ## 마이그레이션 가이드 ---

MIGRATION_COMMANDS = [
    "istioctl version",
    "kubectl label namespace production istio-injection-",
    "kubectl label namespace production istio.io/dataplane-mode=ambient",
    "kubectl rollout restart deployment -n production",
    "istioctl waypoint apply -n production --enroll-namespace",
    "istioctl analyze -n production",
]
ROLLBACK_COMMANDS = [
    "kubectl label namespace production istio.io/dataplane-mode-",
    "kubectl label namespace production istio-injection=enabled",
    "kubectl rollout restart deployment -n production",
]


def test_sidecar_to_ambient_steps(kb: KnowledgeBase) -> None:
    for text in body(kb, "migration-sidecar-to-ambient"):
        for command in MIGRATION_COMMANDS:
            assert command in text, command
        positions = [text.index(f"Step {n}") for n in range(1, 6)]
        assert positions == sorted(positions)
        assert "targetRefs" in text and "1.24" in text


def test_gradual_migration_and_rollback(kb: KnowledgeBase) -> None:
    en, ko = body(kb, "migration-gradual")
    for phase in ["Phase 1", "Phase 2", "Phase 3", "Phase 4"]:
        assert phase in en and phase in ko
    assert "1 week" in en and "1주" in ko
    for text in body(kb, "migration-rollback"):
        for command in ROLLBACK_COMMANDS:
            assert command in text, command


# --- ## 하이브리드 구성 ---


def test_hybrid_mode(kb: KnowledgeBase) -> None:
    en, ko = body(kb, "hybrid-mode")
    assert "Namespace A" in en and "Namespace B" in en and "mTLS" in en
    assert "istio.io/ingress-use-waypoint" in en and "istio.io/ingress-use-waypoint" in ko
    assert "cross-namespace" in en and "cross-namespace" in ko


# --- ## Anti-Patterns ---


def test_anti_patterns_table(kb: KnowledgeBase) -> None:
    for text in body(kb, "anti-patterns"):
        rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
        assert len(rows) == 1 + 5  # header + the seed's five mistakes
    ko = body(kb, "anti-patterns")[1]
    for fix in ["waypoint 배포", "L7 필요한 서비스만", "WasmPlugin", "대시보드 조정", "Pod 제외"]:
        assert fix in ko


# --- ## 체크리스트 and ## Ambient Mode 체크리스트 ---


def test_checklists_carry_every_seed_item(kb: KnowledgeBase) -> None:
    sizes = {key: [len(g.items) for g in c.groups] for key, c in kb.checklists.items()}
    assert sizes["sidecar"] == [4]
    assert sizes["ambient"] == [5]
    assert sizes["migration"] == [4]
    assert sizes["ambient-migration"] == [4, 4, 4]
    groups = [g.title.en for g in kb.checklists["ambient-migration"].groups]
    assert groups == ["Before migration", "During migration", "After migration"]
    sidecar = [i.text.ko for i in kb.checklists["sidecar"].groups[0].items]
    assert sidecar[0].startswith("Namespace 레이블 설정") and sidecar[3].startswith("Startup probe 조정")


def test_checklist_checks_are_known_and_placed(kb: KnowledgeBase) -> None:
    for checklist in kb.checklists.values():
        for group in checklist.groups:
            for item in group.items:
                assert item.check is None or item.check in CHECK_NAMES, item.check
    migration = kb.checklists["ambient-migration"]
    checks = [[item.check for item in group.items] for group in migration.groups]
    assert checks[0] == ["istio-version", "kernel-version", "cni-compatibility", "envoyfilter-usage"]
    assert checks[1] == ["namespace-labels", "sidecars-removed", "waypoint-deployed", "mtls-verified"]
    assert checks[2] == [None, None, None, None]
    ambient = [item.check for item in kb.checklists["ambient"].groups[0].items]
    assert ambient == ["istio-version", "cni-compatibility", "namespace-labels", "waypoint-deployed", None]


def test_checklists_carry_istio_facts_corrections(kb: KnowledgeBase) -> None:
    version_items = [
        kb.checklists["ambient"].groups[0].items[0],
        kb.checklists["ambient-migration"].groups[0].items[0],
    ]
    for item in version_items:
        assert "1.24+" in item.text.en and "1.24+" in item.text.ko
    kernel = kb.checklists["ambient-migration"].groups[0].items[1]
    assert "5.13" in kernel.text.en and "xt_connmark" in kernel.text.en and "5.8" in kernel.text.ko
    version = both(kb, "ambient-version-requirements")
    assert "1.22" in version and "1.24.0" in version and "2024-11-07" in version
