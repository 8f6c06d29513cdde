"""A local WebSocket double of Slack's Socket Mode endpoint (the URL apps.connections.open returns).

On connect it sends `hello`, then delivers the envelopes a test hands it and records the acks
(`{"envelope_id": …, "payload": …}`) the app sends back.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class SocketDouble:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.acks: dict[str, dict[str, Any]] = {}
        self.sent_at: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}
        self.connections = 0
        self._ws: ServerConnection | None = None
        self._server: Server | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> SocketDouble:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(5)
        return self

    async def _serve(self) -> Server:
        return await serve(self._handler, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test-ticket&app_id=A0MESHBOT"

    async def _handler(self, ws: ServerConnection) -> None:
        with self._cond:
            self._ws = ws
            self.connections += 1
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "socket-double", "approximate_connection_time": 3600},
            "connection_info": {"app_id": "A0MESHBOT"},
        }
        await ws.send(json.dumps(hello))
        try:
            async for raw in ws:
                message = json.loads(raw)
                if isinstance(message, dict) and "envelope_id" in message:
                    with self._cond:
                        self.acks[str(message["envelope_id"])] = message
                        self.acked_at[str(message["envelope_id"])] = time.monotonic()
                        self._cond.notify_all()
        except ConnectionClosed:
            pass  # the client hung up without a close frame, as slack_sdk's built-in client does on close()
        with self._cond:
            if self._ws is ws:
                self._ws = None
            self._cond.notify_all()

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._ws is not None, timeout):
                raise AssertionError("the app never connected to the Socket Mode double")

    def deliver(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False) -> str:
        """Send one envelope (`slash_commands`, `events_api`, `interactive`); returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "payload": payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        ws = self._ws
        assert ws is not None, "no connection"
        self.sent_at[envelope_id] = time.monotonic()
        asyncio.run_coroutine_threadsafe(ws.send(json.dumps(envelope)), self.loop).result(5)
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> tuple[dict[str, Any], float]:
        """The ack for an envelope and how long after sending it arrived (seconds)."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"no ack for envelope {envelope_id}")
            return self.acks[envelope_id], self.acked_at[envelope_id] - self.sent_at[envelope_id]

    def disconnect(self) -> None:
        """Drop the connection, as Slack does on refresh; the client should reconnect."""
        ws = self._ws
        if ws is not None:
            asyncio.run_coroutine_threadsafe(ws.close(), self.loop).result(5)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
