"""Counters that the running bot feeds from real reads and posts, not only from direct calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot import metrics
from bot.cluster_source import reader_for
from bot.config import Settings
from cluster.demo import DEMO_PATH
from tests.kube_double import KubeDouble


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_kubernetes_api_errors_of_a_live_read_are_counted(
    tmp_path: Path, kube_double_factory: Callable[..., KubeDouble]
) -> None:
    double = kube_double_factory(DEMO_PATH, crd_groups="all")
    double.fault(kind="envoyfilters", status=403)
    settings = Settings(kubeconfig=double.kubeconfig(tmp_path / "kubeconfig"))
    before = sample("meshbot_kube_api_errors_total", kind="EnvoyFilter", status="403")
    snapshot = reader_for(settings)()
    assert [issue.kind for issue in snapshot.issues] == ["EnvoyFilter"]
    assert sample("meshbot_kube_api_errors_total", kind="EnvoyFilter", status="403") == before + 1
