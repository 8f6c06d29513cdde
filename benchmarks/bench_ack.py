"""Slash-command ack latency of the HTTP mode server: p50/p99 with 20 concurrent commands.

Budget (DESIGN.md): p99 under 300 ms (Slack's hard limit is 3 s). The real server runs as its own
process (`meshbot serve --mode http --port 0`: waitress + Bolt + meshbot's listeners), against the
Slack Web API double running here; each round fires 20 signed slash commands at once from 20
threads and times each until its HTTP response (the ack). Every answer must then arrive at the
response_url. The first round (cold: first requests, lazy loading) is reported apart.

    python benchmarks/bench_ack.py [--rounds 10] [--concurrency 20] [--from-file DUMP]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack_double import SIGNING_SECRET, SlackDouble, post_signed, slash_form  # noqa: E402

BUDGET_P99_MS = 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11, help="the first is a cold warm-up, reported apart")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--from-file", default=None, help="cluster dump: mix in cluster commands (status, precheck)")
    args = parser.parse_args()

    slack = SlackDouble().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MESHBOT_"))}
    env.update(
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        MESHBOT_SLACK_API_URL=slack.api_url,
        MESHBOT_HOST="127.0.0.1",
        MESHBOT_DATABASE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='bench-ack-')}/meshbot.sqlite",
    )
    command = [sys.executable, "-m", "bot", "serve", "--mode", "http", "--port", "0"]
    if args.from_file:
        command += ["--from-file", args.from_file]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if "serving" not in line:
        print(f"server did not start: {line!r}", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{int(line.rsplit(':', 1)[1])}/slack/events"
    texts = ["help", "help ask", "no-such-command", "help --lang ko"]
    if args.from_file:
        texts += ["status", "precheck"]

    latencies: list[float] = []
    first_round: list[float] = []
    failures = 0
    sent = 0
    lock = threading.Lock()
    try:
        for round_ in range(args.rounds):
            barrier = threading.Barrier(args.concurrency)

            def fire(i: int, round_: int = round_, barrier: threading.Barrier = barrier) -> None:
                nonlocal failures
                body = slash_form(slack, texts[i % len(texts)], response=f"b{round_}-{i}", user=f"U{i}")
                barrier.wait()
                started = time.perf_counter()
                status, _ = post_signed(url, body)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    failures += status != 200

            threads = [threading.Thread(target=fire, args=(i,)) for i in range(args.concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sent += args.concurrency
            if round_ == 0:
                first_round = sorted(latencies)
                latencies.clear()
        answered_by = time.perf_counter()
        slack.wait_for(lambda calls: len([c for c in calls if c.method == "response_url"]) >= sent, timeout=120)
        drain_s = time.perf_counter() - answered_by
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        slack.stop()

    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"first (cold) round of {args.concurrency}: "
        f"p50 {percentile(first_round, 50):.1f} ms, max {first_round[-1]:.1f} ms"
    )
    print(
        f"ack latency, {args.rounds - 1} warm rounds x {args.concurrency} concurrent slash commands "
        f"({len(latencies)} acks)"
    )
    print(f"  p50 {p50:7.1f} ms")
    print(f"  p99 {p99:7.1f} ms   (budget {BUDGET_P99_MS:.0f} ms: {'OK' if p99 < BUDGET_P99_MS else 'OVER'})")
    print(f"  max {max(latencies):7.1f} ms   mean {statistics.mean(latencies):.1f} ms   non-200: {failures}")
    print(f"  every command answered at its response_url ({sent}); last answers {drain_s:.2f} s after the last ack")
    return 0 if p99 < BUDGET_P99_MS and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
