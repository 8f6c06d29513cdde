"""Idle and slow connections must not shut out Slack or the probes: /healthz and a signed command, timed.

Budget: with 300 connections held open by one unauthenticated client (most idle, some dribbling a
header or a body one byte at a time, slowloris-style), `/healthz` and a signed slash command (its ack, and its
answer at the response_url) each within 1 s. The server runs as its own process
(`meshbot serve --mode http --port 0`, waitress + Bolt) on 127.0.0.1 against the Slack Web API
double running here; before the connections are opened the same requests are timed as a baseline.
Bounded: the connections are held for `--rounds` rounds of requests (about a second each), then closed.

    python benchmarks/bench_idle_connections.py [--idle 300] [--slow 30] [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack_double import SIGNING_SECRET, SlackDouble, post_signed, slash_form  # noqa: E402

BUDGET_S = 1.0


@dataclass
class Figures:
    healthz: list[float] = field(default_factory=list)
    ack: list[float] = field(default_factory=list)
    answer: list[float] = field(default_factory=list)
    held: int = 0
    """Connections still open (not refused, not closed by the server) when the rounds ended."""

    def worst(self) -> float:
        return max([*self.healthz, *self.ack, *self.answer], default=0.0)

    def line(self, label: str) -> str:
        def show(values: list[float]) -> str:
            if not values:
                return "-"
            return f"median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"

        return (
            f"{label}: /healthz {show(self.healthz)} | command ack {show(self.ack)} | "
            f"answer at response_url {show(self.answer)}"
        )


def raise_fd_limit(wanted: int) -> None:
    """Each held connection is a descriptor here and one in the server: lift the soft limit if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def hold(port: int, idle: int, slow: int) -> tuple[list[socket.socket], threading.Event]:
    """Open `idle` silent connections and `slow` ones that dribble forever (half a header that never ends,
    half a body that never arrives: 100 kB announced, a byte at a time); (sockets, stop)."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(idle + slow)]
    stop = threading.Event()
    dribblers = sockets[idle:]
    for n, sock in enumerate(dribblers):
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        if n % 2:
            sock.sendall(b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")

    def dribble() -> None:
        while not stop.wait(0.2):
            for n, sock in enumerate(dribblers):
                with contextlib.suppress(OSError):
                    sock.sendall(b" " if n % 2 else b"X")

    threading.Thread(target=dribble, daemon=True).start()
    return sockets, stop


def still_open(sockets: list[socket.socket]) -> int:
    count = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            data = sock.recv(1, socket.MSG_PEEK)
            count += 1 if data else 0  # b"": the server closed it
        except BlockingIOError:
            count += 1  # nothing to read, still connected
        except OSError:
            pass
    return count


def measure(base: str, slack: SlackDouble, rounds: int, tag: str) -> Figures:
    figures = Figures()
    for n in range(rounds):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert response.status == 200
        figures.healthz.append(time.perf_counter() - started)
        name = f"{tag}{n}"
        started = time.perf_counter()
        status, _ = post_signed(f"{base}/slack/events", slash_form(slack, "help", response=name))
        assert status == 200, status
        figures.ack.append(time.perf_counter() - started)
        slack.wait_for(
            lambda calls, name=name: [c for c in calls if c.method == "response_url" and c.body["_to"] == name],
            timeout=10,
        )
        figures.answer.append(time.perf_counter() - started)
        time.sleep(0.5)
    return figures


def run(base: str, port: int, slack: SlackDouble, *, idle: int, slow: int, rounds: int) -> tuple[Figures, Figures]:
    """(baseline, under load): the same requests before and while the connections are held."""
    raise_fd_limit(4 * (idle + slow) + 256)
    baseline = measure(base, slack, rounds, "base")
    sockets, stop = hold(port, idle, slow)
    try:
        time.sleep(0.5)  # every connection accepted (or refused) before timing
        loaded = measure(base, slack, rounds, "held")
        loaded.held = still_open(sockets)
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
    return baseline, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=270, help="connections that send nothing")
    parser.add_argument("--slow", type=int, default=30, help="connections that dribble a header")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    slack = SlackDouble().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))}
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MESHBOT_SLACK_API_URL=slack.api_url,
        MESHBOT_HOST="127.0.0.1",
        MESHBOT_LOG_FORMAT="text",
        MESHBOT_DATABASE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='bench-idle-')}/meshbot.sqlite",
    )
    command = [sys.executable, "-m", "bot", "serve", "--mode", "http", "--port", "0"]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()  # "meshbot serving (http mode) on http://127.0.0.1:PORT"
    try:
        base = line.strip().rsplit(" ", 1)[-1]
        port = int(base.rsplit(":", 1)[-1])
        baseline, loaded = run(base, port, slack, idle=args.idle, slow=args.slow, rounds=args.rounds)
    finally:
        server.terminate()
        server.wait(30)
        slack.stop()
    total = args.idle + args.slow
    print(baseline.line("no other connections"))
    print(loaded.line(f"{args.idle} idle + {args.slow} slow connections held"))
    print(f"held connections still open at the end: {loaded.held}/{total}")
    worst = loaded.worst()
    verdict = "within" if worst <= BUDGET_S else "OVER"
    print(f"worst under load {worst * 1000:.1f} ms: {verdict} the {BUDGET_S:.0f} s budget")
    return 0 if worst <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
