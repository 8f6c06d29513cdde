"""Structured logs: JSON in a container, text on a terminal, one audit line per command, no secret ever written."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import logs

BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
USER = "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef"
ROTATING = "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA"
APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
SIGNING = "8f742231b10e8888abcd9923cc5085a5"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6eCJ9.c2lnbmF0dXJl"
ODD = "p@ssw0rd-without-a-pattern"
SECRETS = (BOT, USER, ROTATING, APP, SIGNING, JWT, ODD)


@pytest.fixture(autouse=True)
def clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    monkeypatch.delenv(logs.FORMAT_ENV, raising=False)
    monkeypatch.delenv(logs.LEVEL_ENV, raising=False)
    yield
    root.handlers[:], _ = saved
    root.setLevel(saved[1])
    logs._known_secrets.clear()
    logging.captureWarnings(False)


def capture(**kwargs: Any) -> io.StringIO:
    out = io.StringIO()
    logs.configure(stream=out, **kwargs)
    return out


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


# -- format


def test_audit_is_one_json_line_with_who_what_where_and_outcome() -> None:
    out = capture(json_lines=True)
    logs.audit(user="U123", channel="C456", command="status", outcome="ok", surface="slack", seconds=0.25)
    (line,) = lines(out)
    record = json.loads(line)
    assert record["logger"] == "meshbot.audit" and record["level"] == "info"
    assert record["audit"] is True
    assert (record["user"], record["channel"], record["command"], record["outcome"]) == ("U123", "C456", "status", "ok")
    assert record["surface"] == "slack" and record["seconds"] == 0.25
    assert record["message"] == "command status by U123 in C456: ok"
    assert record["time"].endswith("+00:00") and "T" in record["time"]


def test_json_keeps_korean_readable_and_records_exceptions() -> None:
    out = capture(json_lines=True)
    log = logging.getLogger("meshbot.test")
    try:
        raise RuntimeError("상태 조회 실패")
    except RuntimeError:
        log.exception("명령 실패")
    record = json.loads(lines(out)[0])
    assert record["message"] == "명령 실패" and record["level"] == "error"
    assert "RuntimeError: 상태 조회 실패" in record["error"]


def test_text_lines_are_for_people() -> None:
    out = capture(json_lines=False)
    logs.audit(user="U1", channel="C1", command="mtls", outcome="refused")
    (line,) = lines(out)
    assert not line.startswith("{")
    assert "INFO meshbot.audit command mtls by U1 in C1: refused" in line
    logs.audit(user="U1", channel="C1", command="ask", outcome="ok", surface="cli", seconds=0.5)
    assert lines(out)[1].endswith("command ask by U1 in C1: ok surface=cli seconds=0.5")


@pytest.mark.parametrize(("chosen", "tty", "json_expected"), [
    (None, False, True),  # a container or a pipe
    (None, True, False),  # a person at a terminal
    ("text", False, False),
    ("json", True, True),
    ("JSON", True, True),
    ("bogus", True, False),  # an unknown value falls back to the terminal rule
])  # fmt: skip
def test_format_follows_env_then_terminal(
    monkeypatch: pytest.MonkeyPatch, chosen: str | None, tty: bool, json_expected: bool
) -> None:
    if chosen is not None:
        monkeypatch.setenv(logs.FORMAT_ENV, chosen)
    if tty:
        leader, follower = os.openpty()  # a real terminal device, so isatty() is the real answer
        stream = open(follower, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        try:
            assert stream.isatty()
            assert logs.json_wanted(stream) is json_expected
        finally:
            stream.close()
            os.close(leader)
    else:
        assert logs.json_wanted(io.StringIO()) is json_expected


def test_level_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(logs.LEVEL_ENV, "warning")
    out = capture(json_lines=True)
    logging.getLogger("meshbot.x").info("hidden")
    logging.getLogger("meshbot.x").warning("shown")
    assert [json.loads(line)["message"] for line in lines(out)] == ["shown"]


def test_unknown_level_falls_back_to_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(logs.LEVEL_ENV, "LOUD")
    capture(json_lines=True)
    assert logging.getLogger().level == logging.INFO


# -- no secrets, ever


@pytest.mark.parametrize("json_lines", [True, False])
def test_no_token_reaches_a_line_whatever_the_path(json_lines: bool) -> None:
    out = capture(json_lines=json_lines, secrets=[ODD, None, ""])
    log = logging.getLogger("slack_bolt.App")  # third-party loggers go through the same handler
    log.info("token %s app %s", BOT, APP)
    log.warning(f"rotated {ROTATING} user {USER}")
    log.info("headers: {'Authorization': 'Bearer %s'}", JWT)
    log.info("signature check with secret %s", SIGNING)
    log.info("db password %s", ODD)
    logs.audit(user="U1", channel="C1", command="ask", outcome="ok", text=f"my token is {BOT}")
    try:
        raise ValueError(f"invalid_auth for {BOT}")
    except ValueError:
        log.exception("call failed")
    written = out.getvalue()
    for secret in SECRETS:
        assert secret not in written
    assert written.count(logs.MASK) >= 9


def test_redaction_keeps_what_is_not_a_secret() -> None:
    text = "user U0123ABCD in C0456 ran status; commit 0123456789abcdef0123456789abcdef01234567; id 42"
    assert logs.redact(text) == text
    assert logs.redact(f"a {SIGNING} b") == f"a {logs.MASK} b"
    assert logs.redact(f"x-slack-signature: v0={SIGNING * 2}") == f"x-slack-signature: v0={SIGNING * 2}"


def test_real_slack_client_debug_logs_leak_no_token() -> None:
    """slack_sdk at DEBUG, talking to a local Slack Web API double that rejects the token."""

    class SlackDouble(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen = self.headers.get("Authorization", "")
            body = json.dumps({"ok": False, "error": "invalid_auth", "echo": seen}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlackDouble)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = capture(json_lines=True, level="DEBUG")
        client = WebClient(token=BOT, base_url=f"http://127.0.0.1:{server.server_address[1]}/", retry_handlers=[])
        with pytest.raises(SlackApiError) as caught:
            client.auth_test()
        logging.getLogger("meshbot.slack").error("auth.test failed: %s", caught.value)
    finally:
        server.shutdown()
        server.server_close()
    written = out.getvalue()
    assert "invalid_auth" in written  # the failure is logged…
    assert BOT not in written  # …without the token the double echoed back
    assert logs.MASK in written
