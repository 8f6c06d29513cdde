"""Prometheus metrics of the running bot (served at /metrics from `payload()`).

Label values come from user input (a command name) or the cluster (a kind), so they are bounded:
anything that is not a short lowercase name, or beyond MAX_LABEL_VALUES distinct values, is
counted as "other" rather than growing the series without end.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

COMMANDS = Counter("meshbot_commands", "Commands run, by name and outcome", ["command", "outcome"], registry=REGISTRY)
COMMAND_SECONDS = Histogram(
    "meshbot_command_duration_seconds",
    "Command latency, from the request to the reply",
    ["command"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
KUBE_API_ERRORS = Counter(
    "meshbot_kube_api_errors", "Kubernetes API errors, by kind and HTTP status", ["kind", "status"], registry=REGISTRY
)
DIGESTS_POSTED = Counter("meshbot_digests_posted", "Digests posted to Slack", registry=REGISTRY)
SLACK_POSTS = Counter(
    "meshbot_slack_posts",
    "Slack deliveries (response_url, chat.postMessage, chat.update, files), by method and real outcome: "
    "ok, found (an earlier attempt had got through), refused (Slack said no), failed (retries exhausted)",
    ["method", "outcome"],
    registry=REGISTRY,
)
SLACK_RETRIES = Counter(
    "meshbot_slack_retries",
    "Slack deliveries retried, by method and reason (429, 5xx, network)",
    ["method", "reason"],
    registry=REGISTRY,
)
EVENTS_REDELIVERED = Counter(
    "meshbot_slack_events_redelivered", "Slack event redeliveries acked without answering again", registry=REGISTRY
)
LEADER = Gauge("meshbot_leader", "1 while this replica holds the leader Lease", registry=REGISTRY)

MAX_LABEL_VALUES = 64
OTHER = "other"
_LABEL_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")
_STATUS = re.compile(r"^([1-5][0-9]{2}|[a-z][a-z-]{0,19})$")
_seen: dict[str, set[str]] = {}
_lock = threading.Lock()


def bounded(label: str, value: str) -> str:
    """`value` if it is a sane name and the label has room for it, else "other"."""
    if not _LABEL_VALUE.match(value):
        return OTHER
    with _lock:
        seen = _seen.setdefault(label, set())
        if value in seen:
            return value
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(value)
        return value


def observe_command(command: str, outcome: str, seconds: float) -> None:
    """Count one command by name and outcome (e.g. ok, error, denied) and record its latency."""
    name = bounded("command", command)
    COMMANDS.labels(command=name, outcome=bounded("outcome", outcome)).inc()
    COMMAND_SECONDS.labels(command=name).observe(max(seconds, 0.0))


def observe_kube_error(kind: str, status: int | str) -> None:
    """Count one failed Kubernetes API call; status is the HTTP status, or e.g. "timeout"."""
    text = str(status)
    status_label = text if _STATUS.match(text) else OTHER
    KUBE_API_ERRORS.labels(kind=bounded("kind", kind), status=status_label).inc()


def digest_posted() -> None:
    DIGESTS_POSTED.inc()


SLACK_METHODS = frozenset({"response_url", "chat.postMessage", "chat.update", "files.upload", "conversations.open"})
SLACK_OUTCOMES = frozenset({"ok", "found", "refused", "failed"})
RETRY_REASONS = frozenset({"429", "5xx", "network"})


def slack_post(method: str, outcome: str) -> None:
    """Count one delivery by its real outcome (the names are this module's, never user input)."""
    SLACK_POSTS.labels(
        method=method if method in SLACK_METHODS else OTHER, outcome=outcome if outcome in SLACK_OUTCOMES else OTHER
    ).inc()


def slack_retry(method: str, reason: str) -> None:
    SLACK_RETRIES.labels(
        method=method if method in SLACK_METHODS else OTHER, reason=reason if reason in RETRY_REASONS else OTHER
    ).inc()


def event_redelivered() -> None:
    EVENTS_REDELIVERED.inc()


def set_leader(leading: bool) -> None:
    LEADER.set(1 if leading else 0)


def payload() -> tuple[bytes, str]:
    """The exposition body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
