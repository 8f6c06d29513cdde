"""Reading a live cluster: one paginated, cluster-wide list per kind (never one per namespace).

Each page is parsed from raw JSON, fed item by item to a SnapshotBuilder and dropped, so memory stays
near the lean Snapshot plus one page. Faults on one kind (403, 404, 5xx, timeouts) are recorded in the
Snapshot and the other kinds are still read; 401, or a cluster that answers nothing, is a ClusterError.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cluster import _kube_client as kube
from cluster._texts import cluster_error, text
from cluster.errors import ClusterError
from cluster.kinds import KINDS, Kind
from cluster.snapshot import Snapshot, SnapshotBuilder

PAGE_SIZE = 500
THROTTLE_RETRIES, THROTTLE_WAIT, MAX_THROTTLE_WAIT = 3, 0.2, 2.0  # seconds
WORKERS = 3  # pods dominate; a few workers overlap the small kinds with them (the API server serves in parallel)
PROGRESS_EVERY = 2.0  # seconds between progress lines

Progress = Callable[[str], None]


class Sink(Protocol):
    """Receives the raw objects of each kind as they are read (one thread per kind at a time)."""

    def add(self, kind: Kind, obj: dict[str, Any]) -> None: ...

    def restart(self, kind: Kind) -> None:
        """The kind's list starts over (an expired continue token): forget what was added for it."""


def read_live(
    *,
    kubeconfig: Path | None,
    context: str | None,
    timeout: float,
    page_size: int = PAGE_SIZE,
    name: str | None = None,
    progress: Progress | None = None,
    language: str = "en",
    sink: Sink | None = None,
) -> Snapshot:
    """Read the cluster; `name` names it in every answer (default: the kubeconfig context). `sink`, when
    given, also receives every raw object (with kind/apiVersion) as it is read: `meshbot collect` writes them."""
    connection = kube.api_client(kubeconfig, context)
    try:
        snapshot = _LiveRead(connection.api, timeout, page_size, progress, language, sink).run()
    finally:
        connection.api.close()
    snapshot.cluster = name or connection.context
    return snapshot


@dataclass
class _Outcome:
    """What reading one kind produced: its own builder (merged in KINDS order, so output is deterministic)."""

    builder: SnapshotBuilder
    read: int = 0
    transport_failures: list[kube.TransportError] = field(default_factory=list)


class _LiveRead:
    def __init__(
        self,
        api: Any,
        timeout: float,
        page_size: int,
        progress: Progress | None = None,
        language: str = "en",
        sink: Sink | None = None,
    ) -> None:
        self.api = api
        self.timeout = timeout
        self.page_size = page_size
        self.progress, self.language, self.sink = progress, language, sink
        self._progress_lock = threading.Lock()
        self._objects = self._kinds_done = 0
        self._next_progress = time.monotonic() + PROGRESS_EVERY
        self.server = kube.server_of(api)
        self.unreachable = threading.Event()
        self.answered = threading.Event()  # the server has sent at least one HTTP answer
        self.unreachable_cause: kube.TransportError | None = None
        self._groups: dict[str, tuple[str, ...] | None] = {}
        self._group_lock = threading.Lock()

    def run(self) -> Snapshot:
        # Pods, the longest list by far, start first; the small kinds share the other workers meanwhile.
        order = sorted(KINDS, key=lambda kind: kind.kind != "Pod")
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="meshbot-list") as pool:
            by_kind = dict(zip(order, pool.map(self._read_kind, order), strict=True))
        return self._merge([by_kind[kind] for kind in KINDS])

    # -- one kind

    def _read_kind(self, kind: Kind) -> _Outcome:
        try:
            return self._read_one_kind(kind)
        finally:
            self._tick(0, kind_done=True)

    def _tick(self, objects: int, *, kind_done: bool = False) -> None:
        if self.progress is None:
            return
        with self._progress_lock:
            self._objects += objects
            self._kinds_done += kind_done
            if time.monotonic() < self._next_progress:
                return
            self._next_progress = time.monotonic() + PROGRESS_EVERY
            line = text(
                "progress-live",
                self.language,
                server=self.server,
                objects=self._objects,
                kinds=self._kinds_done,
                total=len(KINDS),
            )
        self.progress(line)

    def _read_one_kind(self, kind: Kind) -> _Outcome:
        outcome = _Outcome(SnapshotBuilder())
        if self.unreachable.is_set():
            _fail(outcome, kind, None, "live-skipped")
            return outcome
        try:
            version = self._version_for(kind)
            if version is None:
                outcome.builder.missing(kind.kind)
                return outcome
            self._list(kind, version, outcome)
        except kube.TransportError as exc:
            outcome.transport_failures.append(exc)
            # Refused, or no answer at all yet (a hung server): the other kinds would only wait out their timeouts.
            if (exc.unreachable or not self.answered.is_set()) and not self.unreachable.is_set():
                self.unreachable_cause = exc
                self.unreachable.set()
            _fail(outcome, kind, None, "live-transport", reason=(exc.reason, exc.reason_ko))
        return outcome

    def _version_for(self, kind: Kind) -> str | None:
        """The first of the kind's versions the server serves; None when its API group is not served."""
        if not kind.istio:
            return kind.versions[0]
        with self._group_lock:  # one discovery call per group, even with workers racing for it
            if kind.group not in self._groups:
                self._groups[kind.group] = self._discover(kind)
            served = self._groups[kind.group]
        if served is None:
            return None
        return next((v for v in kind.versions if v in served), None)

    def _discover(self, kind: Kind) -> tuple[str, ...] | None:
        response = self._get(f"/apis/{kind.group}", [])
        if response.status == 404:
            return None
        self._check_unauthorized(response)
        if response.status != 200:
            # Discovery is open to every authenticated user; if it fails, try the preferred version anyway.
            return kind.versions
        versions = response.json().get("versions") or []
        return tuple(str(v.get("version")) for v in versions if isinstance(v, dict))

    def _list(self, kind: Kind, version: str, outcome: _Outcome) -> None:
        api_version = f"{kind.group}/{version}" if kind.group else version
        path = f"/apis/{api_version}/{kind.plural}" if kind.group else f"/api/{version}/{kind.plural}"
        add: Callable[[dict[str, Any]], bool] = outcome.builder.add
        token = ""
        restarted = False
        while True:
            query: list[tuple[str, str | int]] = [("limit", self.page_size)]
            if token:
                query.append(("continue", token))
            response = self._get(path, query)
            if response.status == 410 and token and not restarted:
                # The continue token expired (etcd compacted the list's snapshot): start the list over, once.
                outcome.builder, outcome.read, token, restarted = SnapshotBuilder(), 0, "", True
                add = outcome.builder.add
                if self.sink is not None:
                    self.sink.restart(kind)
                continue
            if response.status != 200:
                self._record_failure(kind, response, outcome)
                return
            page = response.json()
            del response
            items = page.get("items") or ()
            for item in items:
                # List items carry no kind/apiVersion: the builder keys on them.
                item["kind"] = kind.kind
                item["apiVersion"] = api_version
                add(item)
                if self.sink is not None:
                    self.sink.add(kind, item)
                outcome.read += 1
            self._tick(len(items))
            token = str((page.get("metadata") or {}).get("continue") or "")
            del page
            if not token:
                return

    def _get(self, path: str, query: list[tuple[str, str | int]]) -> kube.Response:
        """One GET; a 429 (API priority and fairness throttling) is retried after the server's Retry-After."""
        for attempt in range(THROTTLE_RETRIES + 1):
            response = kube.get(self.api, path, query, self.timeout)
            self.answered.set()
            if response.status != 429 or attempt == THROTTLE_RETRIES:
                break
            time.sleep(min(response.retry_after or THROTTLE_WAIT, MAX_THROTTLE_WAIT, self.timeout))
        return response

    def _check_unauthorized(self, response: kube.Response) -> None:
        if response.status == 401:
            raise cluster_error("live-unauthorized", server=self.server)

    def _record_failure(self, kind: Kind, response: kube.Response, outcome: _Outcome) -> None:
        self._check_unauthorized(response)
        if response.status == 404 and outcome.read == 0:
            outcome.builder.missing(kind.kind)  # the resource is not served (a CRD not installed)
            return
        server_message = response.message() or f"HTTP {response.status}"
        key = "live-forbidden" if response.status == 403 else "live-server-error"
        _fail(outcome, kind, response.status, key, server_message=server_message)

    # -- the whole

    def _merge(self, outcomes: list[_Outcome]) -> Snapshot:
        snapshot = Snapshot(source=f"live:{self.server}")
        failures = [exc for o in outcomes for exc in o.transport_failures]
        if failures and not any(o.read for o in outcomes):
            raise _unreachable(self.server, self.unreachable_cause or failures[0])
        for outcome in outcomes:
            part = outcome.builder.build()
            snapshot.namespaces += part.namespaces
            snapshot.pods += part.pods
            snapshot.nodes += part.nodes
            snapshot.services += part.services
            snapshot.workloads += part.workloads
            for kind_name, resources in part.resources.items():
                snapshot.resources.setdefault(kind_name, []).extend(resources)
            snapshot.missing_kinds += [k for k in part.missing_kinds if k not in snapshot.missing_kinds]
            snapshot.issues += part.issues
            snapshot.notes += part.notes
        return snapshot


def _fail(outcome: _Outcome, kind: Kind, status: int | None, key: str, **fields: Any) -> None:
    """Record a failed kind in both languages; fields given as (en, ko) pairs are picked per language."""

    def render(language: str) -> str:
        index = 1 if language == "ko" else 0
        values = {k: v[index] if isinstance(v, tuple) else v for k, v in fields.items()}
        partial = text("live-partial", language, count=outcome.read) if outcome.read else ""
        return text(key, language, plural=kind.plural, group=kind.group, status=status, partial=partial, **values)

    outcome.builder.failed(kind.kind, status, render("en"), render("ko"))


def _unreachable(server: str, cause: kube.TransportError) -> ClusterError:
    return ClusterError(
        text("live-unreachable", "en", server=server, reason=cause.reason, read=text("live-nothing-read", "en")),
        text("live-unreachable", "ko", server=server, reason=cause.reason_ko, read=text("live-nothing-read", "ko")),
    )


def server_version(kubeconfig: Path | None, context: str | None, timeout: float) -> tuple[str, str, str]:
    """(server URL, gitVersion, context) of the cluster, for a collected dump's manifest; "" when unknown."""
    connection = kube.api_client(kubeconfig, context)
    try:
        server = kube.server_of(connection.api)
        try:
            response = kube.get(connection.api, "/version", [], timeout)
        except kube.TransportError:
            return server, "", connection.context
        body = response.json() if response.status == 200 else {}
        return server, str(body.get("gitVersion") or "") if isinstance(body, dict) else "", connection.context
    finally:
        connection.api.close()
