"""Least privilege, proved from the code: the rendered ClusterRole grants exactly what the reader does.

Two sources of truth are checked against the chart rendered by the real Helm engine:
- cluster/kinds.py KINDS, through cluster.rbac (the generator of helm/meshbot/files/rbac-rules.yaml);
- what the live reader actually requests from a kube-apiserver double: every request it makes is
  allowed by the ClusterRole, and every grant of the ClusterRole is used by some request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from helm_render import CHART_DIR, NAMESPACE, load_chart, manifests, one
from kube_double import KubeDouble

from cluster import rbac
from cluster.kinds import KINDS, Kind
from cluster.live import read_live

FIXTURE = Path(__file__).parent / "fixtures" / "small-cluster.yaml"
READ_VERBS = {"get", "list", "watch"}
POSTGRES = {"replicaCount": 2, "database": {"url": "postgresql+psycopg://meshbot@db:5432/meshbot"}}


@dataclass(frozen=True)
class Access:
    """A request as the Kubernetes authorizer sees it."""

    verb: str
    group: str
    resource: str
    name: str = ""
    namespace: str = ""


def allows(rules: list[dict[str, Any]], access: Access) -> bool:
    """Kubernetes RBAC semantics for resource requests (wildcards included, so a '*' cannot slip through)."""
    for rule in rules:
        names = rule.get("resourceNames") or []
        if (
            ({"*", access.group} & set(rule.get("apiGroups", [])))
            and ({"*", access.resource} & set(rule.get("resources", [])))
            and ({"*", access.verb} & set(rule["verbs"]))
            and (not names or access.name in names)
        ):
            return True
    return False


def access_of(method: str, path: str, query: dict[str, str]) -> Access | None:
    """The resource attributes of an API request, or None for discovery (a non-resource URL)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None  # /api, /apis, /apis/<group>, /version: discovery, allowed to every authenticated user
    if not rest:
        return None  # /api/v1, /apis/<group>/<version>: discovery
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name = rest[0], (rest[1] if len(rest) > 1 else "")
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    if method == "GET":
        verb = "get" if name else ("watch" if query.get("watch") in ("1", "true") else "list")
    else:
        verb = verbs[method]
    return Access(verb, group, resource, name, namespace)


def grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(group, resource, verb) triples a rule list spells out (no wildcards expected)."""
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


@pytest.fixture(scope="module")
def chart() -> helm.Chart:
    return load_chart()


@pytest.fixture(scope="module")
def cluster_role(chart: helm.Chart) -> dict[str, Any]:
    return one(manifests(chart), "ClusterRole")


# -- the generator and the chart agree with cluster/kinds.py


def test_chart_rules_file_is_generated_from_kinds() -> None:
    on_disk = (CHART_DIR / "files" / "rbac-rules.yaml").read_text(encoding="utf-8")
    assert on_disk == rbac.rules_yaml(), "run: python -m cluster.rbac --write"


def test_check_mode_flags_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / rbac.CHART_RULES_FILE
    target.parent.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert rbac.main(["--check"]) == 1
    assert rbac.main(["--write"]) == 0
    assert rbac.main(["--check"]) == 0
    target.write_text(rbac.rules_yaml().replace("- pods\n", ""), encoding="utf-8")
    assert rbac.main(["--check"]) == 1


def test_rendered_cluster_role_grants_exactly_list_on_the_kinds_read(cluster_role: dict[str, Any]) -> None:
    rules = cluster_role["rules"]
    by_group = {rule["apiGroups"][0]: rule for rule in rules}
    assert len(by_group) == len(rules), "one rule per API group"
    expected: dict[str, set[str]] = {}
    for kind in KINDS:
        expected.setdefault(kind.group, set()).add(kind.plural)
    assert set(by_group) == set(expected)
    for group, rule in by_group.items():
        assert rule["apiGroups"] == [group]
        assert set(rule["resources"]) == expected[group], group
        assert rule["verbs"] == ["list"], group
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule


def test_no_secrets_and_no_wildcards_anywhere(chart: helm.Chart) -> None:
    for values in ({}, POSTGRES):
        for obj in manifests(chart, values):
            if obj["kind"] not in ("ClusterRole", "Role"):
                continue
            for rule in obj["rules"]:
                assert "secrets" not in rule["resources"], obj["metadata"]["name"]
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[field], (obj["metadata"]["name"], field)


def test_the_generator_refuses_secrets() -> None:
    with pytest.raises(ValueError, match="never reads secrets"):
        rbac.rules([*KINDS, Kind("Secret", "", ("v1",), "secrets")])


def test_no_write_verb_outside_the_lease_role(chart: helm.Chart) -> None:
    roles = [o for o in manifests(chart, POSTGRES) if o["kind"] in ("ClusterRole", "Role")]
    assert sorted(o["kind"] for o in roles) == ["ClusterRole", "Role"]
    for role in roles:
        for rule in role["rules"]:
            writes = set(rule["verbs"]) - READ_VERBS
            if role["kind"] == "ClusterRole":
                assert not writes, rule
            else:
                assert rule["apiGroups"] == ["coordination.k8s.io"] and rule["resources"] == ["leases"], rule
                assert writes <= {"create", "update"}, rule


def test_lease_role_is_only_what_leader_election_needs(chart: helm.Chart) -> None:
    objects = manifests(chart, POSTGRES)
    role = one(objects, "Role")
    env = {e["name"]: e for e in one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    lease = env["MESHBOT_LEASE_NAME"]["value"]
    assert env["MESHBOT_LEASE_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert role["metadata"]["namespace"] == NAMESPACE
    rules = role["rules"]
    assert grants(rules) == {
        ("coordination.k8s.io", "leases", "create"),
        ("coordination.k8s.io", "leases", "get"),
        ("coordination.k8s.io", "leases", "update"),
    }
    # get/update are pinned to the bot's own Lease; create cannot be (the object has no name yet).
    assert allows(rules, Access("update", "coordination.k8s.io", "leases", lease))
    assert allows(rules, Access("get", "coordination.k8s.io", "leases", lease))
    assert not allows(rules, Access("update", "coordination.k8s.io", "leases", "kube-scheduler"))
    assert not allows(rules, Access("delete", "coordination.k8s.io", "leases", lease))
    assert not allows(rules, Access("patch", "coordination.k8s.io", "leases", lease))
    binding = one(objects, "RoleBinding")
    sa = one(objects, "ServiceAccount")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}]


def test_cluster_role_is_bound_to_the_bot_only(chart: helm.Chart) -> None:
    objects = manifests(chart)
    binding = one(objects, "ClusterRoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": one(objects, "ClusterRole")["metadata"]["name"],
    }
    sa = one(objects, "ServiceAccount")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}]


def test_rbac_create_false_renders_no_rbac(chart: helm.Chart) -> None:
    kinds = {o["kind"] for o in manifests(chart, {**POSTGRES, "rbac": {"create": False}})}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


# -- the live reader's real requests: each allowed, each grant used


def test_the_live_reader_needs_exactly_what_the_cluster_role_grants(
    cluster_role: dict[str, Any], tmp_path: Path
) -> None:
    with KubeDouble([FIXTURE], crd_groups="all") as api:
        snapshot = read_live(kubeconfig=api.kubeconfig(tmp_path / "kubeconfig"), context=None, timeout=10)
        requests = list(api.requests)
    assert snapshot is not None
    accesses = [a for a in (access_of(r.method, r.path, r.query) for r in requests) if a is not None]
    assert accesses, "the reader made no resource request"
    denied = [a for a in accesses if not allows(cluster_role["rules"], a)]
    assert denied == [], f"the reader needs permissions the chart does not grant: {denied}"
    assert all(a.namespace == "" for a in accesses), "the reader lists cluster-wide, never per namespace"
    used = {(a.group, a.resource, a.verb) for a in accesses}
    assert used == grants(cluster_role["rules"]), "the chart grants more than the reader uses"


def test_access_parser_sees_what_a_write_would_need() -> None:
    """The request classifier is honest: writes and gets would be caught by the test above."""
    assert access_of("GET", "/apis/security.istio.io/v1/peerauthentications", {}) == Access(
        "list", "security.istio.io", "peerauthentications"
    )
    assert access_of("GET", "/api/v1/namespaces/default/secrets/token", {}) == Access(
        "get", "", "secrets", "token", "default"
    )
    assert access_of("PUT", "/apis/coordination.k8s.io/v1/namespaces/x/leases/l", {}) == Access(
        "update", "coordination.k8s.io", "leases", "l", "x"
    )
    assert access_of("GET", "/api/v1/pods", {"watch": "true"}) == Access("watch", "", "pods")
    for discovery in ("/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/version"):
        assert access_of("GET", discovery, {}) is None
    rules = yaml.safe_load(rbac.rules_yaml())
    assert not allows(rules, Access("get", "", "secrets", "token", "default"))
    assert not allows(rules, Access("get", "", "pods", "p"))
    assert allows(rules, Access("list", "networking.istio.io", "envoyfilters"))


def test_leader_election_needs_exactly_what_the_lease_role_grants(chart: helm.Chart, tmp_path: Path) -> None:
    """Two replicas' electors, configured the way the chart configures the pod, against the API double."""
    from bot.leader import LeaderElector, coordination_api

    objects = manifests(chart, POSTGRES)
    role_rules = one(objects, "Role")["rules"]
    env = {e["name"]: e for e in one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    lease_name = env["MESHBOT_LEASE_NAME"]["value"]
    with KubeDouble([FIXTURE]) as api:
        kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
        electors = [
            LeaderElector(
                coordination_api(kubeconfig, None),
                name=lease_name,
                namespace=NAMESPACE,  # the downward API's metadata.namespace
                identity=f"meshbot-{n}",
                lease_duration=15,
                renew_every=5,
                on_started_leading=lambda: None,
                on_stopped_leading=lambda: None,
            )
            for n in range(2)
        ]
        first, second = electors
        assert first.step() is True  # creates the Lease
        assert second.step() is False  # reads it, held by the first
        assert first.step() is True  # renews it
        first.stop(release=True)  # hands it back
        assert second.step() is True  # takes it over
        requests = list(api.requests)
    accesses = [a for a in (access_of(r.method, r.path, r.query) for r in requests) if a is not None]
    lease_accesses = [a for a in accesses if a.resource == "leases"]
    assert lease_accesses and len(lease_accesses) == len(accesses)
    denied = [a for a in accesses if not allows(role_rules, a)]
    assert denied == [], f"leader election needs permissions the chart does not grant: {denied}"
    assert {a.namespace for a in accesses} == {NAMESPACE}
    assert {(a.group, a.resource, a.verb) for a in accesses} == grants(role_rules), "the Role grants more than is used"
