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

from bot import metrics
from cluster.lease import LeaseApi, coordination_api

__all__ = ["LeaderElector", "coordination_api", "default_identity"]

LOG = logging.getLogger(__name__)


def default_identity() -> str:
    """The pod name (HOSTNAME in Kubernetes) plus the process id: unique per replica and restart."""
    return f"{os.environ.get('HOSTNAME') or socket.gethostname()}-{os.getpid()}"


class LeaderElector:
    def __init__(
        self,
        api: LeaseApi,
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
        lease = self.api.read(self.name, self.namespace)
        if lease is None:
            return self.api.create(self.name, self.namespace, self.identity, duration, now)  # False: another won
        record = (lease.holder, lease.renewed, lease.version)
        if record != self._observed:
            self._observed, self._observed_at = record, self.monotonic()
        held_by_other = lease.holder not in (None, self.identity)
        their_duration = lease.duration or float(duration)
        if held_by_other and self.monotonic() - self._observed_at < their_duration:
            return False
        return self.api.hold(lease, self.name, self.namespace, self.identity, duration, now)  # False: a newer write

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
            self.api.release(self.name, self.namespace, self.identity)
        except Exception as exc:
            LOG.warning("could not release lease %s/%s: %s", self.namespace, self.name, exc)
