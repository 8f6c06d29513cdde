"""Render the meshbot chart with the real Helm engine (helm-python-sdk binds Helm's Go SDK; no cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

CHART_DIR = Path(__file__).resolve().parents[1] / "helm" / "meshbot"
RELEASE = "meshbot"
NAMESPACE = "chatops"

helm.disable_logging()  # Helm's own INFO lines (e.g. lint-mode `fail`) would only clutter the test output


def load_chart() -> helm.Chart:
    return helm.Chart.load(CHART_DIR)


def render(chart: helm.Chart, values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` computes it (values checked against the schema)."""
    return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def manifests(chart: helm.Chart, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every Kubernetes object the chart renders (NOTES.txt and empty documents left out)."""
    objects: list[dict[str, Any]] = []
    for path, text in sorted(render(chart, values).items()):
        if path.endswith("NOTES.txt"):
            continue
        objects += [doc for doc in yaml.safe_load_all(text) if doc]
    return objects


def notes(chart: helm.Chart, values: dict[str, Any] | None = None) -> str:
    return next(text for path, text in render(chart, values).items() if path.endswith("NOTES.txt"))


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(o["kind"] for o in objects)
