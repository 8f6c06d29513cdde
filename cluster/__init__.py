"""Reading the cluster (live API or an offline dump) into a Snapshot, and analysing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluster.errors import ClusterError

if TYPE_CHECKING:
    from cluster.snapshot import Snapshot, SnapshotBuilder

__all__ = ["ClusterError", "Snapshot", "SnapshotBuilder"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `from cluster.errors import ClusterError` (every command's error path)
    # should not load the snapshot model into a fresh `meshbot ask`.
    if name in ("Snapshot", "SnapshotBuilder"):
        from cluster import snapshot

        return getattr(snapshot, name)
    raise AttributeError(f"module 'cluster' has no attribute {name!r}")
