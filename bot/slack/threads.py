"""The threads meshbot started or answered: replies there are questions for it.

In memory for now, behind a small interface so the persistent store can take over later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol


class ThreadMemory(Protocol):
    def remember(self, channel: str, thread_ts: str) -> None: ...

    def knows(self, channel: str, thread_ts: str) -> bool: ...


class MemoryThreads:
    """Bounded (least recently used go first), thread-safe: listeners run on several threads."""

    def __init__(self, max_threads: int = 10_000) -> None:
        self._threads: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._max = max_threads
        self._lock = threading.Lock()

    def remember(self, channel: str, thread_ts: str) -> None:
        with self._lock:
            self._threads[(channel, thread_ts)] = None
            self._threads.move_to_end((channel, thread_ts))
            while len(self._threads) > self._max:
                self._threads.popitem(last=False)

    def knows(self, channel: str, thread_ts: str) -> bool:
        with self._lock:
            return (channel, thread_ts) in self._threads
