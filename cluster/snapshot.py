"""One typed, lean picture of the cluster: only what the analysis needs, from live API or a dump.

Pods dominate memory on large clusters, so raw objects are reduced to small slotted records as
they stream in (page by page) and the raw JSON is dropped.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from cluster.kinds import KINDS, Kind
from cluster.shapes import Problem, object_problem

# Only these label/annotation keys are kept: the rest of a pod's metadata is never analysed.
KEPT_KEY_MARKERS = ("istio", "sidecar", "ambient", "gateway.networking.k8s.io", "app", "version")


def _text(value: Any) -> str:
    """A scalar as text; absent (null) is "" (a name `0` stays "0")."""
    return "" if value is None else str(value)


def _scalar_text(value: Any) -> str:
    """A name for a note: a scalar as text, anything else (a map where a name belongs) as ""."""
    return _text(value) if isinstance(value, str | int | float | bool) else ""


def _keep(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict):
        return {}
    return {
        str(k): str(v)
        for k, v in mapping.items()
        if any(marker in str(k) for marker in KEPT_KEY_MARKERS) and v is not None
    }


@dataclass(slots=True, frozen=True)
class Meta:
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    created: str  # RFC 3339 creationTimestamp, "" when absent (sorts oldest)

    @classmethod
    def of(cls, obj: dict[str, Any], *, all_labels: bool = False) -> Meta:
        md = obj.get("metadata") or {}
        labels = md.get("labels") or {}
        return cls(
            name=_text(md.get("name")),
            namespace=_text(md.get("namespace")),
            labels={str(k): str(v) for k, v in labels.items()} if all_labels else _keep(labels),
            annotations=_keep(md.get("annotations")),
            created=str(md.get("creationTimestamp") or ""),
        )


@dataclass(slots=True, frozen=True)
class Container:
    name: str
    image: str
    cpu_request: str | None
    memory_request: str | None
    restart_policy: str | None  # "Always" on native sidecar init containers
    args: tuple[str, ...]  # kept only for istio-proxy (its role: sidecar or router)
    env: tuple[tuple[str, str], ...]  # kept only for CNI agents (e.g. Calico eBPF)

    @classmethod
    def of(cls, c: dict[str, Any], *, keep_env: bool = False) -> Container:
        requests = (c.get("resources") or {}).get("requests") or {}
        name = str(c.get("name") or "")
        env: tuple[tuple[str, str], ...] = ()
        if keep_env:
            env = tuple(
                (str(e.get("name")), str(e.get("value") or ""))
                for e in c.get("env") or []
                if isinstance(e, dict) and e.get("name")
            )
        return cls(
            name=name,
            image=str(c.get("image") or ""),
            cpu_request=str(requests["cpu"]) if "cpu" in requests else None,
            memory_request=str(requests["memory"]) if "memory" in requests else None,
            restart_policy=c.get("restartPolicy"),
            args=tuple(str(a) for a in c.get("args") or []) if name == "istio-proxy" else (),
            env=env,
        )


@dataclass(slots=True, frozen=True)
class Pod:
    meta: Meta
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...]
    host_network: bool
    node: str
    service_account: str
    phase: str
    owner: str  # "Kind/name" of the controller, "" when none


@dataclass(slots=True, frozen=True)
class Node:
    name: str
    kernel: str
    os_image: str
    runtime: str
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(slots=True, frozen=True)
class Condition:
    """One `status.conditions` entry, as istiod writes them (e.g. istio.io/WaypointBound, ZtunnelAccepted)."""

    type: str
    status: str  # "True" / "False" / "Unknown"
    reason: str = ""
    message: str = ""


def conditions_of(status: Any) -> tuple[Condition, ...]:
    """`status.conditions` of a raw object; anything malformed is left out."""
    items = status.get("conditions") if isinstance(status, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(
        Condition(
            str(c.get("type") or ""),
            str(c.get("status") or ""),
            str(c.get("reason") or ""),
            str(c.get("message") or ""),
        )
        for c in items
        if isinstance(c, dict) and c.get("type")
    )


@dataclass(slots=True, frozen=True)
class Service:
    meta: Meta
    selector: dict[str, str]
    conditions: tuple[Condition, ...] = ()  # istiod's istio.io/WaypointBound lives here


@dataclass(slots=True, frozen=True)
class Workload:
    """A Deployment or DaemonSet: control-plane and CNI components are recognised from these."""

    kind: str
    meta: Meta
    containers: tuple[Container, ...]
    template_labels: dict[str, str]


@dataclass(slots=True, frozen=True)
class Resource:
    """An Istio or Gateway API object: few per cluster, so the spec is kept whole."""

    kind: str
    group: str
    meta: Meta
    spec: dict[str, Any]
    status: dict[str, Any] = field(default_factory=dict)
    """Kept for Gateways (addresses, Programmed) and policies (istiod's ZtunnelAccepted/WaypointAccepted)."""

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return conditions_of(self.status)


@dataclass(slots=True, frozen=True)
class ReadIssue:
    kind: str
    status: int | None  # HTTP status, None for transport failures
    message: str
    message_ko: str = ""  # the Korean text, when the reader has one

    def explain(self, language: str) -> str:
        return self.message_ko if language == "ko" and self.message_ko else self.message


@dataclass(slots=True, frozen=True)
class ReadNote:
    """An object skipped because a field has the wrong type: which object, which field, what was expected."""

    kind: str
    namespace: str
    name: str
    field: str
    expected: str  # "map", "list", "scalar" (a string or number), "item" (a list item, not null)
    found: str  # the YAML/JSON type found: "string", "number", "boolean", "list", "map", "null"

    @property
    def resource(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where or '(no name)'}"

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass
class Snapshot:
    namespaces: list[Meta] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    resources: dict[str, list[Resource]] = field(default_factory=dict)
    missing_kinds: list[str] = field(default_factory=list)  # CRD not installed (404)
    issues: list[ReadIssue] = field(default_factory=list)  # 401/403/5xx/timeouts on a kind
    source: str = ""
    notes: list[ReadNote] = field(default_factory=list)  # objects skipped for wrong field types
    cluster: str = ""  # the cluster's name: a kubeconfig context, a MESHBOT_CLUSTERS name, a dump's manifest
    scope: tuple[str, ...] | None = None  # namespaces the reading covers (collect -n); None: all
    exported_kinds: frozenset[str] | None = None  # a dump without a manifest: the kinds it held
    assumed_absent: frozenset[str] = frozenset()  # --assume-absent: kinds the user says have no objects

    def of_kind(self, kind: str) -> list[Resource]:
        return self.resources.get(kind, [])

    @property
    def complete(self) -> bool:
        return not self.issues


def _group(obj: dict[str, Any]) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


KIND_BY_GROUP: dict[tuple[str, str], Kind] = {(k.group, k.kind): k for k in KINDS}


class SharedLabels:
    """Pods of one ReplicaSet carry identical labels: keep one interned dict per distinct set.

    PeerAuthentication/AuthorizationPolicy selectors match any pod label, so pods keep all of
    theirs; sharing keeps 20k pods at the cost of their distinct label sets, not of every copy.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self._containers: dict[tuple[Container, ...], tuple[Container, ...]] = {}

    def __call__(self, mapping: Any) -> dict[str, str]:
        if not isinstance(mapping, dict) or not mapping:
            return {}
        items = tuple(sorted((sys.intern(str(k)), sys.intern(str(v))) for k, v in mapping.items() if v is not None))
        shared = self._seen.get(items)
        if shared is None:
            shared = self._seen[items] = dict(items)
        return shared

    def containers(self, items: Any) -> tuple[Container, ...]:
        """Replicas run the same containers: one shared tuple per distinct set."""
        built = _containers(items)
        return self._containers.setdefault(built, built)


class SnapshotBuilder:
    """Feed raw API objects (dicts) one at a time; `build()` returns the Snapshot."""

    def __init__(self, source: str = "") -> None:
        self.snapshot = Snapshot(source=source)
        self._shared = SharedLabels()

    def add(self, obj: dict[str, Any]) -> bool:
        """Keep what analysis needs from one object; False for kinds meshbot does not analyse, and for objects
        with a field of the wrong type (skipped with a note naming the object and the field)."""
        kind = str(obj.get("kind") or "")
        known = KIND_BY_GROUP.get((_group(obj), kind))
        if known is None:
            return False
        problem = object_problem(obj)
        if problem is not None:
            self.skip(obj, kind, problem)
            return False
        snap = self.snapshot
        if kind == "Pod":
            snap.pods.append(_pod(obj, self._shared))
        elif kind == "Namespace":
            snap.namespaces.append(Meta.of(obj, all_labels=True))
        elif kind == "Node":
            snap.nodes.append(_node(obj))
        elif kind == "Service":
            spec = obj.get("spec") or {}
            selector = {str(k): str(v) for k, v in (spec.get("selector") or {}).items()}
            snap.services.append(Service(Meta.of(obj), selector, conditions_of(obj.get("status"))))
        elif kind in ("Deployment", "DaemonSet"):
            snap.workloads.append(_workload(kind, obj))
        else:
            spec, status = obj.get("spec"), obj.get("status")
            resource = Resource(
                kind,
                known.group,
                Meta.of(obj, all_labels=True),
                spec if isinstance(spec, dict) else {},
                status if isinstance(status, dict) else {},
            )
            snap.resources.setdefault(kind, []).append(resource)
        return True

    def skip(self, obj: dict[str, Any], kind: str, problem: Problem) -> None:
        md = obj.get("metadata")
        md = md if isinstance(md, dict) else {}
        name, namespace = md.get("name"), md.get("namespace")
        self.snapshot.notes.append(ReadNote(kind, _scalar_text(namespace), _scalar_text(name), *problem))

    def absorb(self, part: Snapshot) -> None:
        """Add what another builder read (a chunk decoded elsewhere) after what this one holds."""
        snap = self.snapshot
        snap.namespaces += part.namespaces
        snap.pods += part.pods
        snap.nodes += part.nodes
        snap.services += part.services
        snap.workloads += part.workloads
        for kind, resources in part.resources.items():
            snap.resources.setdefault(kind, []).extend(resources)
        snap.notes += part.notes

    def missing(self, kind: str) -> None:
        if kind not in self.snapshot.missing_kinds:
            self.snapshot.missing_kinds.append(kind)

    def failed(self, kind: str, status: int | None, message: str, message_ko: str = "") -> None:
        self.snapshot.issues.append(ReadIssue(kind, status, message, message_ko))

    def build(self) -> Snapshot:
        return self.snapshot


def _containers(items: Any, *, keep_env: bool = False) -> tuple[Container, ...]:
    return tuple(Container.of(c, keep_env=keep_env) for c in items or [] if isinstance(c, dict))


def _pod(obj: dict[str, Any], shared: SharedLabels) -> Pod:
    spec = obj.get("spec") or {}
    md = obj.get("metadata") or {}
    owners = md.get("ownerReferences") or []
    owner = next((f"{o.get('kind')}/{o.get('name')}" for o in owners if o.get("controller")), "")
    meta = Meta(
        name=_text(md.get("name")),
        namespace=sys.intern(_text(md.get("namespace"))),
        labels=shared(md.get("labels")),
        annotations=shared(_keep(md.get("annotations"))),
        created=str(md.get("creationTimestamp") or ""),
    )
    return Pod(
        meta=meta,
        containers=shared.containers(spec.get("containers")),
        init_containers=shared.containers(spec.get("initContainers")),
        host_network=bool(spec.get("hostNetwork")),
        node=sys.intern(str(spec.get("nodeName") or "")),
        service_account=str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        phase=str((obj.get("status") or {}).get("phase") or ""),
        owner=owner,
    )


def _node(obj: dict[str, Any]) -> Node:
    md = obj.get("metadata") or {}
    info = (obj.get("status") or {}).get("nodeInfo") or {}
    return Node(
        name=_text(md.get("name")),
        kernel=str(info.get("kernelVersion") or ""),
        os_image=str(info.get("osImage") or ""),
        runtime=str(info.get("containerRuntimeVersion") or ""),
        labels={str(k): str(v) for k, v in (md.get("labels") or {}).items()},
        annotations={str(k): str(v) for k, v in (md.get("annotations") or {}).items() if "cilium" in str(k)},
    )


def _workload(kind: str, obj: dict[str, Any]) -> Workload:
    template = (obj.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    return Workload(
        kind=kind,
        meta=Meta.of(obj, all_labels=True),
        containers=_containers((template.get("spec") or {}).get("containers"), keep_env=kind == "DaemonSet"),
        template_labels={str(k): str(v) for k, v in labels.items()},
    )
