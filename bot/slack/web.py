"""The WSGI app `serve` runs under waitress: /slack/events (HTTP mode), /healthz, /readyz, /metrics.

A thin bridge instead of Bolt's WSGI adapter, for one reason: Bolt parses the body before it checks
the signature, and a body that does not parse raises, which a WSGI server turns into a 500. Here
the signature is checked first (401), then the shape (400), and only then does Bolt see it. Nothing
a client sends before it is authenticated can make a 5xx: the headers are checked as the bytes they
are (a timestamp of ASCII digits, a signature of ASCII), the body is bounded in size and in nesting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest

from bot import metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

LOG = logging.getLogger("meshbot.web")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20
"""Slack's payloads are a few KiB; anything near a MiB is not from Slack."""
MAX_SKEW = 5 * 60
"""Slack's rule: a request signed more than five minutes ago is a replay."""
MAX_NESTING = 64
"""Slack's payloads nest about ten deep (a message's blocks' elements); deeper is an attack on the parser."""
MAX_SIGNATURE = 128

Check = Callable[[], bool]


def _response(
    start_response: StartResponse,
    status: str,
    body: bytes | str,
    content_type: str = "text/plain; charset=utf-8",
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    data = body.encode() if isinstance(body, str) else body
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
    return [data]


def signature_ok(secret: str, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw bytes (so a body that is not UTF-8 is a 401/400, not a crash)."""
    # isdecimal() alone takes "¹²" or Arabic digits, which int() or the clock comparison then trip over.
    if not timestamp or not signature or len(timestamp) > 12 or len(signature) > MAX_SIGNATURE:
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def nesting(text: str) -> int:
    """How deep JSON `text` nests (brackets inside strings do not count); found before parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _json(text: str) -> object:
    if nesting(text) > MAX_NESTING:
        raise ValueError("nested too deep")
    return json.loads(text)


OBJECT_FIELDS = ("event", "user", "channel", "team", "container", "message", "enterprise")


def _shaped(payload: object) -> bool:
    """A Slack JSON object: a string `type`, and the fields Bolt reads as objects really are objects."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    if any(key in payload and not isinstance(payload[key], dict | None) for key in OBJECT_FIELDS):
        return False
    if payload["type"] == "event_callback" and not isinstance(payload.get("event"), dict):
        return False
    actions = payload.get("actions", [])
    return isinstance(actions, list) and all(isinstance(a, dict) for a in actions)


def well_formed(body: str, content_type: str) -> bool:
    """The shapes Slack sends: a JSON event envelope, a form with `payload` (JSON), or a slash command form."""
    try:
        if content_type.startswith("application/json"):
            return _shaped(_json(body))
        form = parse_qs(body, keep_blank_values=True)
        if "payload" in form:
            return _shaped(_json(form["payload"][0]))
    except (ValueError, RecursionError):
        return False
    return bool(form.get("command")) or "ssl_check" in form


class WebApp:
    def __init__(self, *, bolt: App | None, signing_secret: str | None, healthy: Check, ready: Check) -> None:
        self.bolt = bolt
        self.signing_secret = signing_secret
        self.healthy = healthy
        self.ready = ready

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "")
        method = str(environ.get("REQUEST_METHOD") or "GET")
        if path == "/healthz":
            ok = self.healthy()
            return _response(start_response, "200 OK" if ok else "503 Service Unavailable", "ok\n" if ok else "down\n")
        if path == "/readyz":
            ok = self.ready()
            return _response(
                start_response, "200 OK" if ok else "503 Service Unavailable", "ready\n" if ok else "not ready\n"
            )
        if path == "/metrics" and method == "GET":
            body, content_type = metrics.payload()
            return _response(start_response, "200 OK", body, content_type)
        if path == EVENTS_PATH and self.bolt is not None:
            if method != "POST":
                return _response(start_response, "405 Method Not Allowed", "POST only\n", headers=[("Allow", "POST")])
            return self.slack(environ, start_response)
        return _response(start_response, "404 Not Found", "not found\n")

    def slack(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        assert self.bolt is not None and self.signing_secret is not None
        length_header = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not (length_header.isascii() and length_header.isdigit()):
            return _response(start_response, "400 Bad Request", "bad Content-Length\n")
        length = int(length_header)
        if length > MAX_BODY:
            return _response(start_response, "413 Content Too Large", "too large\n")
        try:
            raw = environ["wsgi.input"].read(length) if length else b""
        except (OSError, ValueError):  # the client went away mid-body
            return _response(start_response, "400 Bad Request", "truncated body\n")
        headers: dict[str, str] = {
            key[5:].lower().replace("_", "-"): str(value) for key, value in environ.items() if key.startswith("HTTP_")
        }
        content_type = str(environ.get("CONTENT_TYPE") or "")
        headers["content-type"] = content_type
        if len(raw) != length or not signature_ok(
            self.signing_secret, raw, headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        ):
            return _response(start_response, "401 Unauthorized", "invalid signature\n")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _response(start_response, "400 Bad Request", "not UTF-8\n")
        if not well_formed(body, content_type):
            return _response(start_response, "400 Bad Request", "not a Slack request\n")
        query = str(environ.get("QUERY_STRING") or "")
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        try:
            request = BoltRequest(body=body, query=query, headers=bolt_headers)
            response = self.bolt.dispatch(request)
        except Exception:
            LOG.exception("a signed Slack request could not be dispatched")
            return _response(start_response, "400 Bad Request", "unreadable Slack request\n")
        if response.status >= 500:
            # Bolt answers 500 when its middleware trips over a shape it did not expect; with the
            # listeners running after the ack, that is always the request's fault, never ours.
            return _response(start_response, "400 Bad Request", "unreadable Slack request\n")
        response_headers = [(k, v) for k, values in response.headers.items() for v in values if k != "content-length"]
        body_out: Any = response.body or ""
        data = body_out.encode() if isinstance(body_out, str) else bytes(body_out)
        start_response(
            f"{response.status} {_reason(response.status)}", [*response_headers, ("Content-Length", str(len(data)))]
        )
        return [data]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
