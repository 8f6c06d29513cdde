"""300 connections held open by one unauthenticated client do not shut out Slack or the probes.

Runs the bounded load of benchmarks/bench_idle_connections.py against the real HTTP server (waitress,
as `serve` configures it) on 127.0.0.1: with waitress's defaults (100 connections) /healthz timed out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.bench_idle_connections import BUDGET_S, run
from bot.config import Settings
from bot.slack.serve import Server
from tests.slack_double import SIGNING_SECRET, SlackDouble


@pytest.fixture
def server(slack: SlackDouble) -> Iterator[Server]:
    settings = Settings(
        slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url
    )
    srv = Server(settings, "http", read_cluster=None, host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.stop(grace=2)


@pytest.mark.slow
def test_healthz_and_a_signed_command_answer_within_a_second_with_300_connections_held(
    server: Server, slack: SlackDouble
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    baseline, loaded = run(base, server.port, slack, idle=270, slow=30, rounds=3)
    assert len(loaded.healthz) == len(loaded.ack) == len(loaded.answer) == 3
    assert loaded.worst() < BUDGET_S, loaded.line("held")
    assert baseline.worst() < BUDGET_S
    assert loaded.held == 300  # none refused or dropped: they were all really open while the requests went through
