"""Regression floors for `ask` on the evaluation sets (tests/eval/, written apart from the code).

The tuning figures are the ones measured when this was written (benchmarks/eval_ask.py), minus a
small margin; the hold-out only has to stay above a floor (it is never tuned on, so its figures are
reported, not chased).
"""

from __future__ import annotations

import pytest

import knowledge
from tests.eval.scoring import HOLDOUT, TUNING, Figures, figures, load, run

MARGIN = 0.03
TUNING_MEASURED = {"right": 0.939, "answer_first": 0.921, "refusals": 1.0, "language": 1.0}
HOLDOUT_FLOOR = {"right": 0.78, "answer_first": 0.74, "refusals": 0.95, "language": 1.0}


@pytest.fixture(scope="module")
def tuning() -> Figures:
    return figures(run(knowledge.default(), load(TUNING)))


@pytest.fixture(scope="module")
def holdout() -> Figures:
    return figures(run(knowledge.default(), load(HOLDOUT)))


def test_the_sets_are_the_size_they_were_written_at() -> None:
    assert len(load(TUNING)) >= 250 and len(load(HOLDOUT)) >= 130


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(TUNING_MEASURED))
def test_tuning_set_stays_above_its_measured_figures(tuning: Figures, metric: str) -> None:
    assert getattr(tuning, metric) >= TUNING_MEASURED[metric] - MARGIN


@pytest.mark.slow
@pytest.mark.parametrize("metric", sorted(HOLDOUT_FLOOR))
def test_holdout_stays_above_its_floor(holdout: Figures, metric: str) -> None:
    assert getattr(holdout, metric) >= HOLDOUT_FLOOR[metric]


@pytest.mark.slow
def test_answers_are_short(tuning: Figures) -> None:
    assert tuning.median_length <= 600  # a few lines, not a pasted page
