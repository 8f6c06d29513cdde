"""The Prometheus client the settings describe, or None (observed traffic off)."""

from __future__ import annotations

from bot.config import Settings
from cluster.traffic import PrometheusClient


def traffic_for(settings: Settings) -> PrometheusClient | None:
    if not settings.prometheus_url:
        return None
    return PrometheusClient(
        settings.prometheus_url,
        token_file=settings.prometheus_token_file,
        ca_file=settings.prometheus_ca_file,
        timeout=settings.prometheus_timeout,
    )
