"""Nothing a client sends to /slack/events can make a 5xx: fuzzed over raw HTTP against the real server.

Hypothesis writes the request bytes itself (no HTTP client to tidy them up): headers with any
characters (superscript digits in the timestamp, non-ASCII, control bytes), any content type and
body (bad UTF-8, deep nesting, forms, truncated or over-long bodies), signed or not.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.slack.serve import MAX_HEADER_BYTES, Server
from bot.slack.web import MAX_BODY, MAX_NESTING, nesting, signature_ok
from tests.slack_double import SIGNING_SECRET, SlackDouble, sign


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def server(slack: SlackDouble) -> Iterator[Server]:
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        cluster_channels=["CALLOWED"],
    )
    srv = Server(settings, "http", read_cluster=None, host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.stop(grace=2)


def exchange(
    port: int, head: bytes, body: bytes, *, declared: int | None = None, line: bytes = b"POST /slack/events"
) -> bytes:
    """Send a raw request (Content-Length `declared`, else the body's); the status line, or b"" if closed."""
    length = len(body) if declared is None else declared
    request = (
        line
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + head
        + f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # The server may answer (a 4xx) and close before it has read everything: what it said still counts.
        with contextlib.suppress(OSError):
            sock.sendall(request)
            if length > len(body):
                sock.shutdown(socket.SHUT_WR)  # a truncated body: the client gives up mid-way
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    return data.split(b"\r\n", 1)[0]


def status_of(line: bytes) -> int | None:
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def not_5xx(line: bytes) -> None:
    status = status_of(line)
    assert status is None or status < 500, line


header_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=60)
digits = st.text(st.sampled_from("0123456789¹²³⁴⁵⁶⁷⁸⁹⁰١٢٣٤٥٦٧٨٩٠𝟘𝟙𝟚 +-."), min_size=1, max_size=14)


def nested(depth: int) -> str:
    return '{"type":"event_callback","event":' + '{"a":[' * depth + "1" + "]}" * depth + "}"


bodies = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(str.encode),
    st.integers(min_value=1, max_value=5000).map(lambda d: nested(d).encode()),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=30,
    ).map(lambda value: json.dumps({"type": "event_callback", "event": value}).encode()),
    st.sampled_from(
        [
            b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A5%7D",
            b"payload=%FF%FE",
            b"command=%2Fmesh&text=%C0%AF",
            b"\xc3\x28\xa0\xa1",
            "text=ambient ¿?".encode("latin-1"),
        ]
    ),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "application/json; charset=utf-16",
            "text/plain; charset=latin-1",
            "multipart/form-data; boundary=x",
        ]
    ),
    header_text,
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    content_type=content_types,
    timestamp=st.one_of(digits, header_text, st.just("now")),
    signature=st.one_of(header_text, st.just("valid")),
    extra=st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True), header_text), max_size=4),
    truncate=st.integers(min_value=0, max_value=3),
    encoding=st.sampled_from(["utf-8", "latin-1"]),
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "OPTIONS", "post"]),
    path=st.one_of(
        st.sampled_from(["/slack/events"] * 4 + ["/slack/events?x=%ff&y", "/healthz", "/readyz", "/metrics"]),
        st.text(st.characters(codec="utf-8", exclude_characters="\r\n "), max_size=30).map(lambda p: "/" + p),
    ),
)
def test_no_request_to_slack_events_gets_a_5xx(
    server: Server,
    body: bytes,
    content_type: str,
    timestamp: str,
    signature: str,
    extra: list[tuple[str, str]],
    truncate: int,
    encoding: str,
    method: str,
    path: str,
) -> None:
    ts = str(int(time.time())) if timestamp == "now" else timestamp
    signed = sign(body, ts) if signature == "valid" and ts.isascii() else signature
    lines = [("Content-Type", content_type), ("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signed), *extra]
    head = b"".join(f"{k}: {v}\r\n".encode(encoding, "replace") for k, v in lines)
    declared = len(body) + truncate * 10 if truncate == 3 else None  # one case in four sends less than it says
    line = f"{method} {path}".encode(encoding, "replace")
    not_5xx(exchange(server.port, head, body, declared=declared, line=line))


def signed_head(body: bytes, content_type: str = "application/json") -> bytes:
    ts = str(int(time.time()))
    lines = [
        f"Content-Type: {content_type}",
        f"X-Slack-Request-Timestamp: {ts}",
        f"X-Slack-Signature: {sign(body, ts)}",
    ]
    return "".join(line + "\r\n" for line in lines).encode()


def test_a_timestamp_with_a_superscript_digit_is_401(server: Server) -> None:
    body = b'{"type":"url_verification","challenge":"x"}'
    ts = str(int(time.time()))[:-1] + "¹"
    head = f"Content-Type: application/json\r\nX-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: v0=ab\r\n"
    assert status_of(exchange(server.port, head.encode(), body)) == 401


def test_deeply_nested_signed_json_is_400(server: Server) -> None:
    body = nested(100_000).encode()
    assert status_of(exchange(server.port, signed_head(body), body)) == 400
    shallow = nested(MAX_NESTING - 3).encode()  # within the limit: parsed, then refused as not an event
    assert status_of(exchange(server.port, signed_head(shallow), shallow)) in (200, 400)


def test_huge_headers_and_bodies_are_refused_with_4xx(server: Server) -> None:
    huge = b"X-Padding: " + b"a" * (MAX_HEADER_BYTES + 1024) + b"\r\n"
    assert 400 <= (status_of(exchange(server.port, huge, b"{}")) or 400) < 500
    assert status_of(exchange(server.port, b"Content-Type: application/json\r\n", b"", declared=MAX_BODY + 1)) == 413


def test_a_signed_body_that_is_not_utf8_is_400(server: Server) -> None:
    body = b'{"type":"\xff\xfe"}'
    assert status_of(exchange(server.port, signed_head(body), body)) == 400


@given(st.recursive(st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6), lambda x: st.lists(x, max_size=3)))
def test_nesting_counts_json_depth_like_the_parser(value: object) -> None:
    text = json.dumps(value)

    def depth(v: object) -> int:
        return 1 + max((depth(i) for i in v), default=0) if isinstance(v, list) else 0

    assert nesting(text) == depth(value)


@given(
    raw=st.binary(max_size=200),
    timestamp=st.one_of(st.none(), st.text(max_size=20)),
    signature=st.one_of(st.none(), st.text(max_size=80)),
)
def test_the_signature_check_says_no_to_anything_unsigned_without_raising(
    raw: bytes, timestamp: str | None, signature: str | None
) -> None:
    assert signature_ok(SIGNING_SECRET, raw, timestamp, signature) is False
