"""The pool that answers after the ack, with a count of work in flight for graceful shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

LOG = logging.getLogger("meshbot.slack")

# Slow work (cluster reads, rendering, uploads) runs here, never on Bolt's listener executor, so a
# burst of slow commands can never delay the ack of the next one. 4 workers: the pod has ~2 cores,
# and the largest cluster read holds ~250 MiB; more parallel reads would only queue on the CPU and
# multiply memory, while SharedSnapshot makes a burst of cluster commands share one read anyway.
WORK_WORKERS = 4


class Work:
    def __init__(self, workers: int = WORK_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="meshbot-work")
        self._inflight = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._idle:
            self._inflight += 1
        self._pool.submit(self._run, fn, *args)

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            LOG.exception("answering a Slack request failed")
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    @property
    def inflight(self) -> int:
        return self._inflight

    def drain(self, timeout: float) -> bool:
        """Wait until the answers in flight are delivered (or timeout); True when all were."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
