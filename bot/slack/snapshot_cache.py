"""One cluster read shared by a burst of Slack commands.

Twenty people typing `/mesh status` after an incident should cost one paginated read of the
cluster, not twenty: the first caller reads, the others wait for it and reuse the snapshot for
`seconds`. Failures are not cached, so the next command tries again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cluster.snapshot import Snapshot


class SharedSnapshot:
    def __init__(self, read: Callable[[], Snapshot], seconds: float) -> None:
        self._read = read
        self._seconds = seconds
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._read_at = 0.0

    def __call__(self) -> Snapshot:
        with self._lock:  # single flight: concurrent callers wait for the one read in progress
            now = time.monotonic()
            if self._snapshot is None or now - self._read_at > self._seconds:
                self._snapshot = self._read()
                self._read_at = time.monotonic()
            return self._snapshot


def shared(read: Callable[[], Snapshot], seconds: float) -> Callable[[], Snapshot]:
    """A shared snapshot per cluster: several clusters (a ClusterSet) each keep their own."""
    from bot.cluster_source import ClusterSet

    if isinstance(read, ClusterSet):
        return read.wrapped(lambda one: SharedSnapshot(one, seconds))
    return SharedSnapshot(read, seconds)
