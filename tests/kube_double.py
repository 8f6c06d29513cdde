"""A kube-apiserver HTTP double fed from dump files: discovery, lists, gets, pagination, selectors, Leases, faults.

Real HTTP on 127.0.0.1 (a random port), JSON like the real server, so that both meshbot's live reader
(the official `kubernetes` client) and the real `kubectl` can talk to it. Read-only except for
coordination.k8s.io Leases (create/update with resourceVersion concurrency), which leader election uses.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cluster.dump import iter_objects
from cluster.kinds import KINDS

CLUSTER_SCOPED = {"Namespace", "Node", "GatewayClass"}
CORE_GROUPS = ("", "apps", "coordination.k8s.io", "networking.k8s.io")  # built into every cluster
SERVER_VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.4", "platform": "linux/amd64"}


@dataclass(frozen=True)
class ApiResource:
    group: str
    versions: tuple[str, ...]  # served, preferred first
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    accept: str


@dataclass
class Fault:
    """Injected misbehaviour: `status` answers with that error, `delay` sleeps first (both may be set)."""

    status: int | None = None
    delay: float = 0.0
    message: str = ""
    kind: str | None = None  # plural or Kind of the resource listed/got, e.g. "pods" or "Pod"
    path: str | None = None  # a path prefix, e.g. "/apis/security.istio.io" or "/" for everything
    times: int | None = None  # None: every matching request
    retry_after: int | None = None  # sent as the Retry-After header (with status 429)
    after: int = 0  # let this many matching requests through first (a failure in the middle of pagination)

    def matches(self, path: str, resource: ApiResource | None) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        if self.kind is not None and (resource is None or self.kind not in (resource.plural, resource.kind)):
            return False
        if self.after > 0:
            self.after -= 1
            return False
        return True


class HttpError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.retry_after: int | None = None


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    status = "Success" if code < 400 else "Failure"
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": status,
        "message": message,
        "reason": reason,
        "code": code,
    }


def _plural_of(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


SHORT_NAMES = {
    "Namespace": ("ns",),
    "Node": ("no",),
    "Pod": ("po",),
    "Service": ("svc",),
    "Deployment": ("deploy",),
    "DaemonSet": ("ds",),
    "PeerAuthentication": ("pa",),
    "AuthorizationPolicy": ("ap",),
    "RequestAuthentication": ("ra",),
    "VirtualService": ("vs",),
    "DestinationRule": ("dr",),
    "Gateway": ("gtw",),
}


def _default_resources() -> list[ApiResource]:
    resources = [
        ApiResource(k.group, k.versions, k.kind, k.plural, k.kind not in CLUSTER_SCOPED, SHORT_NAMES.get(k.kind, ()))
        for k in KINDS
    ]
    resources.append(ApiResource("coordination.k8s.io", ("v1",), "Lease", "leases", True))
    return resources


# ---- label and field selectors -------------------------------------------------------------------------------

_SET_TERM = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t.strip() for t in terms if t.strip()]


@dataclass(frozen=True)
class Requirement:
    """One term of a selector: `op` is in, notin, =, !=, exists or !exists."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, str]) -> bool:
        value = labels.get(self.key)
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op in ("in", "="):
            return value in self.values
        return value not in self.values  # notin, != (a missing label also satisfies them)


Selector = list[Requirement]


def parse_label_selector(selector: str) -> Selector:
    requirements = []
    for term in _split_terms(selector):
        set_term = _SET_TERM.match(term)
        if set_term:
            values = frozenset(v.strip() for v in set_term.group(3).split(","))
            requirements.append(Requirement(set_term.group(1), set_term.group(2), values))
        elif "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            requirements.append(Requirement(key, "!=", frozenset({value})))
        elif "=" in term:
            key, value = (s.strip() for s in re.split(r"==?", term, maxsplit=1))
            requirements.append(Requirement(key, "=", frozenset({value})))
        elif re.fullmatch(r"!\s*[A-Za-z0-9_./-]+", term):
            requirements.append(Requirement(term[1:].strip(), "!exists"))
        elif re.fullmatch(r"[A-Za-z0-9_./-]+", term):
            requirements.append(Requirement(term, "exists"))
        else:
            raise HttpError(400, "BadRequest", f"unable to parse requirement: {term!r}")
    return requirements


FIELD_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace"}


def parse_field_selector(selector: str) -> Selector:
    """Field selectors, over {"name", "namespace"}: the two fields every resource supports."""
    requirements = []
    for term in _split_terms(selector):
        key, value = (s.strip() for s in re.split(r"!=|==?", term, maxsplit=1))
        if key not in FIELD_PATHS or "=" not in term:
            raise HttpError(
                400, "BadRequest", f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
        requirements.append(Requirement(FIELD_PATHS[key], "!=" if "!=" in term else "=", frozenset({value})))
    return requirements


def selected(selector: Selector, labels: dict[str, str]) -> bool:
    return all(requirement.matches(labels) for requirement in selector)


# ---- the store ------------------------------------------------------------------------------------------------


class Store:
    """Objects by resource, each kept pre-serialised (without kind/apiVersion, as list items are) plus its
    metadata for selectors: 20k pods cost their JSON size, and a page is a join of ready bytes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[tuple[str, str], dict[tuple[str, str], tuple[dict[str, Any], bytes]]] = {}
        self.filtered: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
        self.revision = 1000

    def next_revision(self) -> str:
        self.revision += 1
        return str(self.revision)

    def put(self, resource: ApiResource, obj: dict[str, Any]) -> None:
        raw_md = obj.get("metadata")
        md = dict(raw_md) if isinstance(raw_md, dict) else {}  # the caller's object is left untouched
        if not resource.namespaced:
            md.pop("namespace", None)
        elif not md.get("namespace"):
            md["namespace"] = "default"
        with self.lock:
            md["resourceVersion"] = self.next_revision()
            key = (str(md.get("namespace") or ""), str(md.get("name") or ""))
            item = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
            item["metadata"] = md
            data = json.dumps(item, separators=(",", ":")).encode()
            self.objects.setdefault((resource.group, resource.plural), {})[key] = (md, data)
            self.filtered.clear()

    def get(self, resource: ApiResource, namespace: str, name: str) -> dict[str, Any] | None:
        entry = self.objects.get((resource.group, resource.plural), {}).get((namespace, name))
        return json.loads(entry[1]) if entry else None

    def delete(self, resource: ApiResource, namespace: str, name: str) -> bool:
        with self.lock:
            gone = self.objects.get((resource.group, resource.plural), {}).pop((namespace, name), None)
            self.filtered.clear()
        return gone is not None

    def item_bytes(self, resource: ApiResource, key: tuple[str, str]) -> bytes:
        return self.objects[(resource.group, resource.plural)][key][1]

    def select(self, resource: ApiResource, namespace: str | None, labels: str, fields: str) -> list[tuple[str, str]]:
        cache_key = (resource.group, resource.plural, namespace, labels, fields)
        with self.lock:
            keys = self.filtered.get(cache_key)
            if keys is None:
                label_selector = parse_label_selector(labels)
                field_selector = parse_field_selector(fields)
                keys = []
                for key, (md, _) in sorted(self.objects.get((resource.group, resource.plural), {}).items()):
                    if namespace is not None and key[0] != namespace:
                        continue
                    if not selected(label_selector, md.get("labels") or {}):
                        continue
                    if not selected(field_selector, {"name": key[1], "namespace": key[0]}):
                        continue
                    keys.append(key)
                self.filtered[cache_key] = keys
            return keys


# ---- the server -----------------------------------------------------------------------------------------------


class KubeDouble:
    """Start with `start()` (or use the `kube_double` fixture); `url` is the API server address.

    CRD groups (Istio, Gateway API) are served when an object of that group is loaded or when named in
    `crd_groups` ("all" for every group meshbot knows); `absent_groups` removes groups; `served_versions`
    restricts a group to some versions (e.g. an old Istio serving only v1beta1).
    """

    def __init__(
        self,
        dumps: Iterable[Path | str] = (),
        objects: Iterable[dict[str, Any]] = (),
        *,
        crd_groups: Iterable[str] | str = (),
        absent_groups: Iterable[str] = (),
        served_versions: dict[str, tuple[str, ...]] | None = None,
        token: str | None = None,
    ) -> None:
        self.store = Store()
        self.resources: dict[tuple[str, str], ApiResource] = {(r.group, r.plural): r for r in _default_resources()}
        self.by_kind: dict[tuple[str, str], ApiResource] = {(r.group, r.kind): r for r in self.resources.values()}
        self.loaded_groups: set[str] = set()
        self.crd_groups = {r.group for r in self.resources.values()} if crd_groups == "all" else set(crd_groups)
        self.absent_groups = set(absent_groups)
        self.served_versions = dict(served_versions or {})
        self.token = token
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.log_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for dump in dumps:
            self.load(iter_objects(dump))
        self.load(objects)

    # -- data

    def load(self, objects: Iterable[dict[str, Any]]) -> None:
        for obj in objects:
            kind = str(obj.get("kind") or "")
            api_version = str(obj.get("apiVersion") or "v1")
            group, _, version = api_version.rpartition("/")
            resource = self.by_kind.get((group, kind))
            if resource is None:  # a kind meshbot does not read (ConfigMap, ServiceEntry…): served all the same
                resource = ApiResource(group, (version,), kind, _plural_of(kind), True)
                self.resources[(group, resource.plural)] = resource
                self.by_kind[(group, kind)] = resource
            self.loaded_groups.add(group)
            self.store.put(resource, obj)

    def groups(self) -> list[str]:
        """API groups served, core ("") first."""
        candidates = {r.group for r in self.resources.values()}
        served = [
            g
            for g in sorted(candidates)
            if g not in self.absent_groups and (g in CORE_GROUPS or g in self.loaded_groups or g in self.crd_groups)
        ]
        return served

    def versions_of(self, group: str) -> tuple[str, ...]:
        if group in self.served_versions:
            return self.served_versions[group]
        versions: list[str] = []
        for r in self.resources.values():
            if r.group == group:
                versions += [v for v in r.versions if v not in versions]
        return tuple(versions)

    def resources_of(self, group: str, version: str) -> list[ApiResource]:
        if group not in self.groups() or version not in self.versions_of(group):
            return []
        return [
            r
            for r in self.resources.values()
            if r.group == group and (version in r.versions or group in self.served_versions)
        ]

    def fault(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        self.faults.append(fault)
        return fault

    def list_calls(self, plural: str) -> list[Request]:
        """GET requests that listed `plural` (cluster-wide or in a namespace)."""
        return [r for r in self.requests if r.method == "GET" and r.path.rstrip("/").split("/")[-1] == plural]

    # -- lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}" if isinstance(host, str) else f"http://{host.decode()}:{port}"

    def start(self) -> KubeDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="kube-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> KubeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig(self, path: Path, *, token: str | None = None, context: str = "double") -> Path:
        """Write a kubeconfig pointing at this double; returns its path."""
        user: dict[str, Any] = {"token": token if token is not None else (self.token or "meshbot-test-token")}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "double-user", "user": user}],
            "contexts": [{"name": context, "context": {"cluster": "double", "user": "double-user"}}],
            "current-context": context,
        }
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    # -- request handling (called from the handler threads)

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> tuple[int, bytes]:
        parts = [p for p in path.split("/") if p]
        resource = self._resource_for(parts)
        with self.log_lock:
            fault = next((f for f in self.faults if f.matches(path, resource)), None)
        if fault is not None:
            if fault.times is not None:
                fault.times -= 1
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                error = HttpError(fault.status, _REASONS.get(fault.status, "Error"), fault.message or "injected fault")
                error.retry_after = fault.retry_after
                raise error
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            raise HttpError(401, "Unauthorized", "Unauthorized")
        if method == "GET":
            return 200, self._get(parts, query, headers.get("Accept") or "")
        if parts[-2:-1] == ["leases"] or parts[-1:] == ["leases"]:
            return self._write_lease(method, parts, body)
        raise HttpError(
            405, "MethodNotAllowed", f"{method} is not allowed: this API double is read-only but for Leases"
        )

    def _resource_for(self, parts: list[str]) -> ApiResource | None:
        group, rest = self._split_group(parts)
        if group is None or not rest:
            return None
        plural = rest[2] if rest[0] == "namespaces" and len(rest) >= 3 else rest[0]
        return self.resources.get((group, plural))

    @staticmethod
    def _split_group(parts: list[str]) -> tuple[str | None, list[str]]:
        if parts[:1] == ["api"] and len(parts) >= 2:
            return "", parts[2:]
        if parts[:1] == ["apis"] and len(parts) >= 3:
            return parts[1], parts[3:]
        return None, []

    def _get(self, parts: list[str], query: dict[str, str], accept: str) -> bytes:
        if parts == ["version"]:
            return _json(SERVER_VERSION)
        if parts == ["api"]:
            return _json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if parts == ["apis"]:
            return _json(
                {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group_doc(g) for g in self.groups() if g]}
            )
        if parts[:1] == ["apis"] and len(parts) == 2:
            if parts[1] not in self.groups() or not parts[1]:
                raise HttpError(404, "NotFound", "the server could not find the requested resource")
            return _json({"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(parts[1])})
        group, rest = self._split_group(parts)
        if group is None:
            raise HttpError(404, "NotFound", "the server could not find the requested resource")
        version = parts[1] if group == "" else parts[2]
        served = self.resources_of(group, version)
        if not rest:
            if not served:
                raise HttpError(404, "NotFound", "the server could not find the requested resource")
            return _json(self._resource_list(group, version, served))
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = next((r for r in served if r.plural == rest[0]), None)
        if resource is None or len(rest) > 2 or (namespace is not None and not resource.namespaced):
            raise HttpError(404, "NotFound", "the server could not find the requested resource")
        if len(rest) == 2:
            obj = self.store.get(resource, namespace or "", rest[1])
            if obj is None:
                raise HttpError(
                    404, "NotFound", f'{resource.plural}.{group or "core"} "{rest[1]}" not found'.replace(".core", "")
                )
            return _json({"kind": resource.kind, "apiVersion": _api_version(group, version), **obj})
        return self._list(resource, group, version, namespace, query, accept)

    def _group_doc(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.versions_of(group)]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    @staticmethod
    def _resource_list(group: str, version: str, served: list[ApiResource]) -> dict[str, Any]:
        verbs = ["get", "list"]
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": _api_version(group, version),
            "resources": [
                {
                    "name": r.plural,
                    "singularName": r.singular,
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "shortNames": list(r.short_names),
                    "verbs": [*verbs, "create", "update", "delete"] if r.kind == "Lease" else verbs,
                }
                for r in served
            ],
        }

    def _list(
        self, resource: ApiResource, group: str, version: str, namespace: str | None, query: dict[str, str], accept: str
    ) -> bytes:
        keys = self.store.select(resource, namespace, query.get("labelSelector", ""), query.get("fieldSelector", ""))
        start = _decode_continue(query["continue"]) if query.get("continue") else 0
        try:
            limit = int(query.get("limit") or 0)
        except ValueError as exc:
            raise HttpError(400, "BadRequest", f"invalid limit {query['limit']!r}") from exc
        end = min(len(keys), start + limit) if limit > 0 else len(keys)
        metadata: dict[str, Any] = {"resourceVersion": str(self.store.revision)}
        if end < len(keys):
            metadata["continue"] = _encode_continue(end, self.store.revision)
            metadata["remainingItemCount"] = len(keys) - end
        page = keys[start:end]
        if "as=Table" in accept:
            return _json(self._table(resource, page, metadata))
        head = _json({"kind": f"{resource.kind}List", "apiVersion": _api_version(group, version), "metadata": metadata})
        items = b",".join(self.store.item_bytes(resource, key) for key in page)
        return head[:-1] + b',"items":[' + items + b"]}"

    def _table(self, resource: ApiResource, page: list[tuple[str, str]], metadata: dict[str, Any]) -> dict[str, Any]:
        pods = resource.kind == "Pod"
        columns = ["Name", "Ready", "Status", "Restarts", "Age"] if pods else ["Name", "Age"]
        rows = []
        for key in page:
            obj = json.loads(self.store.item_bytes(resource, key))
            md = obj.get("metadata") or {}
            age = _age(str(md.get("creationTimestamp") or ""))
            cells: list[Any] = [md.get("name", "")]
            if pods:
                statuses = (obj.get("status") or {}).get("containerStatuses") or []
                containers = (obj.get("spec") or {}).get("containers") or []
                ready = sum(1 for s in statuses if s.get("ready"))
                restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
                cells += [f"{ready}/{len(containers)}", (obj.get("status") or {}).get("phase", "Unknown"), restarts]
            cells.append(age)
            partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md}
            rows.append({"cells": cells, "object": partial})
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
            "columnDefinitions": [
                {
                    "name": c,
                    "type": "integer" if c == "Restarts" else "string",
                    "format": "name" if c == "Name" else "",
                    "description": c,
                    "priority": 0,
                }
                for c in columns
            ],
            "rows": rows,
        }

    # -- Leases: get/create/update with optimistic concurrency

    def _write_lease(self, method: str, parts: list[str], body: bytes) -> tuple[int, bytes]:
        resource = self.resources[("coordination.k8s.io", "leases")]
        if parts[:3] != ["apis", "coordination.k8s.io", "v1"] or len(parts) < 6 or parts[3] != "namespaces":
            raise HttpError(404, "NotFound", "the server could not find the requested resource")
        namespace = parts[4]
        name = parts[6] if len(parts) == 7 else None
        if method == "DELETE" and name:
            if not self.store.delete(resource, namespace, name):
                raise HttpError(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
            return 200, _json(status_body(200, "", ""))
        try:
            obj = json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            raise HttpError(400, "BadRequest", f"invalid JSON body: {exc}") from exc
        md = obj.setdefault("metadata", {}) if isinstance(obj, dict) else None
        if not isinstance(md, dict) or not (md.get("name") or name):
            raise HttpError(422, "Invalid", "Lease is invalid: metadata.name: Required value: name is required")
        if md.setdefault("namespace", namespace) != namespace:
            raise HttpError(400, "BadRequest", "the namespace of the object does not match the namespace on the URL")
        with self.store.lock:
            current = self.store.get(resource, namespace, md.get("name") or name or "")
            if method == "POST" and name is None:
                if current is not None:
                    raise HttpError(
                        409, "AlreadyExists", f'leases.coordination.k8s.io "{md.get("name")}" already exists'
                    )
                md.pop("resourceVersion", None)
                md.setdefault("creationTimestamp", _now())
                md.setdefault("uid", f"lease-{self.store.revision}")
                code = 201
            elif method == "PUT" and name is not None:
                if md.get("name") not in (None, name):
                    raise HttpError(400, "BadRequest", "the name of the object does not match the name on the URL")
                md["name"] = name
                if current is None:
                    raise HttpError(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
                sent = md.get("resourceVersion")
                if sent and sent != current["metadata"]["resourceVersion"]:
                    raise HttpError(
                        409,
                        "Conflict",
                        f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the object has been '
                        "modified; please apply your changes to the latest version and try again",
                    )
                for key in ("uid", "creationTimestamp"):
                    md[key] = current["metadata"].get(key)
                code = 200
            else:
                raise HttpError(405, "MethodNotAllowed", f"{method} is not supported on this path")
            self.store.put(resource, obj)
            stored = self.store.get(resource, namespace, md["name"])
        return code, _json({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", **(stored or {})})


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "Invalid",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _encode_continue(offset: int, revision: int) -> str:
    raw = json.dumps({"rv": revision, "start": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["start"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise HttpError(400, "BadRequest", "invalid continue token") from exc


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _age(created: str) -> str:
    try:
        then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: KubeDouble

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without NODELAY, Nagle + delayed ACK stall each reply ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # the request log is kept in `double.requests`
        pass

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.double.log_lock:
            self.double.requests.append(Request(method, split.path, query, self.headers.get("Accept") or ""))
        retry_after = None
        try:
            code, payload = self.double.handle(method, split.path, query, self.headers, body)
        except HttpError as exc:
            code, payload = exc.code, _json(status_body(exc.code, exc.reason, exc.message))
            retry_after = exc.retry_after
        try:
            self.send_response(code)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")
