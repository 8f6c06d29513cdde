"""A real Prometheus (Debian's `prometheus` binary) scraping an exporter of Istio-shaped series, for tests.

- `IstioExporter` serves `/metrics` in the text format: counters that grow at a fixed rate per
  second since the exporter started, shaped like the series sidecars (`reporter="destination"`),
  ztunnel (`app="ztunnel"`) and waypoints (`reporter="waypoint"`) expose.
- `history_blocks` writes OpenMetrics samples stamped in the past and turns them into TSDB blocks
  with `promtool tsdb create-blocks-from openmetrics`, in the data dir the server then opens.
- `PrometheusServer` runs `prometheus` on a free 127.0.0.1 port with a temporary storage dir.
- `GatewayProxy` stands in front of it like an authenticating gateway would: it counts requests by
  path, can require a bearer token (401 without one, 403 with another) and can stall (timeouts).
"""

from __future__ import annotations

import http.client
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SCRAPE_SECONDS = 1


@dataclass(frozen=True)
class Counted:
    """One counter series: it grows by `per_second` every second from the exporter's start."""

    name: str
    labels: dict[str, str]
    per_second: float


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def flow(
    metric: str,
    *,
    reporter: str,
    source: tuple[str, str],
    destination: tuple[str, str],
    policy: str,
    per_second: float,
    app: str | None = None,
    **extra: str,
) -> Counted:
    labels = {
        "reporter": reporter,
        "source_workload": source[0],
        "source_workload_namespace": source[1],
        "destination_workload": destination[0],
        "destination_workload_namespace": destination[1],
        "destination_service": f"{destination[0]}.{destination[1]}.svc.cluster.local",
        "connection_security_policy": policy,
        **extra,
    }
    labels["app"] = app or destination[0]  # the pod label the Kubernetes scrape adds
    return Counted(metric, labels, per_second)


def latency(
    *, reporter: str, destination: tuple[str, str], per_second: float, p99_ms: float, app: str | None = None
) -> list[Counted]:
    """istio_request_duration_milliseconds buckets where 99% of requests finish under `p99_ms`."""
    base = {
        "reporter": reporter,
        "destination_workload": destination[0],
        "destination_workload_namespace": destination[1],
        "app": app or destination[0],
    }
    series = []
    for le in (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, "+Inf"):
        bound = float(le)
        # half the requests are fast, 98.5% finish under p99_ms: the 99th percentile lands in p99_ms's bucket
        share = 1.0 if bound >= p99_ms else (0.985 if bound >= p99_ms / 2 else 0.5)
        series.append(
            Counted("istio_request_duration_milliseconds_bucket", {**base, "le": str(le)}, per_second * share)
        )
    return series


class _ExporterHandler(http.server.BaseHTTPRequestHandler):
    exporter: IstioExporter

    def do_GET(self) -> None:
        body = self.server.exporter.render().encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class IstioExporter:
    def __init__(self, series: Iterable[Counted]) -> None:
        self.series = list(series)
        self.started = time.monotonic()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ExporterHandler)
        self._server.exporter = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def render(self) -> str:
        elapsed = time.monotonic() - self.started
        typed: set[str] = set()
        lines: list[str] = []
        for s in sorted(self.series, key=lambda s: s.name):
            family = s.name.removesuffix("_total").removesuffix("_bucket")
            if family not in typed:
                typed.add(family)
                kind = "histogram" if s.name.endswith("_bucket") else "counter"
                lines.append(f"# TYPE {family} {kind}")
            lines.append(f"{s.name}{_labels(s.labels)} {s.per_second * (elapsed + 60):.3f}")
        return "\n".join(lines) + "\n"

    def __enter__(self) -> IstioExporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def history_blocks(data_dir: Path, series: Iterable[Counted], *, hours: float, step_seconds: int = 300) -> None:
    """Blocks with `series` growing over the `hours` before now (ending 10 minutes ago), via promtool."""
    end = int(time.time()) - 600
    start = end - int(hours * 3600)
    lines: list[str] = []
    listed = list(series)
    for name in sorted({s.name for s in listed}):
        family = name.removesuffix("_total")
        lines.append(f"# TYPE {family} counter")
        for s in (s for s in listed if s.name == name):
            for t in range(start, end + 1, step_seconds):
                lines.append(f"{name}{_labels(s.labels)} {s.per_second * (t - start):.3f} {t}")
    lines.append("# EOF")
    source = data_dir.parent / "history.om"
    source.write_text("\n".join(lines) + "\n")
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusServer:
    def __init__(self, workdir: Path, targets: Iterable[str] = (), *, tls: tuple[Path, Path] | None = None) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.targets = list(targets)
        self.tls = tls
        """(certificate, key): serve HTTPS (Prometheus' --web.config.file tls_server_config)."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> PrometheusServer:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("the `prometheus` binary is missing: .ci/run installs Debian's prometheus package")
        config = self.workdir / "prometheus.yml"
        jobs = ""
        if self.targets:
            targets = ", ".join(f'"{t}"' for t in self.targets)
            # honor_labels: keep the exporter's `app` label, as the pod relabeling would set it.
            jobs = (
                "scrape_configs:\n  - job_name: istio\n    honor_labels: true\n"
                f"    static_configs:\n      - targets: [{targets}]\n"
            )
        config.write_text(
            f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n  evaluation_interval: {SCRAPE_SECONDS}s\n{jobs}"
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        web: list[str] = []
        if self.tls:
            web_config = self.workdir / "web.yml"
            cert, key = self.tls
            web_config.write_text(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
            web = [f"--web.config.file={web_config}"]
        log = (self.workdir / "prometheus.log").open("wb")
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=30d",
                "--web.console.templates=",
                "--web.console.libraries=",
                *web,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError((self.workdir / "prometheus.log").read_text()[-2000:])
            try:
                unverified = ssl._create_unverified_context()  # readiness only; the tests verify with the CA
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5, context=unverified) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("prometheus did not become ready in 30 s")

    def wait_for(self, query: str, *, samples: int = 3, timeout: float = 20) -> None:
        """Until `query` (a counter name) has `samples` scraped points, so rate() has something to work on."""
        deadline = time.monotonic() + timeout
        url = f"{self.url}/api/v1/query?query=" + urllib.request.quote(f"count_over_time({query}[1m])")
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=2) as answer:
                body = answer.read().decode()
            if '"result":[{' in body:
                import json

                values = [float(r["value"][1]) for r in json.loads(body)["data"]["result"]]
                if values and min(values) >= samples:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"no {samples} samples of {query} in {timeout} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@dataclass
class GatewayProxy:
    """A reverse proxy in front of Prometheus: counts requests, optionally demands a token, optionally stalls."""

    upstream: str
    token: str | None = None
    stall_seconds: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GatewayProxy:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.counts[self.path.split("?")[0]] += 1
                if proxy.token is not None:
                    given = self.headers.get("Authorization", "")
                    if not given:
                        return self._answer(401, b'{"status":"error","error":"missing token"}')
                    if given != f"Bearer {proxy.token}":
                        return self._answer(403, b'{"status":"error","error":"forbidden"}')
                if proxy.stall_seconds:
                    time.sleep(proxy.stall_seconds)
                host = proxy.upstream.removeprefix("http://")
                conn = http.client.HTTPConnection(host, timeout=30)
                conn.request("GET", self.path)
                upstream = conn.getresponse()
                self._answer(upstream.status, upstream.read())
                conn.close()

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the timeout case)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def queries(self) -> int:
        return self.counts["/api/v1/query"] + self.counts["/api/v1/query_range"]


def self_signed(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl CLI; the certificate is its own CA."""
    cert, key = workdir / "tls.crt", workdir / "tls.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key
