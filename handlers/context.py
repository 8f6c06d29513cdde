"""What a handler may use: the knowledge base, a way to read the cluster, and the user's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from handlers.messages import msg
from knowledge import KnowledgeBase, Language

if TYPE_CHECKING:
    from cluster.snapshot import Snapshot
    from cluster.traffic import PrometheusAPI
    from handlers.ports import ConversationPort, StatePort


class NoClusterError(Exception):
    """A cluster command ran without a cluster source."""


@dataclass
class Context:
    kb: KnowledgeBase
    read_cluster: Callable[[], Snapshot] | None = None
    language: Language = "en"
    language_pinned: bool = False
    """The user named the language (`--lang`): answers use it even when the question is in the other one."""
    root_namespace: str = "istio-system"
    state: StatePort | None = None
    """Digest subscriptions, history and migrations (issue 5); None where no store is configured."""
    channel: str | None = None
    """Where the command was asked (a Slack channel id), if anywhere."""
    thread_ts: str | None = None
    """The Slack thread it was asked in: a tracked migration's thread fills in its namespace."""
    user: str = ""
    mesh_conversation: bool = False
    """The conversation is already about the mesh (a migration thread): `ask` needs fewer mesh words."""
    kernel_min: str = "5.8"
    """Nodes with an older kernel get the `kernel-too-old` finding (MESHBOT_KERNEL_MIN)."""
    traffic: PrometheusAPI | None = None
    """Prometheus for observed traffic (MESHBOT_PROMETHEUS_URL, `--prometheus`); None: manifests only."""
    traffic_window: str = "24h"
    """How far back observed traffic looks (MESHBOT_PROMETHEUS_WINDOW)."""
    conversation: ConversationPort | None = None
    """Earlier turns of threads and DMs (`ask` follow-ups); None where no store is configured."""
    surface: str = "cli"
    """Where the request came from: cli, slack or scheduler (for the audit trail)."""
    team: str | None = None
    """The Slack workspace it came from, when it came from Slack."""
    request_id: str = ""
    """Ties the audit row to the logs of one request."""
    visible: list[str] | None = None
    """Namespaces this request may see (a channel limited to some); None: all."""
    min_digest_interval: float = 3600.0
    """Digest schedules may not run more often than this many seconds (MESHBOT_MIN_DIGEST_INTERVAL)."""
    _snapshot: Snapshot | None = field(default=None, repr=False)

    def conversation_key(self) -> str | None:
        """A thread (channel + thread ts) or a DM channel; None outside Slack."""
        if not self.channel:
            return None
        return f"{self.channel}:{self.thread_ts or ''}"

    def snapshot(self) -> Snapshot:
        """The cluster as read once for this request."""
        if self._snapshot is None:
            if self.read_cluster is None:
                raise NoClusterError(msg("cluster.none", self.language))
            self._snapshot = self.read_cluster()
        return self._snapshot
