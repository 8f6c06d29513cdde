"""The knowledge base carries the seed's mTLS and ambient deep-dive sections, corrected by ISTIO-FACTS.

Part B of the content tests (part A: tests/test_knowledge_content.py). One test per seed section
proves that its facts are there (YAML fields, commands, metric names, checklist items) and that
where the seed is out of date the entry says what is true now instead of repeating it. The last
tests pin findings.yaml to DESIGN.md's findings table and to the analyzers' field names.
"""

from __future__ import annotations

import re
import string
from collections import defaultdict

import pytest

import knowledge
from cluster.analysis.findings import SEVERITY
from knowledge import KnowledgeBase
from knowledge.search import index_for

PART_B_IDS = [
    "mtls-namespace-strict",
    "mtls-mesh-wide",
    "mtls-port-exception",
    "mtls-migration-steps",
    "mtls-status-check",
    "mtls-precedence",
    "mtls-disable-ambient",
    "ambient-architecture-detail",
    "ztunnel-overview",
    "ztunnel-metrics",
    "waypoint-deploy",
    "waypoint-config",
    "waypoint-per-service-account",
    "waypoint-use",
    "waypoint-when-needed",
    "ambient-l7-authz",
    "ambient-request-authn",
    "selector-vs-targetrefs",
    "cilium-integration",
    "cni-compatibility",
    "kernel-requirements",
    "ambient-monitoring-promql",
    "ambient-troubleshooting",
    "checklist-ambient-phases",
    "ambient-detection-labels",
    "mixed-mode-namespace",
    "sidecar-resource-in-ambient",
]

# Seed headings of part B's range and the entry whose source cites each.
SEED_SECTIONS = {
    "Namespace STRICT mTLS": "mtls-namespace-strict",
    "메시 전체 STRICT mTLS": "mtls-mesh-wide",
    "특정 포트 예외 (메트릭 수집)": "mtls-port-exception",
    "mTLS 마이그레이션 단계": "mtls-migration-steps",
    "mTLS 상태 확인": "mtls-status-check",
    "Ambient Mode 아키텍처 상세": "ambient-architecture-detail",
    "ztunnel 상세": "ztunnel-overview",
    "Waypoint 세부 설정": "waypoint-config",
    "Waypoint 고급 설정": "waypoint-per-service-account",
    "Ambient + L7 정책 적용": "ambient-l7-authz",
    "Cilium + Istio Ambient 통합": "cilium-integration",
    "Ambient Mode 모니터링": "ambient-monitoring-promql",
    "Ambient Mode 트러블슈팅": "ambient-troubleshooting",
    "Ambient Mode 체크리스트": "checklist-ambient-phases",
}

# DESIGN.md, "Findings": code -> severity, and the entry each finding cites (the brief's mapping).
DESIGN_FINDINGS = {
    "istio-version-too-old": ("blocker", "ambient-version-requirements"),
    "envoyfilter-unsupported": ("blocker", "ambient-envoyfilter"),
    "lua-filter": ("blocker", "ambient-lua-filter"),
    "ambient-l7-without-waypoint": ("blocker", "waypoint-when-needed"),
    "mtls-disable-unsupported": ("blocker", "mtls-disable-ambient"),
    "l7-authz-needs-waypoint": ("waypoint", "ambient-l7-authz"),
    "selector-policy-l7": ("waypoint", "selector-vs-targetrefs"),
    "request-authn-needs-waypoint": ("waypoint", "ambient-request-authn"),
    "l7-traffic-needs-waypoint": ("waypoint", "ambient-l7-traffic"),
    "hostnetwork-pod": ("warning", "ambient-hostnetwork"),
    "init-container-networking": ("warning", "ambient-init-container-networking"),
    "cni-compatibility": ("warning", "cni-compatibility"),
    "kernel-too-old": ("warning", "kernel-requirements"),
    "mixed-mode-namespace": ("warning", "mixed-mode-namespace"),
    "strict-with-unmeshed-pods": ("warning", "mtls-migration-steps"),
    "waypoint-without-l7-need": ("warning", "waypoint-when-needed"),
    "sidecar-resource-ignored": ("info", "sidecar-resource-in-ambient"),
    "telemetry-detail-loss": ("info", "ambient-monitoring-limits"),
    "incomplete-reading": ("blocker", "reading-completeness"),
    "plaintext-traffic-observed": ("warning", "observed-plaintext-traffic"),
    "unsupported-topology": ("blocker", "ambient-unsupported-topology"),
    "wasm-needs-waypoint": ("waypoint", "ambient-wasm"),
    "virtualservice-scope": ("waypoint", "ambient-l7-traffic"),
    "waypoint-not-usable": ("warning", "waypoint-usable"),
    "sidecar-callers-bypass-waypoint": ("warning", "waypoint-bypass"),
    "istiod-rejected-policy": ("warning", "istiod-policy-status"),
    "networkpolicy-blocks-hbone": ("blocker", "ambient-networkpolicy"),
}
MESSAGE_FIELDS = {"resource", "namespace", "detail", "version", "minimum", "count", "effect", "why"}

HANGUL = re.compile(r"[가-힣]")
LATIN = re.compile(r"[A-Za-z]")
CODE_BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return knowledge.load()


def en(kb: KnowledgeBase, entry_id: str) -> str:
    return kb.entry(entry_id).body.en


def ko(kb: KnowledgeBase, entry_id: str) -> str:
    return kb.entry(entry_id).body.ko


def both(kb: KnowledgeBase, entry_id: str) -> str:
    return en(kb, entry_id) + "\n" + ko(kb, entry_id)


def code(kb: KnowledgeBase, entry_id: str) -> str:
    """Only the code blocks of an entry (both languages): what a user would copy and run."""
    return "\n".join(CODE_BLOCK.findall(both(kb, entry_id)))


def all_code(kb: KnowledgeBase) -> str:
    return "\n".join(code(kb, entry_id) for entry_id in kb.entries)


def in_order(text: str, *needles: str) -> bool:
    positions = [text.find(n) for n in needles]
    return -1 not in positions and positions == sorted(positions)


def note(kb: KnowledgeBase, entry_id: str) -> str:
    source_note = kb.entry(entry_id).source.note
    assert source_note is not None, f"{entry_id} corrects the seed and must say so in source.note"
    return source_note.en + "\n" + source_note.ko


# --- shape of part B's entries ---


def test_every_part_b_entry_exists(kb: KnowledgeBase) -> None:
    assert [i for i in PART_B_IDS if i not in kb.entries] == []


def test_entries_are_bilingual_answers_with_varied_questions(kb: KnowledgeBase) -> None:
    for entry_id in PART_B_IDS:
        entry = kb.entry(entry_id)
        assert HANGUL.search(entry.title.ko) and HANGUL.search(entry.body.ko), entry_id
        assert not HANGUL.search(entry.title.en + entry.body.en), entry_id
        for lang in ("en", "ko"):
            questions = getattr(entry.questions, lang)
            assert 5 <= len(questions) <= 8, (entry_id, lang)
            assert len({q.lower() for q in questions}) == len(questions), (entry_id, lang)
            text = getattr(entry.body, lang)
            assert 3 <= len(text.strip().splitlines()) <= 45, (entry_id, lang)
            assert text.count("```") % 2 == 0, f"{entry_id} {lang}: unbalanced code fence"
        assert all(HANGUL.search(q) for q in entry.questions.ko), entry_id
        assert not any(HANGUL.search(q) for q in entry.questions.en), entry_id
        # Slack Korean mixes in English terms: at least one Korean question does.
        assert any(LATIN.search(q) for q in entry.questions.ko), entry_id
        assert entry.tags == [t.lower() for t in entry.tags] and any(HANGUL.search(t) for t in entry.tags), entry_id
        assert entry_id not in entry.related, entry_id
        # Slack users never saw the seed document: answers say "older guides", notes cite the seed.
        assert "seed" not in (entry.body.en + entry.body.ko).lower(), entry_id
        assert entry.source.seed and entry.source.upstream and entry.source.version, entry_id


def test_questions_belong_to_one_entry(kb: KnowledgeBase) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in kb.entries.values():
        for question in [*entry.questions.en, *entry.questions.ko]:
            owners[question.strip().lower()].add(entry.id)
    shared = {q: ids for q, ids in owners.items() if len(ids) > 1 and ids & set(PART_B_IDS)}
    assert shared == {}


def test_entries_are_distinct_for_the_matcher(kb: KnowledgeBase) -> None:
    """Most of an entry's own example questions rank that entry first (ignoring the domain gate)."""
    index = index_for(kb)
    weak = {}
    for entry_id in PART_B_IDS:
        entry = kb.entry(entry_id)
        questions = [*entry.questions.en, *entry.questions.ko]
        firsts = sum(1 for q in questions if (m := index.search(q).matches) and m[0].entry_id == entry_id)
        if firsts < 0.75 * len(questions):
            weak[entry_id] = f"{firsts}/{len(questions)}"
    assert weak == {}


@pytest.mark.parametrize(("heading", "entry_id"), SEED_SECTIONS.items())
def test_seed_section_is_cited_by_its_entry(kb: KnowledgeBase, heading: str, entry_id: str) -> None:
    assert heading in (kb.entry(entry_id).source.seed or "")


# --- ## CRITICAL: mTLS 강제 설정 ---


def test_namespace_strict_mtls_yaml(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "mtls-namespace-strict")
    for line in ("kind: PeerAuthentication", "name: default", "namespace: production", "mode: STRICT"):
        assert line in yaml_block, line
    assert "selector" not in yaml_block  # namespace-wide: no selector


def test_mesh_wide_strict_mtls_in_root_namespace(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "mtls-mesh-wide")
    assert "namespace: istio-system" in yaml_block and "mode: STRICT" in yaml_block
    assert "root namespace" in en(kb, "mtls-mesh-wide") and "루트 namespace" in ko(kb, "mtls-mesh-wide")
    assert "oldest" in en(kb, "mtls-mesh-wide")


def test_port_exception_for_metrics_port_9090(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "mtls-port-exception")
    assert in_order(yaml_block, "name: metrics-exception", "selector:", "app: my-service", "mode: STRICT")
    assert in_order(yaml_block, "portLevelMtls:", "9090:", "mode: PERMISSIVE")
    text = en(kb, "mtls-port-exception")
    assert "selector" in text and "not the Service port" in text  # workload policies only; target port


def test_mtls_migration_five_steps_in_order(kb: KnowledgeBase) -> None:
    assert in_order(
        en(kb, "mtls-migration-steps"), "1. Start PERMISSIVE", "2. Check", "Kiali", "3. Confirm every workload"
    )
    assert in_order(
        en(kb, "mtls-migration-steps"), "4. Switch to STRICT", "5. If something breaks, roll back to PERMISSIVE"
    )
    assert in_order(
        ko(kb, "mtls-migration-steps"), "1. PERMISSIVE", "2. Kiali", "3. ", "sidecar 주입", "4. STRICT", "5. "
    )
    assert "PERMISSIVE로 롤백" in ko(kb, "mtls-migration-steps")
    assert '"mode":"PERMISSIVE"' in code(kb, "mtls-migration-steps")  # the rollback is a runnable command


def test_mtls_status_commands_and_removed_tls_check(kb: KnowledgeBase) -> None:
    commands = code(kb, "mtls-status-check")
    assert "kubectl get peerauthentication -A" in commands
    assert "istioctl x describe pod <pod-name> -n <namespace>" in commands
    assert "istioctl ztunnel-config workloads" in commands and "HBONE" in commands
    assert "tls-check" not in all_code(kb)  # nobody is told to run the removed command
    assert "removed in 1.6" in en(kb, "mtls-status-check") and "1.6에서 제거" in ko(kb, "mtls-status-check")
    assert "Kiali" in both(kb, "mtls-status-check")


def test_mtls_precedence_rules(kb: KnowledgeBase) -> None:
    text = en(kb, "mtls-precedence")
    assert in_order(text, "workload policy", "namespace policy", "mesh policy", "PERMISSIVE")
    for fact in ("UNSET", "oldest `creationTimestamp` wins", "Selector policies in the root namespace are ignored"):
        assert fact in text, fact


def test_mtls_disable_is_ignored_in_ambient(kb: KnowledgeBase) -> None:
    text = en(kb, "mtls-disable-ambient")
    assert "DISABLE" in text and "ignores it" in text
    assert "PERMISSIVE" in text and "istio.io/dataplane-mode=none" in text
    assert "DISABLE" in ko(kb, "mtls-disable-ambient") and "무시" in ko(kb, "mtls-disable-ambient")


# --- ## CRITICAL: Ambient Mode 심화 ---


def test_ambient_architecture_detail(kb: KnowledgeBase) -> None:
    text = en(kb, "ambient-architecture-detail")
    for fact in ("istiod", "HA", "xDS", "DaemonSet", "HBONE", "15008", "waypoint"):
        assert fact in text, fact


def test_ztunnel_commands_and_corrected_health_check(kb: KnowledgeBase) -> None:
    commands = code(kb, "ztunnel-overview")
    assert "kubectl get pods -n istio-system -l app=ztunnel" in commands
    assert "kubectl logs -n istio-system -l app=ztunnel -c istio-proxy" in commands
    assert "localhost:15021/healthz/ready" in commands
    assert "15020/healthz" not in all_code(kb)  # the seed's probe: 15020 serves only /metrics (404)
    assert "200m CPU / 512Mi" in en(kb, "ztunnel-overview")


def test_ztunnel_metric_names_and_reporter_label(kb: KnowledgeBase) -> None:
    text = en(kb, "ztunnel-metrics")
    for metric in (
        "istio_tcp_connections_opened_total",
        "istio_tcp_connections_closed_total",
        "istio_tcp_sent_bytes_total",
        "istio_tcp_received_bytes_total",
        "istio_tcp_connections_failed_total",
    ):
        assert metric in text, metric
    assert "`source`" in text and "`destination`" in text and 'app="ztunnel"' in text
    assert 'no `reporter="ztunnel"`' in text


def test_monitoring_promql_is_corrected(kb: KnowledgeBase) -> None:
    queries = code(kb, "ambient-monitoring-promql")
    assert (
        'sum(rate(istio_tcp_connections_opened_total{app="ztunnel", reporter="destination"}[5m])) '
        "by (destination_workload)" in queries
    )
    assert (
        'sum(rate(istio_tcp_sent_bytes_total{app="ztunnel", reporter="source"}[5m])) '
        "by (source_workload, destination_workload)" in queries
    )
    assert 'sum(rate(istio_requests_total{reporter="waypoint"}[5m])) by (destination_service, response_code)' in queries
    assert 'reporter="ztunnel"' not in all_code(kb)  # no runnable query keeps the wrong label
    grafana = en(kb, "ambient-monitoring-promql")
    assert 'reporter="source"' in grafana and 'reporter="waypoint"' in grafana and "Grafana" in grafana


def test_troubleshooting_five_steps_with_corrected_commands(kb: KnowledgeBase) -> None:
    commands = code(kb, "ambient-troubleshooting")
    steps = [
        "kubectl get namespace production",
        "ambient\\.istio\\.io/redirection",
        "kubectl get pods -n istio-system -l app=ztunnel",
        "localhost:15021/healthz/ready",
        "kubectl get gateway -n production",
        "istioctl waypoint list -n production",
        "istioctl waypoint status -n production",
        "istioctl ztunnel-config workloads --workload-namespace production",
        "kubectl logs -n istio-system -l app=ztunnel --tail=100",
    ]
    assert in_order(en(kb, "ambient-troubleshooting"), *steps)
    assert "Pod -> ztunnel -> (waypoint if L7) -> ztunnel -> Pod" in commands
    assert "istioctl x waypoint status" not in all_code(kb)  # moved out of experimental in 1.23
    assert "-l istio.io/waypoint-for" not in all_code(kb)  # misses waypoints without that label
    assert "1.23" in note(kb, "ambient-troubleshooting")


def test_waypoint_deploy(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "waypoint-deploy")
    for line in (
        "apiVersion: gateway.networking.k8s.io/v1",
        "istio.io/waypoint-for: service",
        "gatewayClassName: istio-waypoint",
        "port: 15008",
        "protocol: HBONE",
        "istioctl waypoint apply -n production --enroll-namespace",
    ):
        assert line in yaml_block, line
    assert "istio.io/use-waypoint" in en(kb, "waypoint-deploy")


def test_waypoint_config_resources_and_concurrency(kb: KnowledgeBase) -> None:
    text = en(kb, "waypoint-config")
    assert "proxy.istio.io/config" in text and "concurrency: 4" in text
    assert "silently ignored" in text and "global.waypoint.resources" in text
    assert "requests 100m / 128Mi, limits 2 CPU / 1Gi" in text
    assert "parametersRef" in text and "allowedRoutes.namespaces.from: Same" in text


def test_waypoint_per_service_account_current_practice(kb: KnowledgeBase) -> None:
    text = en(kb, "waypoint-per-service-account")
    assert "istio.io/for-service-account" in text and "removed in Istio 1.22" in text
    assert "istio.io/for-service-account" not in all_code(kb)
    assert "kubectl label service payment-service -n production istio.io/use-waypoint=payment-waypoint" in text


def test_waypoint_use_labels(kb: KnowledgeBase) -> None:
    text = en(kb, "waypoint-use")
    for fact in (
        "istio.io/use-waypoint",
        "own label wins",
        "istio.io/use-waypoint=none",
        "istio.io/use-waypoint-namespace",
    ):
        assert fact in text, fact
    for value in ("`service`", "`workload`", "`all`", "`none`"):
        assert value in text, value


def test_waypoint_when_needed(kb: KnowledgeBase) -> None:
    text = en(kb, "waypoint-when-needed")
    for need in ("AuthorizationPolicy", "RequestAuthentication", "retries", "fault injection", "header changes"):
        assert need in text, need
    for need in ("mirroring", "traffic splitting", "L7 telemetry"):
        assert need in text, need
    assert "silently not enforced" in text and "a waypoint everywhere" in text
    assert "조용히 적용되지" in ko(kb, "waypoint-when-needed")


def test_l7_authorization_policy_example(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "ambient-l7-authz")
    assert in_order(yaml_block, "kind: AuthorizationPolicy", "name: payment-authz", "targetRefs:", "kind: Service")
    assert in_order(yaml_block, "name: payment-service", 'principals: ["cluster.local/ns/production/sa/order-service"]')
    assert in_order(yaml_block, 'methods: ["POST"]', 'paths: ["/api/v1/payments"]')


def test_jwt_request_authentication_example(kb: KnowledgeBase) -> None:
    yaml_block = code(kb, "ambient-request-authn")
    assert in_order(yaml_block, "kind: RequestAuthentication", "name: jwt-auth", "targetRefs:", "name: api-gateway")
    assert 'issuer: "https://auth.example.com"' in yaml_block
    assert 'jwksUri: "https://auth.example.com/.well-known/jwks.json"' in yaml_block
    assert "Beta as of Istio 1.24" in en(kb, "ambient-request-authn")


def test_selector_vs_targetrefs(kb: KnowledgeBase) -> None:
    text = en(kb, "selector-vs-targetrefs")
    assert "Waypoints ignore `selector`" in text and "deny-all" in text and "targetRefs" in text


def test_cilium_steps_and_cautions(kb: KnowledgeBase) -> None:
    commands = code(kb, "cilium-integration")
    assert in_order(commands, "cilium config view | grep -i", "istioctl install --set profile=ambient")
    assert "cni.exclusive=false" in commands and "bpf.masquerade=false" in commands
    assert "cni.provider=cilium" not in all_code(kb)  # not a valid istio-cni provider value
    text = en(kb, "cilium-integration")
    assert "L3/L4" in text and "mTLS and L7" in text
    assert "`default` or `multus`" in text and "169.254.7.127" in text and "5.10+" in text


def test_cni_compatibility(kb: KnowledgeBase) -> None:
    text = en(kb, "cni-compatibility")
    for fact in ("istio-cni", "Cilium", "Calico eBPF", "bpfConnectTimeLoadBalancing", "global.platform"):
        assert fact in text, fact


def test_kernel_requirements(kb: KnowledgeBase) -> None:
    text = en(kb, "kernel-requirements")
    for fact in ("no minimum kernel", "xt_connmark", "xt_mark", "ip_set", "ip_set_hash_ip", "5.13", "recommendations"):
        assert fact in text, fact
    assert "5.8+" in text and "5.10+" in text


def test_checklist_phases_carry_every_seed_item(kb: KnowledgeBase) -> None:
    text = ko(kb, "checklist-ambient-phases")
    items = [
        "Istio 1.24+",
        "커널",
        "CNI 호환성 확인 (Cilium",
        "EnvoyFilter 사용 현황 분석",
        "Namespace 레이블 전환",
        "Pod 재시작으로 Sidecar 제거",
        "L7이 필요한 서비스에만 Waypoint 배포",
        "mTLS 연결 검증",
        "모니터링 대시보드 조정",
        "알림 규칙 업데이트",
        "성능/리소스 비교",
        "문서 업데이트",
    ]
    assert in_order(text, "전환 전:", *items[:4], "전환 중:", *items[4:8], "전환 후:", *items[8:])
    assert text.count("- [ ]") == 10  # the last two pairs share a line each
    assert "1.22+는 Beta" in text and "5.8+는 권장" in text


# --- ISTIO-FACTS: labels and detection ---


def test_detection_labels(kb: KnowledgeBase) -> None:
    text = en(kb, "ambient-detection-labels")
    for fact in (
        "istio.io/dataplane-mode=ambient",
        "istio-injection=enabled",
        "istio.io/rev",
        "sidecar.istio.io/status",
        "ambient.istio.io/redirection: enabled",
        "pending",
        "istio.io/dataplane-mode=none",
        "hostNetwork: true",
        "gateway.networking.k8s.io/gateway-name",
    ):
        assert fact in text, fact


def test_mixed_mode_namespace(kb: KnowledgeBase) -> None:
    text = en(kb, "mixed-mode-namespace")
    assert "the sidecar labels win" in text and "IST0123" in text
    assert "kubectl label namespace production istio-injection-" in text


def test_sidecar_resource_in_ambient(kb: KnowledgeBase) -> None:
    text = en(kb, "sidecar-resource-in-ambient")
    assert "no\neffect" in text or "no effect" in text
    assert "IST0167" in text and "REGISTRY_ONLY" in text


# --- findings.yaml ---


def test_findings_match_design_table(kb: KnowledgeBase) -> None:
    assert {code: (f.severity, f.kb) for code, f in kb.findings.items()} == DESIGN_FINDINGS


def test_findings_agree_with_the_analyzers(kb: KnowledgeBase) -> None:
    assert {code: f.severity for code, f in kb.findings.items()} == SEVERITY


@pytest.mark.parametrize("code", DESIGN_FINDINGS)
def test_finding_message_formats_with_allowed_fields(kb: KnowledgeBase, code: str) -> None:
    finding = kb.finding(code)
    assert HANGUL.search(finding.title.ko) and HANGUL.search(finding.message.ko), code
    assert not HANGUL.search(finding.title.en + finding.message.en), code
    values = {
        "resource": "EnvoyFilter istio-system/lua-x",
        "namespace": "payments",
        "detail": "methods, paths",
        "version": "1.21.2",
        "minimum": "1.24",
        "count": 3,
        "effect": "ztunnel drops the HTTP rules. ",
        "why": "it is bound with a selector. ",
    }
    for lang in ("en", "ko"):
        template = getattr(finding.message, lang)
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        assert used and used <= MESSAGE_FIELDS, (code, lang, used)
        rendered = template.format(**values)
        assert "{" not in rendered and "}" not in rendered, (code, lang)
        # the analyzers pass every field, empty when unknown (cluster/analysis/findings.py)
        template.format_map(defaultdict(str))


def test_finding_messages_name_their_alternative(kb: KnowledgeBase) -> None:
    """Each message says what to do instead: a concrete API, label, mode or action."""
    remedies = {
        "envoyfilter-unsupported": "WasmPlugin",
        "lua-filter": "WasmPlugin",
        "ambient-l7-without-waypoint": "istioctl waypoint apply",
        "mtls-disable-unsupported": "PERMISSIVE",
        "selector-policy-l7": "targetRefs",
        "l7-authz-needs-waypoint": "targetRefs",
        "request-authn-needs-waypoint": "targetRefs",
        "l7-traffic-needs-waypoint": "istio.io/use-waypoint",
        "hostnetwork-pod": "Exclude",
        "mixed-mode-namespace": "Remove the labels",
        "strict-with-unmeshed-pods": "PERMISSIVE",
        "sidecar-resource-ignored": "outboundTrafficPolicy",
        "telemetry-detail-loss": 'reporter="waypoint"',
        "kernel-too-old": "xt_connmark",
        "cni-compatibility": "cni.exclusive=false",
        "istio-version-too-old": "Upgrade",
        "waypoint-without-l7-need": "Remove it",
        "init-container-networking": "staging",
        "incomplete-reading": "meshbot collect",
        "plaintext-traffic-observed": "PERMISSIVE",
        "unsupported-topology": "Keep these workloads on sidecars",
        "wasm-needs-waypoint": "targetRefs",
        "virtualservice-scope": "HTTPRoute",
        "waypoint-not-usable": "allowedRoutes",
        "sidecar-callers-bypass-waypoint": "notPrincipals",
        "istiod-rejected-policy": "istioctl analyze",
        "networkpolicy-blocks-hbone": "Add port 15008",
    }
    assert set(remedies) == set(DESIGN_FINDINGS)
    for code, remedy in remedies.items():
        assert remedy in kb.finding(code).message.en, code
