"""Cost benchmark: PromQL queries per command stay constant as namespaces grow (one query per metric family).

A real Prometheus (Debian's `prometheus`) scrapes an exporter of Istio-shaped series for N
namespaces (sidecar requests into each, plaintext into every tenth, ztunnel and waypoint
series), behind a counting proxy (tests/prometheus_server.py). Each command runs in-process
against a dump of the same N namespaces; the proxy counts the HTTP API requests it made.
Also measured: the import cost of the chart path (matplotlib, Agg) and that `ask` never pays it.

    python benchmarks/bench_prometheus_queries.py [--namespaces 50 500]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from mesh_cluster import write_cluster  # noqa: E402
from prometheus_server import (  # noqa: E402
    Counted,
    GatewayProxy,
    IstioExporter,
    PrometheusServer,
    flow,
    latency,
)

from bot.cli import main  # noqa: E402

REQ = "istio_requests_total"
TCP = "istio_tcp_connections_opened_total"


def series_for(count: int) -> list[Counted]:
    series: list[Counted] = []
    for n in range(count):
        ns = f"team-{n:04d}"
        series.append(
            flow(
                REQ,
                reporter="destination",
                source=("web", "orders"),
                destination=("api", ns),
                policy="mutual_tls",
                per_second=1,
                response_code="200",
            )
        )
        if n % 10 == 0:
            series.append(
                flow(
                    REQ,
                    reporter="destination",
                    source=("batch", "legacy"),
                    destination=("api", ns),
                    policy="none",
                    per_second=0.1,
                    response_code="200",
                )
            )
        series.append(
            flow(
                TCP,
                reporter="destination",
                source=("api", ns),
                destination=("cart", "orders"),
                policy="mutual_tls",
                per_second=0.5,
                app="ztunnel",
            )
        )
    series.append(
        flow(
            REQ,
            reporter="waypoint",
            source=("cart", "orders"),
            destination=("checkout", "payments"),
            policy="mutual_tls",
            per_second=5,
            response_code="200",
            app="waypoint",
        )
    )
    series += latency(reporter="destination", destination=("checkout", "payments"), per_second=5, p99_ms=100)
    return series


COMMANDS = {
    "mtls": ["mtls"],
    "precheck": ["precheck"],
    "plan": ["plan", "payments"],
    "traffic": ["traffic", "mtls-share"],
}


def measure(count: int) -> dict[str, tuple[int, float]]:
    results: dict[str, tuple[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, IstioExporter(series_for(count)) as exporter:
        work = Path(tmp)
        dump = write_cluster(work / "cluster.yaml", extra_namespaces=count)
        server = PrometheusServer(work, [exporter.target]).start()
        try:
            server.wait_for(REQ, samples=2, timeout=60)
            with GatewayProxy(server.url) as proxy:
                for name, argv in COMMANDS.items():
                    before = proxy.queries()
                    started = time.perf_counter()
                    with contextlib.redirect_stdout(io.StringIO()) as out:
                        code = main([*argv, "--from-file", str(dump), "--prometheus", proxy.url, "--output", "json"])
                    elapsed = time.perf_counter() - started
                    if code != 0 or '"faults": [{' in out.getvalue():
                        raise SystemExit(f"{name} failed at {count} namespaces: {out.getvalue()[:500]}")
                    results[name] = (proxy.queries() - before, elapsed)
        finally:
            server.stop()
    return results


def import_cost() -> tuple[float, bool]:
    """Seconds to import the chart path in a fresh process; whether `ask` imports matplotlib."""
    probe = (
        "import time; t = time.perf_counter(); import bot.chart, matplotlib; matplotlib.use('Agg'); "
        "from matplotlib import pyplot; print(time.perf_counter() - t)"
    )
    costs = [float(subprocess.check_output([sys.executable, "-c", probe], cwd=ROOT, text=True)) for _ in range(3)]
    ask = (
        "import sys; from bot.cli import main; main(['ask', 'is ambient GA?']); "
        "print('matplotlib' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", ask], cwd=ROOT, capture_output=True, text=True, check=True)
    return min(costs), done.stderr.strip().endswith("True")


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespaces", type=int, nargs="+", default=[50, 500])
    args = parser.parse_args()
    table: dict[int, dict[str, tuple[int, float]]] = {n: measure(n) for n in args.namespaces}
    print(f"{'command':<10}" + "".join(f"{f'{n} ns: queries':>18}{'seconds':>9}" for n in args.namespaces))
    for name in COMMANDS:
        cells = "".join(f"{table[n][name][0]:>18}{table[n][name][1]:>9.2f}" for n in args.namespaces)
        print(f"{name:<10}{cells}")
    constant = all(len({table[n][name][0] for n in args.namespaces}) == 1 for name in COMMANDS)
    print(f"queries per command constant across sizes: {constant}")
    seconds, ask_imports = import_cost()
    print(f"chart path import (bot.chart + matplotlib + pyplot, Agg): {1000 * seconds:.0f} ms")
    print(f"`ask` imports matplotlib: {ask_imports}")
    return 0 if constant and not ask_imports else 1


if __name__ == "__main__":
    sys.exit(main_())
