"""A migration checked by its effect: request rate, error ratio and P99 of a namespace, before and after.

Before the switch the sidecars' `reporter="destination"` series describe what the namespace
served; after it, its waypoint's `reporter="waypoint"` series do, or, without a waypoint, only
ztunnel's L4 connection rate exists (ztunnel has no request, status or latency metrics:
istio/ztunnel src/proxy/metrics.rs registers TCP counters only).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel

from cluster.traffic.client import PrometheusAPI, PrometheusError, Sample
from cluster.traffic.queries import effect_queries

Reporter = Literal["destination", "waypoint", "ztunnel"]

# What counts as a clear regression (and not noise): judged on the namespace as a whole.
ERROR_RATIO_RISE = 0.02
"""Two more failed requests in a hundred than before..."""
ERROR_RATIO_FACTOR = 2.0
"""...and at least twice the ratio before."""
P99_FACTOR = 1.5
P99_RISE_MS = 50.0
# The request rate is shown, never judged: the 'after' window starts at the baseline, before the switch,
# when the new reporter had no series yet, so its average is diluted by an unknown share.


class Effect(BaseModel):
    reporter: Reporter
    window: str
    rate: float | None = None
    """Requests per second (connections per second for ztunnel)."""
    error_ratio: float | None = None
    p99_ms: float | None = None


def _pick(samples: list[Sample], namespace: str) -> float | None:
    for s in samples:
        if s.labels.get("destination_workload_namespace") == namespace:
            return s.value
    return None


def read_effect(api: PrometheusAPI, namespace: str, reporter: Reporter, window: str) -> Effect:
    """Up to three queries grouped by namespace (the same three for 5 namespaces or 5,000); raises PrometheusError."""
    q = effect_queries(reporter, window)
    wanted = [text for text in (q.rate, q.errors, q.p99) if text]
    with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="promql") as pool:
        results = list(pool.map(api.instant, wanted))
    rate = _pick(results[0], namespace)
    effect = Effect(reporter=reporter, window=window, rate=rate)
    if len(results) == 3:
        errors = _pick(results[1], namespace) or 0.0
        effect.error_ratio = errors / rate if rate else None
        effect.p99_ms = _pick(results[2], namespace)
    return effect


def regressions(before: Effect, after: Effect) -> list[Literal["errors", "latency"]]:
    """The clear regressions from `before` to `after` (empty when the numbers do not say so).

    Ratios only (5xx share, P99): they do not depend on how much of the window had traffic.
    """
    found: list[Literal["errors", "latency"]] = []
    if before.error_ratio is not None and after.error_ratio is not None:
        rise = after.error_ratio - before.error_ratio
        if rise >= ERROR_RATIO_RISE and after.error_ratio >= ERROR_RATIO_FACTOR * before.error_ratio:
            found.append("errors")
    if (
        before.p99_ms is not None
        and after.p99_ms is not None
        and after.p99_ms >= P99_FACTOR * before.p99_ms
        and after.p99_ms - before.p99_ms >= P99_RISE_MS
    ):
        found.append("latency")
    return found


__all__ = ["Effect", "PrometheusError", "read_effect", "regressions"]
