"""Leader election with a coordination.k8s.io/v1 Lease: only the leader runs schedules.

Like client-go's leaderelection: the Lease names its holder and duration; a replica takes it
only when the holder has not renewed within the duration *as observed on this replica's own
clock* (no trust in other replicas' clocks); the leader renews every `renew_every` seconds and
steps down at once when it sees another holder, or when it could not renew within the renew
deadline (2/3 of the duration, so it stops before anyone else may start). On shutdown it
releases the Lease so a successor need not wait for it to expire.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from bot import metrics

LOG = logging.getLogger(__name__)


def default_identity() -> str:
    """The pod name (HOSTNAME in Kubernetes) plus the process id: unique per replica and restart."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}-{os.getpid()}"


def coordination_api(kubeconfig: Path | None, context: str | None) -> Any:
    if kubeconfig is not None or context is not None:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None, context=context, persist_config=False
        )
    else:
        try:
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            api = client.ApiClient(cfg)
        except ConfigException:
            api = config.new_client_from_config(persist_config=False)  # type: ignore[no-untyped-call]
    return client.CoordinationV1Api(api)


class LeaderElector:
    def __init__(
        self,
        api: Any,
        *,
        name: str,
        namespace: str,
        identity: str,
        lease_duration: float,
        renew_every: float,
        on_started_leading: Callable[[], None],
        on_stopped_leading: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_every = min(renew_every, lease_duration / 3)
        self.renew_deadline = lease_duration * 2 / 3
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.monotonic = monotonic
        self.leading = False
        self._last_renewed = -math.inf
        self._observed: tuple[str | None, str | None, str | None] | None = None
        self._observed_at = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one round ---

    def try_acquire_or_renew(self) -> bool:
        """True when this replica holds the Lease after this round."""
        now = datetime.now(UTC)
        duration = max(1, math.ceil(self.lease_duration))
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=client.V1LeaseSpec(
                    holder_identity=self.identity,
                    lease_duration_seconds=duration,
                    acquire_time=now,
                    renew_time=now,
                    lease_transitions=0,
                ),
            )
            try:
                self.api.create_namespaced_lease(self.namespace, body)
            except ApiException as create_exc:
                if create_exc.status == 409:
                    return False  # another replica created it first
                raise
            return True
        spec = lease.spec or client.V1LeaseSpec()
        holder = spec.holder_identity or None
        record = (holder, str(spec.renew_time), lease.metadata.resource_version)
        if record != self._observed:
            self._observed, self._observed_at = record, self.monotonic()
        held_by_other = holder not in (None, self.identity)
        their_duration = float(spec.lease_duration_seconds or duration)
        if held_by_other and self.monotonic() - self._observed_at < their_duration:
            return False
        if holder != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = self.identity
        spec.renew_time = now
        spec.lease_duration_seconds = duration
        lease.spec = spec
        try:
            self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except ApiException as exc:
            if exc.status == 409:
                return False  # someone else wrote it since we read it
            raise
        return True

    def step(self) -> bool:
        """One round of the loop: acquire/renew, and start or stop leading accordingly."""
        try:
            holds = self.try_acquire_or_renew()
            failed = False
        except Exception as exc:  # API unreachable or refusing: keep leading only until the renew deadline
            LOG.warning("lease %s/%s: %s", self.namespace, self.name, exc)
            holds, failed = False, True
        if holds:
            self._last_renewed = self.monotonic()
            if not self.leading:
                self._set_leading(True)
        elif self.leading and (not failed or self.monotonic() - self._last_renewed >= self.renew_deadline):
            self._set_leading(False)
        return self.leading

    def _set_leading(self, leading: bool) -> None:
        self.leading = leading
        metrics.LEADER.set(1 if leading else 0)
        LOG.info(
            "%s %s leading (lease %s/%s)", self.identity, "started" if leading else "stopped", self.namespace, self.name
        )
        try:
            (self.on_started_leading if leading else self.on_stopped_leading)()
        except Exception:
            LOG.exception("%s: %s leading failed", self.identity, "starting" if leading else "stopping")
            if leading:  # a leader that cannot schedule must not hold the lease: step down, let another try
                self.leading = False
                metrics.LEADER.set(0)
                self.release()

    # --- the loop ---

    def start(self) -> LeaderElector:
        self._thread = threading.Thread(target=self._run, name="leader-election", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # never let the loop die: a silent loop would leave a stale leader scheduling
                LOG.exception("leader election round failed")
            self._stop.wait(self.renew_every)

    def stop(self, *, release: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.renew_every + 5)
        if self.leading:
            self._set_leading(False)
            if release:
                self.release()

    def release(self) -> None:
        """Hand the Lease back (empty holder, duration 1 s) so a successor takes over at once."""
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace)
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = None
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time = datetime.now(UTC)
            self.api.replace_namespaced_lease(self.name, self.namespace, lease)
        except Exception as exc:
            LOG.warning("could not release lease %s/%s: %s", self.namespace, self.name, exc)
