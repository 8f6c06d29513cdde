"""A synthetic cluster as the API server would return it: 500 namespaces, 20,000 pods by default.

Pods look like real ones (managedFields, ownerReferences, probes, env, volumes, resources, status with
conditions and container statuses); a share runs injected istio-proxy sidecars, a share is ambient.
Objects are generated lazily so 20k pods never sit in memory as dicts at once.

    python benchmarks/synth_cluster.py --out /tmp/synth.json   # write a `v1 List` dump
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ISTIO_VERSION = "1.24.2"
CREATED = "2026-03-02T08:15:00Z"
APPS_PER_NAMESPACE = 8


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _managed_fields(manager: str, keys: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "manager": manager,
            "operation": "Update",
            "time": CREATED,
            "fieldsV1": {"f:metadata": {"f:labels": {f"f:{k}": {} for k in keys}}, "f:spec": {"f:containers": {}}},
        },
        {
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "manager": "kubelet",
            "operation": "Update",
            "subresource": "status",
            "time": CREATED,
            "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:podIP": {}, "f:startTime": {}}},
        },
    ]


def _app_container(app: str, rng: random.Random) -> dict[str, Any]:
    return {
        "name": app,
        "image": f"registry.example.com/team/{app}:{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "DB_HOST", "value": f"{app}-db.internal.example.com"},
        ],
        "resources": {
            "requests": {"cpu": f"{rng.choice([50, 100, 250, 500])}m", "memory": f"{rng.choice([128, 256, 512])}Mi"},
            "limits": {"memory": "1Gi"},
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10},
        "volumeMounts": [
            {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _istio_proxy() -> dict[str, Any]:
    env_names = [
        "PILOT_CERT_PROVIDER",
        "CA_ADDR",
        "POD_NAME",
        "POD_NAMESPACE",
        "INSTANCE_IP",
        "SERVICE_ACCOUNT",
        "HOST_IP",
        "ISTIO_CPU_LIMIT",
        "PROXY_CONFIG",
        "ISTIO_META_POD_PORTS",
        "ISTIO_META_APP_CONTAINERS",
        "GOMEMLIMIT",
        "GOMAXPROCS",
        "ISTIO_META_CLUSTER_ID",
        "ISTIO_META_NODE_NAME",
        "ISTIO_META_INTERCEPTION_MODE",
        "ISTIO_META_WORKLOAD_NAME",
        "ISTIO_META_OWNER",
        "ISTIO_META_MESH_ID",
        "TRUST_DOMAIN",
    ]
    return {
        "name": "istio-proxy",
        "image": f"docker.io/istio/proxyv2:{ISTIO_VERSION}",
        "args": [
            "proxy",
            "sidecar",
            "--domain",
            "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=warning",
            "--proxyComponentLogLevel=misc:error",
            "--log_output_level=default:info",
        ],
        "env": [{"name": n, "value": "istiod.istio-system.svc:15012" if n == "CA_ADDR" else "x"} for n in env_names],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 15},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsUser": 1337,
            "runAsGroup": 1337,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "volumeMounts": [
            {"mountPath": p, "name": n}
            for n, p in (
                ("workload-socket", "/var/run/secrets/workload-spiffe-uds"),
                ("istio-envoy", "/etc/istio/proxy"),
                ("istio-data", "/var/lib/istio/data"),
                ("istio-token", "/var/run/secrets/tokens"),
                ("istiod-ca-cert", "/var/run/secrets/istio"),
                ("istio-podinfo", "/etc/istio/pod"),
            )
        ],
    }


def _istio_init() -> dict[str, Any]:
    return {
        "name": "istio-init",
        "image": f"docker.io/istio/proxyv2:{ISTIO_VERSION}",
        "args": [
            "istio-iptables",
            "-p",
            "15001",
            "-z",
            "15006",
            "-u",
            "1337",
            "-m",
            "REDIRECT",
            "-i",
            "*",
            "-x",
            "",
            "-b",
            "*",
            "-d",
            "15090,15021,15020",
            "--log_output_level=default:info",
        ],
        "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}, "runAsUser": 0},
    }


def _status(containers: list[dict[str, Any]], node_ip: str, pod_ip: str) -> dict[str, Any]:
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": CREATED}
        for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    return {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": node_ip,
        "hostIPs": [{"ip": node_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": CREATED,
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": f"{c['image']}@sha256:{'ab' * 32}",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "containerID": f"containerd://{'cd' * 32}",
                "state": {"running": {"startedAt": CREATED}},
                "lastState": {},
            }
            for c in containers
        ],
    }


def namespace_mode(index: int) -> str:
    """60% sidecar, 25% ambient, 15% unmeshed namespaces."""
    bucket = index % 20
    return "sidecar" if bucket < 12 else "ambient" if bucket < 17 else "none"


def synth_objects(
    namespaces: int = 500, pods: int = 20_000, nodes: int = 100, seed: int = 7
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    yield from _control_plane()
    for n in range(nodes):
        yield _node(n)
    per_namespace = max(1, pods // namespaces)
    made = 0
    for i in range(namespaces):
        ns, mode = f"team-{i:03d}", namespace_mode(i)
        yield _namespace(ns, mode)
        count = per_namespace if i < namespaces - 1 else pods - made
        apps = [f"svc-{i:03d}-{a}" for a in range(APPS_PER_NAMESPACE)]
        for app in apps:
            yield _deployment(ns, app, mode, rng)
            yield {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": app, "namespace": ns, "uid": _uid(rng), "labels": {"app": app}},
                "spec": {
                    "selector": {"app": app},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
                    "type": "ClusterIP",
                    "clusterIP": f"10.96.{i % 250}.{rng.randint(1, 250)}",
                },
            }
        for p in range(count):
            yield _pod(ns, apps[p % len(apps)], p, mode, nodes, rng)
        made += count
        yield from _istio_resources(ns, i, mode)


def _control_plane() -> Iterator[dict[str, Any]]:
    yield {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system", "labels": {}}}
    yield {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "istiod", "namespace": "istio-system", "labels": {"app": "istiod"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "istiod", "istio.io/rev": "default"}},
                "spec": {"containers": [{"name": "discovery", "image": f"docker.io/istio/pilot:{ISTIO_VERSION}"}]},
            }
        },
    }
    yield {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "ztunnel", "namespace": "istio-system", "labels": {"app": "ztunnel"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "ztunnel"}},
                "spec": {"containers": [{"name": "istio-proxy", "image": f"docker.io/istio/ztunnel:{ISTIO_VERSION}"}]},
            }
        },
    }
    yield {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}},
    }


def _node(n: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": f"node-{n:03d}",
            "labels": {"kubernetes.io/hostname": f"node-{n:03d}", "topology.kubernetes.io/zone": f"zone-{n % 3}"},
        },
        "status": {
            "nodeInfo": {
                "kernelVersion": "6.1.0-18-cloud-amd64" if n % 4 else "5.10.0-28-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.13",
            },
            "capacity": {"cpu": "16", "memory": "65843728Ki", "pods": "110"},
        },
    }


def _namespace(ns: str, mode: str) -> dict[str, Any]:
    labels = {"kubernetes.io/metadata.name": ns, "team": ns}
    if mode == "sidecar":
        labels["istio-injection"] = "enabled"
    elif mode == "ambient":
        labels["istio.io/dataplane-mode"] = "ambient"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns, "labels": labels, "creationTimestamp": CREATED},
    }


def _deployment(ns: str, app: str, mode: str, rng: random.Random) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": ns, "uid": _uid(rng), "labels": {"app": app}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app, "version": "v1"}},
                "spec": {"containers": [_app_container(app, rng)]},
            },
        },
    }


def _pod(ns: str, app: str, p: int, mode: str, nodes: int, rng: random.Random) -> dict[str, Any]:
    rs_hash = f"{zlib.crc32(app.encode()):09x}"[:9]
    name = f"{app}-{rs_hash}-{p:05d}"
    labels = {"app": app, "version": "v1", "pod-template-hash": rs_hash}
    annotations = {"kubectl.kubernetes.io/default-container": app, "prometheus.io/scrape": "true"}
    containers = [_app_container(app, rng)]
    init: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = [
        {
            "name": "kube-api-access",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                ],
            },
        }
    ]
    if mode == "sidecar":
        labels |= {
            "security.istio.io/tlsMode": "istio",
            "service.istio.io/canonical-name": app,
            "service.istio.io/canonical-revision": "v1",
        }
        annotations |= {
            "sidecar.istio.io/status": json.dumps(
                {
                    "initContainers": ["istio-init"],
                    "containers": ["istio-proxy"],
                    "volumes": [
                        "workload-socket",
                        "istio-envoy",
                        "istio-data",
                        "istio-podinfo",
                        "istio-token",
                        "istiod-ca-cert",
                    ],
                    "imagePullSecrets": None,
                    "revision": "default",
                }
            ),
            "istio.io/rev": "default",
            "kubectl.kubernetes.io/default-logs-container": app,
        }
        containers.append(_istio_proxy())
        init.append(_istio_init())
        volumes += [{"name": v, "emptyDir": {}} for v in ("workload-socket", "istio-envoy", "istio-data")]
    elif mode == "ambient":
        annotations["ambient.istio.io/redirection"] = "enabled"
    node = f"node-{rng.randrange(nodes):03d}"
    spec: dict[str, Any] = {
        "containers": containers,
        "volumes": volumes,
        "nodeName": node,
        "serviceAccountName": app,
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "priority": 0,
        "enableServiceLinks": True,
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
        ],
    }
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{app}-{rs_hash}-",
            "namespace": ns,
            "uid": _uid(rng),
            "creationTimestamp": CREATED,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-{rs_hash}",
                    "uid": _uid(rng),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": _managed_fields("kube-controller-manager", list(labels)),
        },
        "spec": spec,
        "status": _status(
            containers,
            f"10.0.{int(node[-3:]) // 250}.{int(node[-3:]) % 250}",
            f"10.244.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        ),
    }


def _istio_resources(ns: str, i: int, mode: str) -> Iterator[dict[str, Any]]:
    if i % 5 == 0:
        yield {
            "apiVersion": "security.istio.io/v1",
            "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": ns},
            "spec": {"mtls": {"mode": "STRICT"}},
        }
    if i % 7 == 0:
        yield {
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"name": "allow-get", "namespace": ns},
            "spec": {"action": "ALLOW", "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]},
        }
    if i % 25 == 0:
        yield {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "EnvoyFilter",
            "metadata": {"name": "lua-header", "namespace": ns},
            "spec": {
                "configPatches": [
                    {
                        "applyTo": "HTTP_FILTER",
                        "patch": {"operation": "INSERT_BEFORE", "value": {"name": "envoy.filters.http.lua"}},
                    }
                ]
            },
        }
    if i % 10 == 0:
        yield {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": f"svc-{i:03d}-0", "namespace": ns},
            "spec": {
                "hosts": [f"svc-{i:03d}-0"],
                "http": [
                    {
                        "route": [
                            {"destination": {"host": f"svc-{i:03d}-0", "subset": "v1"}, "weight": 90},
                            {"destination": {"host": f"svc-{i:03d}-0", "subset": "v2"}, "weight": 10},
                        ]
                    }
                ],
            },
        }
    if mode == "ambient" and i % 3 == 0:
        yield {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "waypoint", "namespace": ns, "labels": {"istio.io/waypoint-for": "service"}},
            "spec": {
                "gatewayClassName": "istio-waypoint",
                "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
            },
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods", type=int, default=20_000)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as out:
        out.write('{"apiVersion":"v1","kind":"List","items":[\n')
        for index, obj in enumerate(synth_objects(args.namespaces, args.pods)):
            out.write(("," if index else "") + json.dumps(obj, separators=(",", ":")) + "\n")
        out.write("]}\n")


if __name__ == "__main__":
    main()
