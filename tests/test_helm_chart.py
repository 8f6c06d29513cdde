"""The Helm chart rendered by the real Helm engine, linted, and validated against Kubernetes' schemas."""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from helm_render import CHART_DIR, NAMESPACE, RELEASE, kinds, load_chart, manifests, notes, one, render

ROOT = Path(__file__).resolve().parents[1]
BOT = "xoxb-111-222-abcdefghijklmnop"
APP = "xapp-1-A111-222-abcdef0123456789"
SIGNING = "0123456789abcdef0123456789abcdef"
POSTGRES = "postgresql+psycopg://meshbot@postgres.db:5432/meshbot"

# Kubernetes versions the chart supports (Chart.yaml kubeVersion >=1.27): the oldest and the newest schemas.
KUBE_VERSIONS = ("1.27", kubernetes_validate.latest_version())
# Custom resources have no schema in kubernetes-validate: checked field by field in their own test instead.
CRD_KINDS = {"ServiceMonitor"}

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "socket-with-tokens": {"slack": {"botToken": BOT, "appToken": APP}},
    "http-ingress": {
        "mode": "http",
        "slack": {"botToken": BOT, "signingSecret": SIGNING},
        "ingress": {"enabled": True, "className": "nginx", "host": "meshbot.example.org"},
    },
    "existing-secret": {"slack": {"existingSecret": "slack-tokens"}},
    "no-persistence": {"persistence": {"enabled": False}},
    "existing-claim": {"persistence": {"existingClaim": "my-claim"}},
    "service-monitor": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}}}},
    "replicas-postgres": {"replicaCount": 2, "database": {"url": POSTGRES}},
    "replicas-db-secret": {"replicaCount": 3, "database": {"existingSecret": "meshbot-db"}},
    "settings": {
        "command": "/istio",
        "language": "ko",
        "rootNamespace": "mesh-root",
        "clusterChannels": ["C0123", "C0456:payments|orders"],
        "authorization": {
            "operators": ["U0ALICE", "S0SRE"],
            "teamId": "T0ACME",
            "minDigestInterval": "30m",
            "rateLimit": 5,
            "auditRetentionDays": 30,
        },
        "clusterNamespaces": ["payments", "orders"],
        "slack": {"apiUrl": "https://slack-gov.com/api/"},
        "extraEnv": [{"name": "MESHBOT_KERNEL_MIN", "value": "5.10"}],
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
        "imagePullSecrets": [{"name": "regcred"}],
        "revisionHistoryLimit": 2,
        "envFrom": [{"secretRef": {"name": "meshbot-extra"}}],
        "extraVolumes": [{"name": "corp-ca", "configMap": {"name": "corp-ca"}}],
        "extraVolumeMounts": [{"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True}],
    },
    "openshift": {"openshift": True},
    "network-policy": {
        "networkPolicy": {
            "enabled": True,
            "apiServerCIDRs": ["10.96.0.1/32", "172.20.0.10/32"],
            "database": {"peers": [{"podSelector": {"matchLabels": {"app": "postgres"}}}]},
            "prometheus": {"peers": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]},
            "ingressFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
        },
    },
    "prometheus": {
        "prometheus": {
            "url": "https://prometheus.monitoring:9090",
            "tokenSecret": "prom-token",
            "caConfigMap": "prom-ca",
            "window": "6h",
        },
    },
    "pdb-max-unavailable": {
        "replicaCount": 3,
        "database": {"url": POSTGRES},
        "podDisruptionBudget": {"maxUnavailable": 1},
    },
    "no-tests": {"tests": {"enabled": False}},
    "multi-cluster": {
        "multiCluster": {
            "kubeconfigSecret": "meshbot-kubeconfig",
            "clusters": {"prod": "prod-eks", "stage": "in-cluster"},
            "channelClusters": {"C0PRODOPS": "prod", "C0STAGE": "stage"},
        },
    },
}


@pytest.fixture(scope="module")
def chart() -> helm.Chart:
    return load_chart()


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["meshbot"]
    first: dict[str, Any] = pod["containers"][0]
    return first


def env_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Environment of the container: plain values as str, references as their valueFrom dict."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(objects)["env"]}


# -- the engine's own checks


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lint_reports_no_errors_or_warnings(variant: str) -> None:
    report = helm.lint(CHART_DIR, VARIANTS[variant], strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error; 1 is info (icon)
    assert problems == []


def test_lint_catches_a_broken_value() -> None:
    report = helm.lint(CHART_DIR, {"replicas": 2}, namespace=NAMESPACE)
    assert any("replicas" in error for error in report["errors"])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_manifest_validates_against_kubernetes_schemas(chart: helm.Chart, variant: str) -> None:
    objects = manifests(chart, VARIANTS[variant])
    checked = 0
    for obj in objects:
        if obj["kind"] in CRD_KINDS:
            continue
        for version in KUBE_VERSIONS:
            # strict: unknown fields (a typo in a template) fail too
            kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked >= 6


# -- what the default install gives


def test_default_install_renders_the_expected_objects(chart: helm.Chart) -> None:
    objects = manifests(chart)
    assert kinds(objects) == sorted(
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "PersistentVolumeClaim",
            "Pod",  # the `helm test` hook
            "Secret",
            "Service",
            "ServiceAccount",
        ]
    )
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == NAMESPACE


def test_deployment_is_hardened(chart: helm.Chart) -> None:
    objects = manifests(chart)
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True  # the bot reads the API with it
    assert pod["serviceAccountName"] == one(objects, "ServiceAccount")["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    box = container(objects)["securityContext"]
    assert box["readOnlyRootFilesystem"] is True
    assert box["allowPrivilegeEscalation"] is False
    assert box["privileged"] is False
    assert box["capabilities"] == {"drop": ["ALL"]}
    assert box["runAsNonRoot"] is True
    assert box["seccompProfile"] == {"type": "RuntimeDefault"}
    mounts = {m["mountPath"]: m["name"] for m in container(objects)["volumeMounts"]}
    assert mounts == {"/data": "data", "/tmp": "tmp"}  # the only writable places


def test_probes_and_resources(chart: helm.Chart) -> None:
    box = container(manifests(chart))
    port = {p["name"]: p["containerPort"] for p in box["ports"]}
    assert port == {"http": 8080}
    assert box["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert box["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert box["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert box["resources"]["requests"]["memory"] and box["resources"]["limits"]["memory"]
    assert box["args"] == ["serve", "--mode", "socket"]


def test_settings_come_from_values(chart: helm.Chart) -> None:
    env = env_of(manifests(chart, VARIANTS["settings"]))
    assert env["MESHBOT_COMMAND"] == "/istio"
    assert env["MESHBOT_LANGUAGE"] == "ko"
    assert env["MESHBOT_ROOT_NAMESPACE"] == "mesh-root"
    assert env["MESHBOT_CLUSTER_CHANNELS"] == "C0123,C0456:payments|orders"  # bot/config.py splits on commas
    assert env["MESHBOT_CLUSTER_NAMESPACES"] == "payments,orders"
    assert env["MESHBOT_SLACK_API_URL"] == "https://slack-gov.com/api/"
    assert env["MESHBOT_KERNEL_MIN"] == "5.10"
    assert env["MESHBOT_PORT"] == "8080"
    assert env["MESHBOT_LOG_FORMAT"] == "json"
    assert env["MESHBOT_LEASE_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def test_default_settings_leave_optional_ones_unset(chart: helm.Chart) -> None:
    env = env_of(manifests(chart))
    for unset in ("MESHBOT_CLUSTER_CHANNELS", "MESHBOT_CLUSTER_NAMESPACES", "MESHBOT_SLACK_API_URL"):
        assert unset not in env
    assert env["MESHBOT_DATABASE_URL"] == "sqlite:////data/meshbot.sqlite"
    assert env["MESHBOT_LEADER_ELECTION"] == "false"


def test_settings_env_names_are_the_ones_the_bot_reads(chart: helm.Chart) -> None:
    """Every MESHBOT_/SLACK_ variable the chart sets is a real setting (or read by bot.logs): no dead knobs."""
    from bot import logs
    from bot.config import Settings

    known = {str(f.validation_alias) for f in Settings.model_fields.values()} | {logs.FORMAT_ENV, logs.LEVEL_ENV}
    env = env_of(manifests(chart, {**VARIANTS["settings"], "extraEnv": []}))
    assert set(env) <= known, set(env) - known


# -- Slack tokens


def test_tokens_come_from_the_chart_secret(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["socket-with-tokens"])
    secret = one(objects, "Secret")
    assert base64.b64decode(secret["data"]["SLACK_BOT_TOKEN"]).decode() == BOT
    assert base64.b64decode(secret["data"]["SLACK_APP_TOKEN"]).decode() == APP
    env = env_of(objects)
    name = secret["metadata"]["name"]
    assert env["SLACK_BOT_TOKEN"] == {"secretKeyRef": {"name": name, "key": "SLACK_BOT_TOKEN"}}
    assert env["SLACK_APP_TOKEN"] == {"secretKeyRef": {"name": name, "key": "SLACK_APP_TOKEN"}}
    assert "SLACK_SIGNING_SECRET" not in env  # socket mode needs none
    deployment_text = yaml.safe_dump(one(objects, "Deployment"))
    assert BOT not in deployment_text and APP not in deployment_text


def test_token_change_rolls_the_pods(chart: helm.Chart) -> None:
    def checksum(values: dict[str, Any]) -> str:
        pod = one(manifests(chart, values), "Deployment")["spec"]["template"]
        return str(pod["metadata"]["annotations"]["checksum/slack-secret"])

    assert checksum(VARIANTS["socket-with-tokens"]) != checksum({"slack": {"botToken": BOT, "appToken": APP + "x"}})


def test_existing_secret_is_referenced_and_no_secret_is_created(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["existing-secret"])
    assert "Secret" not in kinds(objects)
    env = env_of(objects)
    assert env["SLACK_BOT_TOKEN"]["secretKeyRef"]["name"] == "slack-tokens"
    assert env["SLACK_APP_TOKEN"]["secretKeyRef"]["name"] == "slack-tokens"
    assert "annotations" not in one(objects, "Deployment")["spec"]["template"]["metadata"]
    with_annotation = {**VARIANTS["existing-secret"], "podAnnotations": {"team": "mesh"}}
    assert one(manifests(chart, with_annotation), "Deployment")["spec"]["template"]["metadata"]["annotations"] == {
        "team": "mesh"
    }


def test_http_mode(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["http-ingress"])
    assert container(objects)["args"] == ["serve", "--mode", "http"]
    env = env_of(objects)
    assert env["SLACK_SIGNING_SECRET"]["secretKeyRef"]["key"] == "SLACK_SIGNING_SECRET"
    assert "SLACK_APP_TOKEN" not in env
    ingress = one(objects, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "meshbot.example.org"
    (path,) = rule["http"]["paths"]
    # Only Slack's endpoint is public: /metrics and the probes stay inside the cluster.
    assert (path["path"], path["pathType"]) == ("/slack/events", "Exact")
    assert path["backend"]["service"]["name"] == one(objects, "Service")["metadata"]["name"]


def test_ingress_needs_http_mode(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match="only for mode=http"):
        render(chart, {"ingress": {"enabled": True, "host": "x.example.org"}})


def test_missing_tokens_are_called_out_in_notes(chart: helm.Chart) -> None:
    assert "Slack tokens are missing" in notes(chart)
    assert "Slack tokens are missing" not in notes(chart, VARIANTS["socket-with-tokens"])
    assert "Slack tokens are missing" not in notes(chart, VARIANTS["existing-secret"])


# -- storage, replicas, leader election


def test_sqlite_on_a_persistent_volume_by_default(chart: helm.Chart) -> None:
    objects = manifests(chart)
    claim = one(objects, "PersistentVolumeClaim")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    data = next(v for v in pod["volumes"] if v["name"] == "data")
    assert data == {"name": "data", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # one SQLite writer: the old pod stops before the new one starts
    assert one(objects, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


def test_persistence_off_uses_an_empty_dir_and_says_so(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["no-persistence"])
    assert "PersistentVolumeClaim" not in kinds(objects)
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert next(v for v in pod["volumes"] if v["name"] == "data") == {"name": "data", "emptyDir": {}}
    assert "persistence is disabled" in notes(chart, VARIANTS["no-persistence"])


def test_existing_claim_is_mounted_and_none_created(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["existing-claim"])
    assert "PersistentVolumeClaim" not in kinds(objects)
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert next(v for v in pod["volumes"] if v["name"] == "data")["persistentVolumeClaim"]["claimName"] == "my-claim"


def test_several_replicas_with_sqlite_fail_with_a_clear_message(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError) as caught:
        render(chart, {"replicaCount": 2})
    message = str(caught.value)
    assert "replicaCount=2 needs PostgreSQL" in message
    assert "database.url" in message
    with pytest.raises(helm.HelmRenderError, match="needs PostgreSQL"):
        render(chart, {"replicaCount": 2, "database": {"url": "sqlite:////data/other.sqlite"}})


def test_several_replicas_without_leader_election_fail(chart: helm.Chart) -> None:
    values = {**VARIANTS["replicas-postgres"], "leaderElection": {"enabled": False}}
    with pytest.raises(helm.HelmRenderError, match="leaderElection"):
        render(chart, values)


@pytest.mark.parametrize("variant", ["replicas-postgres", "replicas-db-secret"])
def test_several_replicas_with_postgres_elect_a_leader(chart: helm.Chart, variant: str) -> None:
    objects = manifests(chart, VARIANTS[variant])
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == VARIANTS[variant]["replicaCount"]
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert "PersistentVolumeClaim" not in kinds(objects)
    env = env_of(objects)
    assert env["MESHBOT_LEADER_ELECTION"] == "true"
    if variant == "replicas-postgres":
        assert env["MESHBOT_DATABASE_URL"] == POSTGRES
    else:
        assert env["MESHBOT_DATABASE_URL"] == {"secretKeyRef": {"name": "meshbot-db", "key": "MESHBOT_DATABASE_URL"}}
    role = one(objects, "Role")
    binding = one(objects, "RoleBinding")
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["name"] == role["metadata"]["name"]


def test_one_replica_has_no_lease_role(chart: helm.Chart) -> None:
    assert "Role" not in kinds(manifests(chart))
    forced = manifests(chart, {"leaderElection": {"enabled": True}})
    assert "Role" in kinds(forced) and env_of(forced)["MESHBOT_LEADER_ELECTION"] == "true"


# -- metrics


def test_service_exposes_the_metrics_port(chart: helm.Chart) -> None:
    objects = manifests(chart)
    service = one(objects, "Service")
    (port,) = service["spec"]["ports"]
    assert port["name"] == "http" and port["targetPort"] == "http"
    pod_labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_service_monitor_scrapes_metrics(chart: helm.Chart) -> None:
    assert "ServiceMonitor" not in kinds(manifests(chart))
    objects = manifests(chart, VARIANTS["service-monitor"])
    monitor = one(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] == one(objects, "Service")["spec"]["ports"][0]["name"]
    assert monitor["spec"]["selector"]["matchLabels"] == one(objects, "Service")["spec"]["selector"]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


# -- values.schema.json


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicas": 2}, "additional properties 'replicas' not allowed"),
        ({"image": {"repository": "r", "tagg": "1"}}, "additional properties 'tagg' not allowed"),
        ({"replicaCount": "2"}, "got string, want integer"),
        ({"mode": "websocket"}, "value must be one of 'socket', 'http'"),
        ({"persistence": {"enabled": "yes"}}, "got string, want boolean"),
        ({"slack": {"botToken": APP}}, "/slack/botToken"),  # tokens swapped
        ({"clusterChannels": ["#general"]}, "/clusterChannels/0"),  # a name, not a channel id
        ({"command": "mesh"}, "/command"),
        ({"rootNamespace": ""}, "/rootNamespace"),
        ({"rootNamespace": "Istio_System"}, "/rootNamespace"),
        ({"resources": {"limits": {"memory": "lots"}}}, "/resources/limits/memory"),
    ],
)
def test_schema_rejects_typos_and_wrong_types(chart: helm.Chart, values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmValuesError, match=complaint):
        render(chart, values)


def test_values_yaml_passes_its_own_schema(chart: helm.Chart) -> None:
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    chart.validate_schema(defaults)
    assert chart.values == defaults


# -- the chart as a whole


def test_chart_metadata_matches_the_package(chart: helm.Chart) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    meta = chart.metadata
    assert meta["apiVersion"] == "v2"
    assert meta["appVersion"] == project["version"]
    assert container(manifests(chart))["image"] == f"meshbot:{project['version']}"


def test_notes_say_what_to_do_next(chart: helm.Chart) -> None:
    text = notes(chart, VARIANTS["socket-with-tokens"])
    assert "From a manifest" in text
    assert f"kubectl -n {NAMESPACE} rollout status deployment/{RELEASE}" in text
    assert "/mesh status" in text
    http_text = notes(chart, VARIANTS["http-ingress"])
    assert "https://YOUR-HOST/slack/events" in http_text and "meshbot.example.org" in http_text


def test_packaged_chart_renders_the_same(chart: helm.Chart, tmp_path: Path) -> None:
    """`helm package` keeps everything the templates need (files/rbac-rules.yaml, the schema)."""
    archive = Path(helm.package(CHART_DIR, destination=tmp_path))
    assert archive.name == "meshbot-0.1.0.tgz"
    with helm.Chart.load(archive) as packaged:
        assert packaged.schema == chart.schema
        values = VARIANTS["replicas-postgres"]
        assert render(packaged, values) == render(chart, values)


# -- every platform: security contexts, OpenShift, PDB, NetworkPolicy, test hook, extra env and volumes


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def test_security_contexts_are_values(chart: helm.Chart) -> None:
    objects = manifests(chart, {"securityContext": {"runAsUser": 20000, "capabilities": {"add": ["NET_BIND_SERVICE"]}}})
    box = container(objects)["securityContext"]
    assert box["runAsUser"] == 20000 and box["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert box["readOnlyRootFilesystem"] is True  # values merge into the hardened defaults
    assert pod_spec(objects)["securityContext"]["runAsUser"] == 10001  # the pod's own default stays
    relaxed = manifests(chart, {"securityContext": {"readOnlyRootFilesystem": None}})
    assert "readOnlyRootFilesystem" not in container(relaxed)["securityContext"]


def test_openshift_leaves_the_user_id_to_the_platform_and_stays_hardened(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["openshift"])
    test_pod = next(o for o in objects if o["kind"] == "Pod")
    for context in (
        pod_spec(objects)["securityContext"],
        container(objects)["securityContext"],
        test_pod["spec"]["securityContext"],
        test_pod["spec"]["containers"][0]["securityContext"],
    ):
        assert not {"runAsUser", "runAsGroup", "fsGroup"} & set(context), context
        assert context["runAsNonRoot"] is True
    box = container(objects)["securityContext"]
    assert box["readOnlyRootFilesystem"] is True and box["capabilities"] == {"drop": ["ALL"]}


def test_extra_env_from_and_volumes(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["settings"])
    assert container(objects)["envFrom"] == [{"secretRef": {"name": "meshbot-extra"}}]
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    assert volumes["corp-ca"] == {"name": "corp-ca", "configMap": {"name": "corp-ca"}}
    mounts = {m["mountPath"]: m for m in container(objects)["volumeMounts"]}
    assert mounts["/etc/corp-ca"]["name"] == "corp-ca" and mounts["/etc/corp-ca"]["readOnly"] is True
    assert one(objects, "Deployment")["spec"]["revisionHistoryLimit"] == 2
    assert "envFrom" not in container(manifests(chart))


def test_pod_disruption_budget_only_with_several_replicas(chart: helm.Chart) -> None:
    assert "PodDisruptionBudget" not in kinds(manifests(chart))
    objects = manifests(chart, VARIANTS["replicas-postgres"])
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1 and "maxUnavailable" not in pdb["spec"]
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    spec = one(manifests(chart, VARIANTS["pdb-max-unavailable"]), "PodDisruptionBudget")["spec"]
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec
    off = {**VARIANTS["replicas-postgres"], "podDisruptionBudget": {"enabled": False}}
    assert "PodDisruptionBudget" not in kinds(manifests(chart, off))


def test_network_policy_allows_only_dns_api_slack_database_and_prometheus(chart: helm.Chart) -> None:
    assert "NetworkPolicy" not in kinds(manifests(chart))
    objects = manifests(chart, VARIANTS["network-policy"])
    policy = one(objects, "NetworkPolicy")["spec"]
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    [ingress] = policy["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]
    ports = [sorted((p["port"], p["protocol"]) for p in rule["ports"]) for rule in policy["egress"]]
    assert ports == [
        [(53, "TCP"), (53, "UDP")],
        [(443, "TCP"), (6443, "TCP")],
        [(443, "TCP")],
        [(5432, "TCP")],
        [(9090, "TCP")],
    ]
    api = [peer["ipBlock"]["cidr"] for peer in policy["egress"][1]["to"]]
    assert api == ["10.96.0.1/32", "172.20.0.10/32"]
    [slack] = policy["egress"][2]["to"]
    assert slack["ipBlock"]["cidr"] == "0.0.0.0/0" and "10.0.0.0/8" in slack["ipBlock"]["except"]
    assert policy["egress"][3]["to"] == [{"podSelector": {"matchLabels": {"app": "postgres"}}}]


def test_network_policy_without_api_server_addresses_says_how_to_find_them(chart: helm.Chart) -> None:
    with pytest.raises(Exception, match="apiServerCIDRs"):
        manifests(chart, {"networkPolicy": {"enabled": True}})


def test_helm_test_hook_checks_readyz_through_the_service(chart: helm.Chart) -> None:
    objects = manifests(chart)
    pod = one(objects, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    [box] = pod["spec"]["containers"]
    assert box["image"] == container(objects)["image"]
    service = one(objects, "Service")
    url = f"http://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/readyz"
    assert url in box["command"][-1]
    compile(box["command"][-1], "helm-test", "exec")  # the check itself is valid Python
    assert "Pod" not in kinds(manifests(chart, VARIANTS["no-tests"]))


def test_prometheus_values_set_the_settings_and_mount_the_token_as_a_file(chart: helm.Chart) -> None:
    objects = manifests(chart, VARIANTS["prometheus"])
    env = env_of(objects)
    assert env["MESHBOT_PROMETHEUS_URL"] == "https://prometheus.monitoring:9090"
    assert env["MESHBOT_PROMETHEUS_WINDOW"] == "6h"
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
    assert env["MESHBOT_PROMETHEUS_TOKEN_FILE"] == mounts["prometheus-token"] + "/token"
    assert env["MESHBOT_PROMETHEUS_CA_FILE"] == mounts["prometheus-ca"] + "/ca.crt"
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    assert volumes["prometheus-token"]["secret"]["secretName"] == "prom-token"
    # the token itself is never an environment variable, only the path of its file
    assert not any(isinstance(value, dict) and "prom-token" in str(value) for value in env.values())
    default = manifests(chart)
    assert not any(name.startswith("MESHBOT_PROMETHEUS") for name in env_of(default))
    # Prometheus is not Kubernetes RBAC: the ClusterRole is the same with or without it.
    assert one(objects, "ClusterRole")["rules"] == one(default, "ClusterRole")["rules"]


def test_readme_documents_every_value_from_the_schema(chart: helm.Chart) -> None:
    from values_table import readme_table, table_from_schema

    assert readme_table() == table_from_schema(), "README values table is stale: run python tests/values_table.py"


def test_authorization_values_reach_the_settings_the_bot_reads(
    chart: helm.Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import Settings

    env = env_of(manifests(chart, {**VARIANTS["settings"], "extraEnv": []}))
    for name, value in env.items():
        if isinstance(value, str) and name.startswith("MESHBOT_"):
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.operators == ["U0ALICE", "S0SRE"]
    assert settings.slack_team_id == "T0ACME"
    assert (settings.min_digest_interval, settings.rate_limit, settings.audit_retention_days) == (1800.0, 5, 30)
    assert settings.cluster_channels == ["C0123", "C0456:payments|orders"]
    default = env_of(manifests(chart))
    assert "MESHBOT_OPERATORS" not in default and default["MESHBOT_MIN_DIGEST_INTERVAL"] == "1h"


def test_several_clusters_from_a_mounted_kubeconfig(chart: helm.Chart, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    objects = manifests(chart, VARIANTS["multi-cluster"])
    env = env_of(objects)
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
    assert env["MESHBOT_KUBECONFIG"] == mounts["kubeconfig"] + "/config"
    volumes = {v["name"]: v for v in pod_spec(objects)["volumes"]}
    assert volumes["kubeconfig"]["secret"]["secretName"] == "meshbot-kubeconfig"
    for name in ("MESHBOT_CLUSTERS", "MESHBOT_CHANNEL_CLUSTERS"):
        monkeypatch.setenv(name, env[name])
    settings = Settings()
    assert settings.clusters == {"prod": "prod-eks", "stage": "in-cluster"}
    assert settings.channel_clusters == {"C0PRODOPS": "prod", "C0STAGE": "stage"}
    assert "MESHBOT_CLUSTERS" not in env_of(manifests(chart))
