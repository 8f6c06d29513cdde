"""`ask` latency: a fresh CLI process (CPU and wall), then warm p50/p99 per question in one process.

Run: python benchmarks/bench_ask.py [--runs N] [--rounds N] [--root CHECKOUT]

Budgets (DESIGN.md): a fresh `meshbot ask` under 0.5 s CPU (the index is built once and cached in
the user's cache dir); warm p99 under 50 ms. The first cold run builds the cache and is reported
apart. `--root` measures another checkout (e.g. the commit before) with this Python, for before/after.
Bytecode is written on the first run, as an installation has it.
The warm questions are the tuning set's (tests/eval/tuning.yaml) plus a 10,000-character one.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TUNING = ROOT / "tests" / "eval" / "tuning.yaml"
BUDGET_CPU_S = 0.5
BUDGET_P99_MS = 50.0
QUESTION = "ztunnel은 노드마다 메모리를 얼마나 써?"
CLI = "import sys; from bot.cli import main; sys.exit(main(['ask', sys.argv[1]]))"


def fresh_process(root: Path, env: dict[str, str]) -> tuple[float, float]:
    """CPU (user + system) and wall seconds of one `meshbot ask` in a new Python process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CLI, QUESTION], cwd=root, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def cold(root: Path, runs: int) -> float:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MESHBOT_CACHE_DIR": cache, "PYTHONPATH": str(root)}
        # As installed (pip, the image): modules load from bytecode. With PYTHONDONTWRITEBYTECODE set,
        # every run would compile the sources again (~0.4 s CPU), which no installation pays.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        first_cpu, first_wall = fresh_process(root, env)
        print(f"cold first run (builds the cache): cpu {first_cpu:.2f} s   wall {first_wall:.2f} s")
        samples = [fresh_process(root, env) for _ in range(runs)]
    cpu = statistics.median(s[0] for s in samples)
    wall = statistics.median(s[1] for s in samples)
    print(
        f"cold fresh process x{runs}: cpu median {cpu:.2f} s (min {min(s[0] for s in samples):.2f})   "
        f"wall median {wall:.2f} s   (budget cpu < {BUDGET_CPU_S} s)"
    )
    return cpu


def warm(root: Path, rounds: int) -> float:
    sys.path.insert(0, str(root))
    from handlers import Context, run_text
    from knowledge import default

    kb = default()
    questions = [str(item["q"]) for item in yaml.safe_load(TUNING.read_text(encoding="utf-8"))["questions"]]
    questions.append(("ambient에서 EnvoyFilter 써도 돼? " * 500)[:10_000])
    for q in questions:  # warm-up: caches filled
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes to time")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions, warm")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    os.environ.setdefault("MESHBOT_CACHE_DIR", tempfile.mkdtemp(prefix="meshbot-bench-"))
    cold(args.root.resolve(), args.runs)
    warm(args.root.resolve(), args.rounds)


if __name__ == "__main__":
    main()
