"""Prometheus metrics of the running bot (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

COMMANDS = Counter("meshbot_commands", "Commands run, by name and outcome", ["command", "outcome"], registry=REGISTRY)
COMMAND_SECONDS = Histogram("meshbot_command_duration_seconds", "Command latency", ["command"], registry=REGISTRY)
KUBE_API_ERRORS = Counter(
    "meshbot_kube_api_errors", "Kubernetes API errors, by kind and HTTP status", ["kind", "status"], registry=REGISTRY
)
DIGESTS_POSTED = Counter("meshbot_digests_posted", "Digests posted to Slack", registry=REGISTRY)
LEADER = Gauge("meshbot_leader", "1 while this replica holds the leader Lease", registry=REGISTRY)


def observe_command(command: str, outcome: str, seconds: float) -> None:
    COMMANDS.labels(command=command, outcome=outcome).inc()
    COMMAND_SECONDS.labels(command=command).observe(seconds)


def payload() -> tuple[bytes, str]:
    """The exposition body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
