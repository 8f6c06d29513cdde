"""`meshbot serve`: the Slack app in Socket Mode or HTTP mode, under waitress, with health endpoints.

Socket Mode (default) needs no ingress: slack_bolt's SocketModeHandler (slack_sdk's built-in
client) holds the WebSocket, and waitress serves only /healthz, /readyz and /metrics. HTTP mode
serves /slack/events too. SIGTERM stops taking new work, delivers the answers in flight (up to
GRACE_SECONDS, inside Kubernetes' default 30 s), then exits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from waitress import wasyncore
from waitress.server import create_server

from bot.config import Settings, SettingsError
from bot.slack.app import SlackApp, build
from bot.slack.once import Claim, MemoryClaims, answer_once
from bot.slack.web import MAX_BODY, WebApp
from cluster.snapshot import Snapshot
from handlers.ports import StatePort

LOG = logging.getLogger("meshbot.serve")
Mode = Literal["socket", "http"]

# Request threads block until the listener acked (milliseconds); 8 keeps 20 concurrent slash
# commands within a few ack-times of each other while leaving the 2 cores to the work pool.
HTTP_THREADS = 8
# Connections: waitress reads a whole request on its event loop before a thread sees it, so idle or
# slow clients hold only a socket, never a thread. Its default limit (100 connections, after which it
# stops accepting) let 101 idle sockets shut out Slack and the probes; these let them be many and
# short-lived. Measured by benchmarks/bench_idle_connections.py.
CONNECTION_LIMIT = 2000
"""Open connections before waitress stops accepting (each is one file descriptor, nothing more)."""
CHANNEL_TIMEOUT = 30
"""Seconds a connection may sit idle (or dribble a request) before it is closed; Slack sends at once."""
CLEANUP_INTERVAL = 5
"""How often idle connections are looked for."""
MAX_HEADER_BYTES = 32 * 1024
"""Slack's headers are well under 2 KiB; beyond this waitress answers 431 before reading more."""
LISTEN_BACKLOG = 2048
GRACE_SECONDS = 20.0
PING_SECONDS = 10.0
"""How often the Socket Mode client checks its connection (and reconnects when it dropped)."""
RECONNECT_GRACE_SECONDS = 60.0
"""/healthz stays up this long after the Socket Mode connection drops: the client reconnects by itself."""


def check(settings: Settings, mode: Mode) -> None:
    """Everything the mode needs, or one clear line naming what is missing."""
    if not settings.slack_bot_token:
        raise SettingsError(f"serve --mode {mode} needs SLACK_BOT_TOKEN (xoxb-…, OAuth & Permissions)")
    if mode == "socket" and not settings.slack_app_token:
        raise SettingsError(
            "serve --mode socket needs SLACK_APP_TOKEN (xapp-…, Basic Information > App-Level Tokens, "
            "scope connections:write)"
        )
    if mode == "http" and not settings.slack_signing_secret:
        raise SettingsError("serve --mode http needs SLACK_SIGNING_SECRET (Basic Information > Signing Secret)")


class Server:
    def __init__(
        self,
        settings: Settings,
        mode: Mode,
        *,
        read_cluster: Callable[[], Snapshot] | None,
        host: str | None = None,
        port: int | None = None,
        ping_interval: float = PING_SECONDS,
        state: StatePort | None = None,
        store_ready: Callable[[], bool] | None = None,
        claim_event: Claim | None = None,
    ) -> None:
        check(settings, mode)
        self.mode = mode
        self.slack: SlackApp = build(settings, read_cluster=read_cluster, state=state)
        # Slack's redeliveries of an event are acked, not answered again (claims in the store: across replicas).
        self.slack.app.use(answer_once(claim_event or MemoryClaims()))
        self.socket: Any = None
        self._stopping = threading.Event()
        self._last_connected = 0.0
        self._store_ready = store_ready
        if mode == "socket":
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self.socket = SocketModeHandler(
                self.slack.app, app_token=settings.slack_app_token, ping_interval=ping_interval
            )
        web = WebApp(
            bolt=self.slack.app if mode == "http" else None,
            signing_secret=settings.slack_signing_secret if mode == "http" else None,
            healthy=self.healthy,
            ready=self.ready,
        )
        try:
            self.http = create_server(
                web,
                host=host or settings.host,
                port=settings.port if port is None else port,
                threads=HTTP_THREADS,
                ident="meshbot",
                max_request_body_size=MAX_BODY,
                max_request_header_size=MAX_HEADER_BYTES,
                connection_limit=CONNECTION_LIMIT,
                channel_timeout=CHANNEL_TIMEOUT,
                cleanup_interval=CLEANUP_INTERVAL,
                backlog=LISTEN_BACKLOG,
                # poll(), not select(): select() cannot watch a descriptor numbered 1024 or above.
                asyncore_use_poll=True,
                clear_untrusted_proxy_headers=True,
                expose_tracebacks=False,
            )
        except OSError as exc:
            raise SettingsError(f"cannot listen on {host or settings.host}:{port}: {exc.strerror}") from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.http.effective_port)

    def connected(self) -> bool:
        if self.socket is None:
            return True
        up = bool(self.socket.client.is_connected())
        if up:
            self._last_connected = time.monotonic()
        return up

    def healthy(self) -> bool:
        """Live while serving; in Socket Mode, while connected or reconnecting within the grace period."""
        if self.socket is None or self.connected():
            return True
        return time.monotonic() - self._last_connected < RECONNECT_GRACE_SECONDS

    def ready(self) -> bool:
        """Taking requests: not stopping, connected to Slack, and the store answers."""
        store_ok = self._store_ready is None or self._store_ready()
        return not self._stopping.is_set() and self.connected() and store_ok

    def start(self) -> None:
        if self.socket is not None:
            self.socket.connect()  # returns at once; the client keeps the connection (and reconnects) itself
            self._last_connected = time.monotonic()
        self._thread = threading.Thread(target=self.http.run, name="meshbot-http", daemon=True)
        self._thread.start()
        LOG.info("meshbot serving (%s mode) on http://%s:%d", self.mode, self.http.effective_host, self.port)

    def stop(self, grace: float = GRACE_SECONDS) -> bool:
        """Stop taking work, deliver what is in flight, then close; True when nothing was cut short."""
        self._stopping.set()
        if self.socket is not None:
            self.socket.close()
        # Sockets belong to the server's loop thread: close them there (pull_trigger), never from here.
        # First the listening socket only: requests already accepted still get their ack.
        self.http.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(self.http))
        delivered = self.slack.work.drain(grace)
        self.slack.work.shutdown()
        self.http.task_dispatcher.shutdown(timeout=2)
        self.http.trigger.pull_trigger(lambda: wasyncore.close_all(self.http._map))
        if self._thread is not None:
            self._thread.join(timeout=5)
        return delivered


def run(settings: Settings, mode: Mode, *, port: int | None) -> int:
    """Serve until SIGTERM or SIGINT, with the schedules (digests, migration checks) in the same process."""
    check(settings, mode)
    from bot.leader import default_identity
    from bot.runtime import build_runtime
    from bot.scheduling import start_scheduling, stop_on_signals

    identity = settings.identity or default_identity()
    runtime = build_runtime(settings, identity=identity)  # a store that cannot open: one line (SettingsError)
    server = Server(
        settings,
        mode,
        read_cluster=runtime.read_cluster,
        state=runtime.state,
        store_ready=runtime.state.store.reachable,
        claim_event=runtime.state.store.claim_event,
        port=port,
    )
    stop = stop_on_signals()
    stop_scheduling = start_scheduling(settings, runtime, identity=identity)
    server.start()
    print(f"meshbot serving ({mode} mode) on http://{server.http.effective_host}:{server.port}", flush=True)
    while not stop.wait(0.5):
        pass
    LOG.info("stopping: delivering %d answer(s) in flight", server.slack.work.inflight)
    stop_scheduling()
    delivered = server.stop()
    runtime.state.store.close()
    print("meshbot stopped" + ("" if delivered else " (some answers were cut short)"), flush=True)
    return 0
