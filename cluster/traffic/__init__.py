"""Observed traffic from Prometheus: a read-only HTTP client, the PromQL, and what the series say."""

from cluster.traffic.client import PrometheusAPI, PrometheusClient, PrometheusError, duration_seconds
from cluster.traffic.observed import NamespaceTraffic, ObservedTraffic, read_observed

__all__ = [
    "NamespaceTraffic",
    "ObservedTraffic",
    "PrometheusAPI",
    "PrometheusClient",
    "PrometheusError",
    "duration_seconds",
    "read_observed",
]
