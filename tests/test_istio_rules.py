"""Istio's attachment and enforcement rules, one hand-written cluster per rule (tests/fixtures/istio-rules/).

Each case's manifest says in its header comment which Istio rule it exercises and what istiod/ztunnel do with it;
the table below holds the verdict expected from that rule, written before the analysis ran. Every case is read
offline (a dump folder, as `--from-file` reads it) and live (the kube-apiserver double over HTTP), and the two
must agree. The gate must never say `ready` for a namespace that breaks after the move: the table test counts
wrong `ready` verdicts separately.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from kube_double import KubeDouble

from cluster.analysis import analyze
from cluster.analysis.findings import render
from cluster.analysis.model import Analysis
from cluster.analysis.plan import plan
from cluster.completeness import assume_absent
from cluster.dump import read_dump
from cluster.kinds import KINDS
from cluster.live import read_live
from knowledge import default as default_kb

CASES_DIR = Path(__file__).with_name("fixtures") / "istio-rules"
DEFAULT_SHARED = ("_root.yaml", "_istiod.yaml", "_base.yaml")
WAYPOINT = ("_root.yaml", "_istiod.yaml", "_base.yaml", "_waypoint.yaml")


@dataclass(frozen=True)
class Case:
    verdict: str  # for namespace shop
    codes: frozenset[str] = frozenset()  # must be among shop's findings (or the cluster's)
    absent: frozenset[str] = frozenset()  # must not be
    effect: str = ""  # the ztunnel effect the authz finding carries
    shared: tuple[str, ...] = DEFAULT_SHARED
    others: dict[str, str] = field(default_factory=dict)  # other namespaces' expected verdicts


def case(
    verdict: str,
    *codes: str,
    absent: set[str] | None = None,
    effect: str = "",
    shared: tuple[str, ...] = DEFAULT_SHARED,
    others: dict[str, str] | None = None,
) -> Case:
    return Case(verdict, frozenset(codes), frozenset(absent or ()), effect, shared, others or {})


L7 = "l7-authz-needs-waypoint"
TABLE: dict[str, Case] = {
    "authz-l4-only": case("ready", absent={L7}),
    "l4-identity-with-waypoint": case("needs-waypoint", L7, effect="waypoint-identity", shared=WAYPOINT),
    "bypass-deny-policy": case("ready", absent={L7}, shared=WAYPOINT),
    "authz-allow-methods-selector": case("needs-waypoint", L7, "selector-policy-l7", effect="deny-all"),
    "authz-deny-paths-and-ports": case("needs-waypoint", L7, effect="broader"),
    "authz-deny-paths-only": case("needs-waypoint", L7, effect="no-effect"),
    "authz-remote-ipblocks": case("needs-waypoint", L7, effect="deny-all"),
    "authz-when-sni": case("needs-waypoint", L7, effect="deny-all"),
    "authz-custom": case("needs-waypoint", L7, effect="ignored"),
    "authz-targetrefs-served": case("ready", absent={"waypoint-not-usable"}, shared=WAYPOINT),
    "authz-targetrefs-not-programmed": case("needs-waypoint", L7, "waypoint-not-usable"),
    "waypoint-for-workload": case("needs-waypoint", L7, "waypoint-not-usable"),
    # istiod still reports the Services (fetchWaypointForService: UnsupportedTrafficType), as a warning
    "workload-waypoint-gateway-policy": case("ready", L7, "waypoint-not-usable"),
    "cross-namespace-denied": case("needs-waypoint", L7, "waypoint-not-usable"),
    "cross-namespace-allowed": case("ready", absent={"waypoint-not-usable"}),
    "targetrefs-other-namespace": case("needs-waypoint", L7, shared=WAYPOINT),
    "namespace-wide-l7-with-waypoint": case("needs-waypoint", L7, effect="deny-all", shared=WAYPOINT),
    "request-authn-selector": case("needs-waypoint", "request-authn-needs-waypoint", "selector-policy-l7"),
    "vs-fault-own-namespace": case("needs-waypoint", "l7-traffic-needs-waypoint"),
    "vs-other-namespace": case("needs-waypoint", "virtualservice-scope", shared=WAYPOINT),
    "vs-client-namespace": case("needs-waypoint", "virtualservice-scope", shared=WAYPOINT),
    "vs-external-host": case("needs-waypoint", "l7-traffic-needs-waypoint", shared=WAYPOINT),
    "destinationrule-outlier": case("needs-waypoint", "l7-traffic-needs-waypoint"),
    "destinationrule-tls-only": case("ready", absent={"l7-traffic-needs-waypoint"}),
    "destinationrule-tls-origination": case("needs-waypoint", "l7-traffic-needs-waypoint"),
    "httproute-gamma": case("needs-waypoint", "l7-traffic-needs-waypoint"),
    "httproute-gamma-served": case("ready", "l7-traffic-needs-waypoint", shared=WAYPOINT),
    "wasm-selector": case("needs-waypoint", "wasm-needs-waypoint"),
    "wasm-targetrefs-waypoint": case("ready", "wasm-needs-waypoint", shared=WAYPOINT),
    "root-sidecar": case("ready", "sidecar-resource-ignored"),
    "root-l7-policy": case("needs-waypoint", L7, others={"empty": "ready"}),
    "workloadentry-vm": case("blocked", "unsupported-topology"),
    "multi-network": case("blocked", "unsupported-topology", shared=("_istiod.yaml", "_base.yaml")),
    "istiod-status": case("needs-waypoint", L7, "istiod-rejected-policy"),
    "ambient-selector-l7": case("blocked", "ambient-l7-without-waypoint", "selector-policy-l7", effect="deny-all"),
    "istio-1-22-cross-namespace": case("ready", absent={"waypoint-not-usable"}, shared=("_root.yaml", "_base.yaml")),
    "envoyfilter": case("blocked", "envoyfilter-unsupported"),
    "peer-authn-disable": case("blocked", "mtls-disable-unsupported"),
    "networkpolicy-app-port-only": case("blocked", "networkpolicy-blocks-hbone"),
    "networkpolicy-with-hbone": case("ready", absent={"networkpolicy-blocks-hbone"}),
    "sidecar-callers": case("ready", "sidecar-callers-bypass-waypoint", shared=WAYPOINT),
}
SEVERE = {"blocked": 2, "needs-waypoint": 1, "ready": 0}


def case_files(name: str) -> list[Path]:
    return [CASES_DIR / shared for shared in TABLE[name].shared] + [CASES_DIR / f"{name}.yaml"]


def offline(name: str, tmp_path: Path) -> Analysis:
    folder = tmp_path / "dump"
    folder.mkdir()
    for n, path in enumerate(case_files(name)):
        shutil.copy(path, folder / f"{n:02d}-{path.name}")
    # Each case is a whole cluster written by hand: a kind it lacks is absent on purpose, as `--assume-absent`
    # says (a kubectl dump without Istio objects would otherwise be an incomplete reading, DESIGN.md).
    return analyze(assume_absent(read_dump(folder), [k.kind for k in KINDS if k.istio]))


def live(name: str, factory: Callable[..., KubeDouble], tmp_path: Path) -> Analysis:
    double = factory(*case_files(name), crd_groups="all")
    kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
    return analyze(read_live(kubeconfig=kubeconfig, context=None, timeout=5.0, page_size=50))


def findings_of(a: Analysis, ns: str) -> set[str]:
    view = a.namespace(ns)
    return {f.code for f in [*a.cluster_findings, *(view.findings if view else [])]}


def test_every_case_has_a_manifest_and_every_manifest_a_case() -> None:
    manifests = {p.stem for p in CASES_DIR.glob("*.yaml") if not p.name.startswith("_")}
    assert manifests == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_case_offline_and_live(name: str, tmp_path: Path, kube_double_factory: Callable[..., KubeDouble]) -> None:
    expected = TABLE[name]
    from_file = offline(name, tmp_path)
    from_api = live(name, kube_double_factory, tmp_path)
    for a in (from_file, from_api):
        shop = a.namespace("shop")
        assert shop is not None
        found = findings_of(a, "shop")
        assert shop.verdict == expected.verdict, (name, sorted(found))
        assert expected.codes <= found, (name, sorted(found))
        assert not expected.absent & found, (name, sorted(found))
        for other, verdict in expected.others.items():
            view = a.namespace(other)
            assert view is not None and view.verdict == verdict, other
        if expected.effect:
            effects = {f.effect for f in shop.findings if f.code in (L7, "ambient-l7-without-waypoint")}
            assert expected.effect in effects, (name, effects)
    # The live reading and the dump say the same thing.
    assert [(n.name, n.verdict, sorted(f.code for f in n.findings)) for n in from_file.candidates] == [
        (n.name, n.verdict, sorted(f.code for f in n.findings)) for n in from_api.candidates
    ]


def test_no_wrong_ready_over_the_whole_table(tmp_path: Path) -> None:
    """The table as a gate would use it: every verdict right, and above all no `ready` where Istio breaks."""
    wrong: dict[str, tuple[str, str]] = {}
    wrong_ready: list[str] = []
    for n, (name, expected) in enumerate(sorted(TABLE.items())):
        case_dir = tmp_path / str(n)
        case_dir.mkdir()
        got = offline(name, case_dir).namespace("shop")
        assert got is not None
        if got.verdict != expected.verdict:
            wrong[name] = (expected.verdict, got.verdict)
        if got.verdict == "ready" and SEVERE[expected.verdict] > 0:
            wrong_ready.append(name)
    assert wrong_ready == []
    assert wrong == {}
    assert sum(1 for c in TABLE.values() if c.verdict != "ready") >= 20  # the table is mostly cases that break


def test_a_namespace_without_workloads_gets_no_findings(tmp_path: Path) -> None:
    a = offline("root-l7-policy", tmp_path)
    empty = a.namespace("empty")
    assert empty is not None and empty.findings == [] and empty.verdict == "ready"


def test_texts_name_the_real_cause(tmp_path: Path) -> None:
    kb = default_kb()
    (tmp_path / "a").mkdir()
    jwt = offline("request-authn-selector", tmp_path / "a")
    for f in jwt.namespace("shop").findings:  # type: ignore[union-attr]
        for lang in ("en", "ko"):
            _, message, _ = render(f, kb, lang)
            assert "deny-all" not in message, (f.code, message)  # a RequestAuthentication never denies all
            assert message.strip() and "{" not in message
    (tmp_path / "b").mkdir()
    unbound = offline("namespace-wide-l7-with-waypoint", tmp_path / "b")
    shop = unbound.namespace("shop")
    assert shop is not None
    [finding] = [f for f in shop.findings if f.code == L7]
    _, message, _ = render(finding, kb, "en")
    assert "deny-all" in message and "targetRefs" in message
    (tmp_path / "e").mkdir()
    not_admitted = offline("cross-namespace-denied", tmp_path / "e")
    [unusable] = [f for f in not_admitted.namespace("shop").findings if f.code == "waypoint-not-usable"]  # type: ignore[union-attr]
    assert (unusable.detail, unusable.why) == ("infra/edge", "wp-not-admitted")
    _, message, _ = render(unusable, kb, "en")
    assert "allowedRoutes does not admit namespace shop" in message
    (tmp_path / "c").mkdir()
    ambient = offline("ambient-selector-l7", tmp_path / "c")
    [blocker] = [f for f in ambient.namespace("shop").findings if f.code == "ambient-l7-without-waypoint"]  # type: ignore[union-attr]
    assert blocker.why == "why-selector"  # the cause is the binding, not a missing waypoint
    for lang, words in (("en", "bound with a selector"), ("ko", "selector로 연결돼")):
        _, message, _ = render(blocker, kb, lang)  # type: ignore[arg-type]
        assert words in message and "{" not in message, message
    (tmp_path / "d").mkdir()
    telemetry = offline("root-l7-policy", tmp_path / "d")
    assert "telemetry-detail-loss" not in findings_of(telemetry, "empty")


def test_plan_adds_the_bypass_deny_policy_with_the_right_exceptions(tmp_path: Path) -> None:
    a = offline("sidecar-callers", tmp_path)
    shop = a.namespace("shop")
    assert shop is not None
    steps = {s.key: s for s in plan(a, shop).steps}
    bypass = steps["plan.step.bypass"]
    body = bypass.commands[1 : bypass.commands.index("EOF")]
    policy = yaml.safe_load("\n".join(body))
    assert policy["kind"] == "AuthorizationPolicy" and policy["metadata"]["namespace"] == "shop"
    spec = policy["spec"]
    assert spec["action"] == "DENY" and "targetRefs" not in spec  # enforced by ztunnel, never by the waypoint
    [rule] = spec["rules"]
    assert rule["from"][0]["source"]["notPrincipals"] == [
        "cluster.local/ns/shop/sa/waypoint",
        "cluster.local/ns/frontend/sa/storefront",  # the caller still on a sidecar
    ]  # shop's own pods are not exceptions: after the move they reach api through the waypoint
    keys = list(steps)
    assert keys.index("plan.step.bypass") > keys.index("plan.step.restart")


def test_plan_steps_for_the_new_codes(tmp_path: Path) -> None:
    for n, (name, key, fragment) in enumerate(
        [
            ("wasm-selector", "plan.step.policies", "kubectl edit wasmplugin sig -n shop"),
            ("vs-other-namespace", "plan.step.policies", "kubectl get virtualservice api-retries -n frontend"),
            ("cross-namespace-denied", "plan.step.waypoint-fix", "kubectl edit gateway edge -n infra"),
            ("waypoint-for-workload", "plan.step.waypoint-fix", "istio.io/waypoint-for=all"),
            ("authz-targetrefs-not-programmed", "plan.step.waypoint-fix", "kubectl describe gateway waypoint -n shop"),
            ("istiod-status", "plan.step.istiod", "kubectl get authorizationpolicy allow-get -n shop"),
        ]
    ):
        (tmp_path / str(n)).mkdir()
        a = offline(name, tmp_path / str(n))
        steps = {s.key: s for s in plan(a, a.namespace("shop")).steps}  # type: ignore[arg-type]
        assert key in steps, (name, list(steps))
        assert any(fragment in c for c in steps[key].commands), (name, steps[key].commands)


BAD_VALUES: tuple[object, ...] = (None, 42, "x", [1, None], {"a": {"b": 1}}, True)
RULE_KINDS = {
    "AuthorizationPolicy",
    "RequestAuthentication",
    "VirtualService",
    "DestinationRule",
    "HTTPRoute",
    "WasmPlugin",
    "Gateway",
    "Sidecar",
    "WorkloadEntry",
    "EnvoyFilter",
    "NetworkPolicy",
}


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replaced(doc: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {k: (_replaced(v, rest, new) if k == head else v) for k, v in doc.items()}
    assert isinstance(doc, list)
    return [(_replaced(v, rest, new) if i == head else v) for i, v in enumerate(doc)]


def test_wrong_field_types_in_istio_objects_never_crash_the_rules() -> None:
    """Every field of every Istio/Gateway object of the cases, replaced by values of the wrong type: the analysis
    still answers (the rules read what they can), never a traceback."""
    from cluster.snapshot import SnapshotBuilder

    tried = 0
    for name in sorted(TABLE):
        docs = [d for path in case_files(name) for d in yaml.safe_load_all(path.read_text()) if d]
        for i, doc in enumerate(docs):
            if doc.get("kind") not in RULE_KINDS:
                continue
            for path in _paths({k: doc[k] for k in ("spec", "status") if k in doc}):
                for bad in BAD_VALUES:
                    mutated = [*docs[:i], _replaced(doc, path, bad), *docs[i + 1 :]]
                    builder = SnapshotBuilder("fuzz")
                    for obj in mutated:
                        builder.add(obj)  # type: ignore[arg-type]
                    a = analyze(builder.build())
                    assert a.namespace("shop") is not None
                    tried += 1
    assert tried > 1000
