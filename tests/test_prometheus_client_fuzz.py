"""Whatever a server at the Prometheus URL answers, the client says PrometheusError or returns samples.

The bodies come from outside (a wrong URL, a proxy, a broken server): fuzzed with hypothesis over
real HTTP from a local server that answers with the drawn status and body.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster.traffic.client import PrometheusClient, PrometheusError, duration_seconds, duration_text

ANSWER: dict[str, Any] = {"status": 200, "body": b""}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = ANSWER["body"]
        self.send_response(ANSWER["status"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["success", "error", "x"]),
        "errorType": st.sampled_from(["bad_data", "timeout", "execution", "internal"]),
        "data": st.fixed_dictionaries(
            {},
            optional={
                "resultType": st.sampled_from(["vector", "matrix", "scalar"]),
                "result": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "metric": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
                            "value": json_values,
                            "values": json_values,
                        },
                    )
                    | json_values,
                    max_size=3,
                ),
            },
        )
        | json_values,
    },
)
bodies = envelopes.map(lambda e: json.dumps(e).encode()) | st.binary(max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from([200, 400, 401, 403, 422, 500, 503]), body=bodies, ranged=st.booleans())
def test_any_answer_is_samples_or_a_prometheus_error(url: str, status: int, body: bytes, ranged: bool) -> None:
    ANSWER.update(status=status, body=body)
    client = PrometheusClient(url, timeout=5)
    try:
        if ranged:
            result: list[Any] = client.range("up", seconds=60, step=15)
        else:
            result = client.instant("up")
    except PrometheusError as exc:
        assert exc.kind in {"unauthorized", "forbidden", "timeout", "bad-response", "bad-query", "unreachable"}
        if status == 401:
            assert exc.kind == "unauthorized"
        return
    assert status not in (401, 403)
    assert isinstance(result, list)


@given(st.text(max_size=12))
def test_durations(text: str) -> None:
    try:
        seconds = duration_seconds(text)
    except ValueError as exc:
        assert "duration" in str(exc) or "longer than zero" in str(exc)
        return
    assert seconds > 0 and duration_seconds(duration_text(seconds)) >= seconds
