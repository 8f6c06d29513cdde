"""`precheck --fail-on` is a CI gate: on a partly unreadable cluster it fails closed, and says why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from cluster.demo import DEMO_PATH
from tests.kube_double import KubeDouble


def precheck(kubeconfig: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, object]]:
    code = main(["precheck", "catalog", "--kubeconfig", str(kubeconfig), "--output", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_a_gate_on_an_incomplete_read_fails_closed(
    tmp_path: Path, kube_double_factory: Callable[..., KubeDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    double = kube_double_factory(DEMO_PATH, crd_groups="all")
    kubeconfig = double.kubeconfig(tmp_path / "kubeconfig")
    code, report = precheck(kubeconfig, capsys, "--fail-on", "blocked")
    assert code == 0, "catalog is ready on the demo cluster: the gate passes when everything was read"

    double.fault(kind="envoyfilters", status=403, message='envoyfilters is forbidden: cannot list "envoyfilters"')
    code, report = precheck(kubeconfig, capsys, "--fail-on", "blocked")
    assert code == 1
    assert [i["kind"] for i in report["issues"]] == ["EnvoyFilter"]  # type: ignore[index]

    code, _ = precheck(kubeconfig, capsys)
    assert code == 0, "without --fail-on an incomplete read is a partial answer, not a failure"
    assert main(["precheck", "catalog", "--kubeconfig", str(kubeconfig), "--fail-on", "blocked"]) == 1
    assert "--fail-on fails closed" in capsys.readouterr().out
