"""Build the cluster reader from settings: a dump file, a kubeconfig, or in-cluster config."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bot import metrics
from bot.config import Settings
from cluster.errors import ClusterError
from cluster.snapshot import Snapshot


def reader_for(settings: Settings) -> Callable[[], Snapshot]:
    if settings.from_file is not None:
        from cluster.dump import read_dump

        return partial(read_dump, settings.from_file)
    # The live reader pulls in the kubernetes client: import it only when a live cluster is asked for.
    from cluster.live import read_live

    live = partial(
        read_live, kubeconfig=settings.kubeconfig, context=settings.context, timeout=settings.request_timeout
    )
    return partial(counted, live)


def counted(read: Callable[[], Snapshot]) -> Snapshot:
    """Read the cluster, counting the Kubernetes API errors on /metrics (by kind and status)."""
    try:
        snapshot = read()
    except ClusterError:
        metrics.observe_kube_error("cluster", "unreachable")
        raise
    for issue in snapshot.issues:
        metrics.observe_kube_error(issue.kind, issue.status if issue.status is not None else "timeout")
    return snapshot
