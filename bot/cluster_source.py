"""Build the cluster readers from settings: a dump (or stdin), one kubeconfig context, or several clusters.

With no source at all the kubeconfig is found as kubectl finds it (--kubeconfig, $KUBECONFIG, ~/.kube/config,
its current context), else the in-cluster config (cluster._kube_client). Several clusters (`--context` more
than once, MESHBOT_CLUSTERS) each get a named reader; Slack channels can be bound to one
(MESHBOT_CHANNEL_CLUSTERS), and every answer names the cluster it read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial

from bot import metrics
from bot.config import Settings, SettingsError
from cluster.errors import ClusterError
from cluster.snapshot import Snapshot

Read = Callable[[], Snapshot]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class NamedReader:
    name: str  # "" when the name is only known after reading (the kubeconfig's current context)
    read: Read

    def __call__(self) -> Snapshot:
        try:
            return self.read()
        except ClusterError as exc:
            if not self.name:
                raise
            raise ClusterError(f"cluster {self.name}: {exc.en}", f"클러스터 {self.name}: {exc.ko}") from exc


class ClusterSet:
    """The clusters one process reads. Called, it reads the default (first) cluster, so a single-cluster
    caller needs nothing else; `for_channel` picks the cluster a Slack channel is bound to."""

    def __init__(self, readers: list[NamedReader], channels: dict[str, str] | None = None) -> None:
        if not readers:
            raise ValueError("a ClusterSet needs at least one cluster")
        self.readers = readers
        self.channels = dict(channels or {})

    def __call__(self) -> Snapshot:
        return self.readers[0]()

    def __iter__(self) -> Iterator[NamedReader]:
        return iter(self.readers)

    def __len__(self) -> int:
        return len(self.readers)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.readers]

    def for_channel(self, channel: str | None) -> Read:
        """The reader of the cluster the channel is bound to; the default cluster for unbound channels."""
        wanted = self.channels.get(channel or "")
        return next((r for r in self.readers if r.name == wanted), self.readers[0])

    def wrapped(self, wrap: Callable[[Read], Read]) -> ClusterSet:
        """The same clusters, each reader wrapped (a shared snapshot per cluster, say)."""
        return ClusterSet([replace(r, read=wrap(r.read)) for r in self.readers], self.channels)


def for_channel(read: Read | None, channel: str | None) -> Read | None:
    """The reader for a channel, whether one cluster (any callable) or several (a ClusterSet) are configured."""
    return read.for_channel(channel) if isinstance(read, ClusterSet) else read


def reader_for(settings: Settings, *, progress: Progress | None = None) -> ClusterSet:
    """Every configured cluster as a named reader; SettingsError for an unusable --assume-absent kind."""
    assumed = _assumed_kinds(settings)
    readers = [
        NamedReader(name, partial(_completed, read, assumed) if assumed else read)
        for name, read in _sources(settings, progress)
    ]
    return ClusterSet(readers, settings.channel_clusters)


def _sources(settings: Settings, progress: Progress | None) -> list[tuple[str, Read]]:
    language = settings.language
    if settings.from_file is not None:
        from cluster.dump import read_dump

        return [("", partial(read_dump, settings.from_file, progress=progress, language=language))]
    # The live reader pulls in the kubernetes client: import it only when a live cluster is asked for.
    from cluster.live import read_live

    def live(context: str | None, name: str | None) -> Read:
        read = partial(
            read_live,
            kubeconfig=settings.kubeconfig,
            context=context,
            timeout=settings.request_timeout,
            name=name,
            progress=progress,
            language=language,
        )
        return partial(counted, read)

    if settings.clusters:
        return [(name, live(context, name)) for name, context in settings.clusters.items()]
    return [("", live(settings.context, None))]


def _assumed_kinds(settings: Settings) -> list[str]:
    from cluster.completeness import resolve_kind

    try:
        return [resolve_kind(kind) for kind in settings.assume_absent or []]
    except ClusterError as exc:
        raise SettingsError(exc.en) from None


def _completed(read: Read, kinds: list[str]) -> Snapshot:
    from cluster.completeness import assume_absent

    return assume_absent(read(), kinds)


def terminal_progress() -> Progress | None:
    """Progress lines on stderr when it is a terminal (never in pipes, CI logs or JSON consumers)."""
    if not sys.stderr.isatty():
        return None

    def show(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return show


def counted(read: Read) -> Snapshot:
    """Read the cluster, counting the Kubernetes API errors on /metrics (by kind and status)."""
    try:
        snapshot = read()
    except ClusterError:
        metrics.observe_kube_error("cluster", "unreachable")
        raise
    for issue in snapshot.issues:
        metrics.observe_kube_error(issue.kind, issue.status if issue.status is not None else "timeout")
    return snapshot
