"""bot.metrics: what /metrics serves, parsed back with Prometheus' own text parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics


def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics.payload()
    assert content_type.startswith("text/plain") and "version=" in content_type
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def value(name: str, **labels: str) -> float:
    return samples().get((name, tuple(sorted(labels.items()))), 0.0)


def test_commands_are_counted_by_name_and_outcome_with_latency() -> None:
    before_ok = value("meshbot_commands_total", command="status", outcome="ok")
    before_err = value("meshbot_commands_total", command="status", outcome="error")
    before_count = value("meshbot_command_duration_seconds_count", command="status")
    before_sum = value("meshbot_command_duration_seconds_sum", command="status")
    before_fast = value("meshbot_command_duration_seconds_bucket", command="status", le="0.1")
    metrics.observe_command("status", "ok", 0.05)
    metrics.observe_command("status", "ok", 0.2)
    metrics.observe_command("status", "error", 3.0)
    assert value("meshbot_commands_total", command="status", outcome="ok") == before_ok + 2
    assert value("meshbot_commands_total", command="status", outcome="error") == before_err + 1
    assert value("meshbot_command_duration_seconds_count", command="status") == before_count + 3
    assert abs(value("meshbot_command_duration_seconds_sum", command="status") - before_sum - 3.25) < 1e-9
    assert value("meshbot_command_duration_seconds_bucket", command="status", le="0.1") == before_fast + 1


def test_kube_errors_digests_and_leader() -> None:
    before_403 = value("meshbot_kube_api_errors_total", kind="Pod", status="403")
    before_timeout = value("meshbot_kube_api_errors_total", kind="Pod", status="timeout")
    before_digests = value("meshbot_digests_posted_total")
    metrics.observe_kube_error("Pod", 403)
    metrics.observe_kube_error("Pod", "timeout")
    metrics.digest_posted()
    assert value("meshbot_kube_api_errors_total", kind="Pod", status="403") == before_403 + 1
    assert value("meshbot_kube_api_errors_total", kind="Pod", status="timeout") == before_timeout + 1
    assert value("meshbot_digests_posted_total") == before_digests + 1
    metrics.set_leader(True)
    assert value("meshbot_leader") == 1
    metrics.set_leader(False)
    assert value("meshbot_leader") == 0


def test_label_values_from_users_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user typing garbage after /mesh must not create a new time series per message."""
    monkeypatch.setattr(metrics, "_seen", {})  # filling the label budget here must not starve other tests
    metrics.observe_command("status", "ok", 0.01)
    before = value("meshbot_commands_total", command="other", outcome="ok")
    metrics.observe_command("<script>alert(1)</script>", "ok", 0.01)
    metrics.observe_command("status; rm -rf", "ok", 0.01)
    assert value("meshbot_commands_total", command="other", outcome="ok") == before + 2
    for n in range(metrics.MAX_LABEL_VALUES + 10):
        metrics.observe_command(f"made-up-{n}", "ok", 0.01)
    assert len(metrics._seen["command"]) == metrics.MAX_LABEL_VALUES
    assert value("meshbot_commands_total", command=f"made-up-{metrics.MAX_LABEL_VALUES + 5}", outcome="ok") == 0
    assert metrics.bounded("command", "status") == "status"  # names seen before keep counting under their name
    metrics.observe_kube_error("Pod", "9999")
    assert value("meshbot_kube_api_errors_total", kind="Pod", status="other") >= 1
