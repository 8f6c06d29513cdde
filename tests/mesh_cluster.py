"""A small cluster dump for digest and migration tests, built so a test can move one namespace step by step.

`write_cluster(path, payments=...)` writes a `v1 List`: istiod 1.24, namespaces `payments` (the one
that migrates), `orders` (ambient) and `legacy` (no mesh), plus extra namespaces on demand.
payments stages: "sidecar" (injection label, pods with istio-proxy), "labelled" (ambient label,
pods not yet restarted), "restarted" (ambient label, all but `keep_sidecars` pods restarted without
istio-proxy), with an optional waypoint and mTLS mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PAYMENT_APPS = ("checkout", "ledger", "wallet")


def _ns(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}},
    }


def _pod(ns: str, app: str, *, sidecar: bool, ambient: bool, suffix: str = "a1") -> dict[str, Any]:
    containers: list[dict[str, Any]] = [
        {
            "name": app,
            "image": f"registry.example.com/{app}:1.0",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        }
    ]
    annotations: dict[str, str] = {}
    if sidecar:
        containers.append(
            {
                "name": "istio-proxy",
                "image": "docker.io/istio/proxyv2:1.24.2",
                "args": ["proxy", "sidecar"],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            }
        )
        annotations["sidecar.istio.io/status"] = '{"containers":["istio-proxy"]}'
    if ambient:
        annotations["ambient.istio.io/redirection"] = "enabled"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{suffix}",
            "namespace": ns,
            "labels": {"app": app},
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-rs",
                    "uid": f"u-{ns}-{app}",
                    "controller": True,
                }
            ],
        },
        "spec": {"nodeName": "node-a", "containers": containers},
        "status": {"phase": "Running"},
    }


def cluster(
    *,
    payments: str = "sidecar",
    keep_sidecars: int = 0,
    waypoint: bool = False,
    payments_mtls: str | None = "STRICT",
    extra_namespaces: int = 0,
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        _ns("istio-system", {}),
        _ns("orders", {"istio.io/dataplane-mode": "ambient"}),
        _ns("legacy", {}),
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-a"},
            "status": {
                "nodeInfo": {
                    "kernelVersion": "6.1.0",
                    "osImage": "Ubuntu",
                    "containerRuntimeVersion": "containerd://1.7",
                }
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "istiod", "namespace": "istio-system", "labels": {"app": "istiod"}},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "istiod"}},
                    "spec": {"containers": [{"name": "discovery", "image": "docker.io/istio/pilot:1.24.2"}]},
                }
            },
        },
        _pod("orders", "cart", sidecar=False, ambient=True),
        _pod("legacy", "batch", sidecar=False, ambient=False),
    ]
    labels = {"istio-injection": "enabled"} if payments == "sidecar" else {"istio.io/dataplane-mode": "ambient"}
    if payments != "gone":
        items.append(_ns("payments", labels))
    for i, app in enumerate(PAYMENT_APPS if payments != "gone" else ()):
        if payments == "sidecar" or payments == "labelled":
            items.append(_pod("payments", app, sidecar=True, ambient=False))
        else:
            still = i < keep_sidecars
            items.append(_pod("payments", app, sidecar=still, ambient=not still, suffix="a1" if still else "b2"))
    if payments_mtls and payments != "gone":
        items.append(
            {
                "apiVersion": "security.istio.io/v1",
                "kind": "PeerAuthentication",
                "metadata": {"name": "default", "namespace": "payments", "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"mtls": {"mode": payments_mtls}},
            }
        )
    if waypoint and payments != "gone":
        items.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "Gateway",
                "metadata": {
                    "name": "waypoint",
                    "namespace": "payments",
                    "labels": {"istio.io/waypoint-for": "service"},
                },
                "spec": {
                    "gatewayClassName": "istio-waypoint",
                    "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
                },
                "status": {
                    "addresses": [{"type": "Hostname", "value": "waypoint.payments.svc.cluster.local"}],
                    "conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed"}],
                },
            }
        )
    for n in range(extra_namespaces):
        name = f"team-{n:04d}"
        items.append(_ns(name, {"istio-injection": "enabled"}))
        items.append(_pod(name, "api", sidecar=True, ambient=False))
    return items


def write_cluster(path: Path, **options: Any) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": cluster(**options)}, sort_keys=False))
    return path
