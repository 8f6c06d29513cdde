"""The analysis of a Snapshot: data-plane modes, waypoints, effective mTLS, findings, verdicts, plans, savings."""

from cluster.analysis.model import Analysis, NamespaceView, Options, analyze

__all__ = ["Analysis", "NamespaceView", "Options", "analyze"]
