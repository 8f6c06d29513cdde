"""A local HTTP double of the Slack Web API, the response_url endpoint and the file upload URL.

It implements the methods meshbot calls (auth.test, chat.postMessage, chat.postEphemeral,
chat.update, conversations.open, files.getUploadURLExternal + the upload URL +
files.completeUploadExternal, conversations.history/replies, apps.connections.open), records every
call, and can answer calls of a method (the response_url too) with a sequence of faults the way Slack
answers them: 429 + Retry-After, 5xx (JSON `internal_error`, or a gateway's HTML page), a 5xx after
the message was taken, or a Slack error, to test retries, lookups and fallbacks.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT_USER = "UBOTMESH"
BOT_ID = "BBOTMESH"
TEAM = "T0MESHBOT"


@dataclass
class Call:
    method: str
    """Web API method, or `response_url` / `upload`."""
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    result: dict[str, Any] = field(default_factory=dict)
    """What the double answered (e.g. the `ts` of a posted message)."""

    def text(self) -> str:
        """Everything the call would show in Slack, as one string (for escaping checks)."""
        return json.dumps(self.body, ensure_ascii=False)


@dataclass
class Fault:
    status: int
    error: str
    retry_after: int | None = None
    taken: bool = False

    def answer(self) -> tuple[int, dict[str, str], Any]:
        if self.status in (502, 503, 504):  # a gateway in front of Slack: an HTML page, not JSON
            return self.status, {"Content-Type": "text/html"}, b"<html><body>Service Unavailable</body></html>"
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return self.status, {"Content-Type": "application/json", **extra}, {"ok": False, "error": self.error}


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        parsed = json.loads(raw or b"{}")
        return parsed if isinstance(parsed, dict) else {"_": parsed}
    flat = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    for key in ("blocks", "files", "attachments"):
        if isinstance(flat.get(key), str):
            with contextlib.suppress(ValueError):
                flat[key] = json.loads(flat[key])
    return flat


class SlackDouble:
    def __init__(self, *, bot_token: str = "xoxb-test-token", app_token: str = "xapp-test-token") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.socket_url: str | None = None
        self.usergroups: dict[str, list[str]] = {}
        """User-group id (S…) -> member ids, as `usergroups.users.list` answers them."""
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, body = double._handle(self.path, dict(self.headers.items()), raw)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    def start(self) -> SlackDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- faults -----------------------------------------------------------------------------

    def rate_limit_once(self, method: str, retry_after: int = 1) -> None:
        self._faults.setdefault(method, []).append(Fault(429, "ratelimited", retry_after))

    def error_once(self, method: str, error: str) -> None:
        self._faults.setdefault(method, []).append(Fault(200, error))

    def fail(self, method: str, *statuses: int, retry_after: int = 1, taken: bool = False) -> None:
        """Answer the next calls of `method` (or "response_url") with these HTTP statuses, in order.

        429 comes with Retry-After; 500 with Slack's JSON `internal_error`; 502/503/504 with a gateway's
        HTML page. `taken`: the 5xx comes after the call was carried out (the message is in the channel).
        """
        for status in statuses:
            error = "ratelimited" if status == 429 else "internal_error"
            self._faults.setdefault(method, []).append(
                Fault(status, error, retry_after if status == 429 else None, taken=taken and status >= 500)
            )

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            faults = self._faults.get(method)
            return faults.pop(0) if faults else None

    # --- assertions ---------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        """Successful calls of a method (what reached Slack)."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.status == 200]

    def attempts(self, method: str) -> list[Call]:
        """Every call of a method, including those answered with an injected fault."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[list[Call]], Any], timeout: float = 10.0) -> Any:
        """Wait until predicate(calls) is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate(list(self.calls))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"timed out waiting; calls so far: {seen}")
                self._lock.wait(left)

    def wait_method(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        result: list[Call] = self.wait_for(
            lambda calls: (
                [c for c in calls if c.method == method and c.status == 200][count - 1 :]
                and [c for c in calls if c.method == method and c.status == 200]
            ),
            timeout,
        )
        return result

    # --- the API ------------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        parsed = urlparse(path)
        lower = {k.lower(): v for k, v in headers.items()}
        if parsed.path.startswith("/response/"):
            body = _decode(raw, "application/json")
            body["_to"] = parsed.path.rsplit("/", 1)[-1]  # which response_url: one per request in the tests
            fault = self._fault("response_url")
            if fault is not None and not fault.taken:
                self._record(Call("response_url", body, lower, status=fault.status))
                return fault.answer()
            self._record(Call("response_url", body, lower))
            if fault is not None:
                return fault.answer()
            return 200, {"Content-Type": "text/plain"}, b"ok"
        if parsed.path.startswith("/upload/"):
            file_id = parsed.path.rsplit("/", 1)[-1]
            self.uploads[file_id] = raw
            self._record(Call("upload", {"file_id": file_id, "size": len(raw)}, lower))
            return 200, {"Content-Type": "text/plain"}, f"OK - {len(raw)}".encode()
        if not parsed.path.startswith("/api/"):
            return 404, {}, {"ok": False, "error": "not_found"}
        method = parsed.path[len("/api/") :]
        body = _decode(raw, lower.get("content-type", ""))
        body.update({k: v[0] for k, v in parse_qs(parsed.query).items()})
        fault = self._fault(method)
        if fault is not None and not fault.taken:
            self._record(Call(method, body, lower, status=fault.status if fault.status != 200 else 299))
            return fault.answer()
        token = lower.get("authorization", "").removeprefix("Bearer ")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != wanted:
            self._record(Call(method, body, lower, status=401))
            return 200, {"Content-Type": "application/json"}, {"ok": False, "error": "invalid_auth"}
        answer = self._answer(method, body)
        self._record(Call(method, body, lower, result=answer))
        if fault is not None:  # carried out, then answered with a 5xx
            return fault.answer()
        return 200, {"Content-Type": "application/json"}, answer

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://meshbot.slack.test/",
                "team": "meshbot",
                "user": "meshbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": body.get("channel"),
                "ts": ts,
                "message": {"ts": ts, "text": body.get("text")},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", "")).split(",")[0]}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):06d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method in ("conversations.history", "conversations.replies"):
            # What the bot posted in the channel (or the thread), newest first, with its metadata.
            posted = [
                c
                for c in self.of("chat.postMessage")
                if c.body.get("channel") == body.get("channel")
                and (method == "conversations.history" or body.get("ts") in (c.body.get("thread_ts"), c.result["ts"]))
            ]
            messages = [
                {"ts": c.result["ts"], "text": c.body.get("text"), "metadata": c.body.get("metadata")} for c in posted
            ]
            return {"ok": True, "messages": list(reversed(messages))}
        if method == "usergroups.users.list":
            # https://docs.slack.dev/reference/methods/usergroups.users.list: {"ok": true, "users": [...]}
            members = self.usergroups.get(str(body.get("usergroup") or ""))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method == "apps.connections.open":
            if self.socket_url is None:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}


# --- the other direction: requests "from Slack" to the app, signed like Slack signs them ---------------

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return "v0=" + digest


def post_signed(
    url: str,
    body: str | bytes,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    timestamp: int | str | None = None,
    secret: str = SIGNING_SECRET,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST like Slack does (X-Slack-Signature over `v0:ts:body`), with any `headers` more; (status, body)."""
    import urllib.error
    import urllib.request

    ts = str(int(time.time()) if timestamp is None else timestamp)
    data = body.encode() if isinstance(body, str) else body
    sent = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature if signature is not None else sign(data, ts, secret),
        **(headers or {}),
    }
    request = urllib.request.Request(url, data=data, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def slash_form(
    double: SlackDouble,
    text: str,
    *,
    channel: str = "CALLOWED",
    user: str = "UALICE",
    response: str = "r1",
    command: str = "/mesh",
) -> str:
    from urllib.parse import urlencode

    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "meshbot",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0MESHBOT",
            "response_url": double.response_url(response),
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def event_body(event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0MESHBOT",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def block_action_payload(
    double: SlackDouble,
    action_id: str,
    value: str,
    *,
    channel: str = "CALLOWED",
    message_ts: str | None = "1700000001.000100",
    thread_ts: str | None = None,
    ephemeral: bool = False,
    response: str = "a1",
    user: str = "UALICE",
) -> dict[str, Any]:
    container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "meshbot"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0MESHBOT",
        "token": "legacy",
        "container": container,
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "ops"},
        "response_url": double.response_url(response),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": str(time.time()),
            }
        ],
    }
    if message_ts is not None and not ephemeral:
        container["message_ts"] = message_ts
        payload["message"] = {
            "type": "message",
            "ts": message_ts,
            "text": "report",
            **({"thread_ts": thread_ts} if thread_ts else {}),
        }
    return payload


def block_action_form(payload: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)})
