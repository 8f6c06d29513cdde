"""Reading the cluster (live API or an offline dump) into a Snapshot, and analysing it."""

from cluster.errors import ClusterError
from cluster.snapshot import Snapshot, SnapshotBuilder

__all__ = ["ClusterError", "Snapshot", "SnapshotBuilder"]
