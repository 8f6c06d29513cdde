"""`ask` latency: cold start in a fresh process, then p50/p99 per question after warm-up.

Run: python benchmarks/bench_ask.py [--rounds N]      Budget (DESIGN.md): ask p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "eval_questions.yaml"
BUDGET_P99_MS = 50.0

COLD = """
import json, time
t0 = time.perf_counter()
import handlers
from handlers import Context, run_text
from knowledge import default
t1 = time.perf_counter()
kb = default()
t2 = time.perf_counter()
from knowledge.search import index_for
index_for(kb)
t3 = time.perf_counter()
run_text("ask", ["ambient에서 EnvoyFilter 써도 돼?"], Context(kb=kb))
t4 = time.perf_counter()
import resource
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "index": t3 - t2, "first_ask": t4 - t3,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def cold_start(runs: int) -> None:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True, cwd=ROOT)
        samples.append(json.loads(out.stdout))
    for key in ("import", "load", "index", "first_ask"):
        values = sorted(s[key] * 1000 for s in samples)
        print(
            f"cold {key:<10} median {statistics.median(values):8.1f} ms   (min {values[0]:.1f}, max {values[-1]:.1f})"
        )
    print(f"cold peak RSS  median {statistics.median(s['rss_mib'] for s in samples):8.1f} MiB")


def warm(rounds: int) -> float:
    sys.path.insert(0, str(ROOT))
    from handlers import Context, run_text
    from knowledge import default

    kb = default()
    evalset = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    questions = [item["q"] for item in evalset["in_scope"]] + list(evalset["out_of_scope"])
    long_question = ("ambient에서 EnvoyFilter 써도 돼? " * 500)[:10_000]
    questions.append(long_question)
    for q in questions:  # warm-up: index built, caches filled
        run_text("ask", [q], Context(kb=kb))
    timings = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            run_text("ask", [q], Context(kb=kb))
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"warm ask over {len(questions)} questions x {rounds} rounds = {len(timings)} calls:")
    print(f"  p50 {p50:.2f} ms   p99 {p99:.2f} ms   max {timings[-1]:.2f} ms   (budget p99 < {BUDGET_P99_MS:.0f} ms)")
    return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    cold_start(args.cold_runs)
    p99 = warm(args.rounds)
    ok = p99 < BUDGET_P99_MS
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
