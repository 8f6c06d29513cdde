"""The precheck gate on two sets of clusters written apart from the code, verdicts fixed before any run:
never a wrong `ready` (the one mistake a gate must not make), and no verdict looser or stricter than Istio's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eval.precheck_scoring import SETS, evaluate


@pytest.mark.parametrize("folder", SETS, ids=[f.name for f in SETS])
def test_no_wrong_ready_and_every_verdict_agrees(folder: Path) -> None:
    paths = sorted(folder.glob("*.yaml"))
    assert len(paths) == 30
    outcome = evaluate(paths)
    assert outcome.namespaces == 40
    assert outcome.wrong_ready == []
    assert outcome.stricter == [] and outcome.looser == []
    assert outcome.missing_codes == []
