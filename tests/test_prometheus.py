"""Observed traffic against a real Prometheus: it scrapes an exporter of Istio-shaped series and holds history blocks.

The cluster (tests/mesh_cluster.py): `payments` on sidecars with STRICT mTLS, `orders` ambient,
`legacy` outside the mesh. The traffic:
- sidecars in payments (`reporter="destination"`): mutual TLS from cart.orders, plaintext from
  batch.legacy (the caller STRICT will refuse), 1% errors, P99 ~ 67 ms;
- history (promtool blocks, 6 h up to 10 minutes ago): the same sidecar traffic, and plaintext
  from cron.legacy, stopped since;
- ztunnel (`app="ztunnel"`) into orders: mutual TLS from checkout.payments, plaintext from batch.legacy;
- the waypoint of payments (`reporter="waypoint"`, what serves it after the switch): 20% errors,
  P99 ~ 667 ms, the regression the migration thread must report;
- no sidecar TCP series at all (that family's telemetry is "off").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from digest_runtime import wait_until
from mesh_cluster import write_cluster
from prometheus_server import Counted, GatewayProxy, IstioExporter, PrometheusServer, flow, history_blocks, latency
from slack_double import SlackDouble

import handlers
from bot.cli import main
from bot.config import SettingsError, load_settings
from bot.runtime import build_state
from cluster.dump import read_dump
from cluster.traffic import PrometheusClient, PrometheusError, read_observed
from handlers.migrate import check
from handlers.traffic_common import strict_check
from knowledge import default as default_knowledge

pytestmark = pytest.mark.slow

REQ = "istio_requests_total"
TCP = "istio_tcp_connections_opened_total"
ORDERS_CART = ("cart", "orders")
PAYMENTS_CHECKOUT = ("checkout", "payments")


def sidecar_day(plaintext_caller: tuple[str, str], plaintext_per_second: float) -> list[Counted]:
    """What the sidecars report: cart -> checkout over mutual TLS with 1% errors, and one plaintext caller of
    ledger (payments is STRICT)."""
    mutual = [
        flow(
            REQ,
            reporter="destination",
            source=ORDERS_CART,
            destination=PAYMENTS_CHECKOUT,
            policy="mutual_tls",
            per_second=rate,
            response_code=code,
        )
        for rate, code in ((9.9, "200"), (0.1, "503"))
    ]
    plaintext = flow(
        REQ,
        reporter="destination",
        source=plaintext_caller,
        destination=("ledger", "payments"),
        policy="none",
        per_second=plaintext_per_second,
        response_code="200",
    )
    return [*mutual, plaintext]


def live_series() -> list[Counted]:
    series = [
        *sidecar_day(("batch", "legacy"), 0.5),
        flow(
            TCP,
            reporter="destination",
            source=PAYMENTS_CHECKOUT,
            destination=ORDERS_CART,
            policy="mutual_tls",
            per_second=2,
            app="ztunnel",
        ),
        flow(
            TCP,
            reporter="destination",
            source=("batch", "legacy"),
            destination=ORDERS_CART,
            policy="unknown",
            per_second=0.2,
            app="ztunnel",
        ),
        # ztunnel's source-side series of the same connection: never counted as received
        flow(
            TCP,
            reporter="source",
            source=("batch", "legacy"),
            destination=ORDERS_CART,
            policy="unknown",
            per_second=0.2,
            app="ztunnel",
        ),
        flow(
            REQ,
            reporter="waypoint",
            source=ORDERS_CART,
            destination=PAYMENTS_CHECKOUT,
            policy="mutual_tls",
            per_second=8,
            response_code="200",
            app="waypoint",
        ),
        flow(
            REQ,
            reporter="waypoint",
            source=ORDERS_CART,
            destination=PAYMENTS_CHECKOUT,
            policy="mutual_tls",
            per_second=2,
            response_code="503",
            app="waypoint",
        ),
    ]
    series += latency(reporter="destination", destination=PAYMENTS_CHECKOUT, per_second=10, p99_ms=100)
    series += latency(reporter="waypoint", destination=PAYMENTS_CHECKOUT, per_second=10, p99_ms=1000, app="waypoint")
    return series


HISTORY = sidecar_day(("cron", "legacy"), 0.05)
"""The sidecars' day before the switch, in history blocks: a caller that stopped since (only a long window sees it)."""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    workdir = tmp_path_factory.mktemp("prometheus")
    with IstioExporter(live_series()) as exporter:
        server = PrometheusServer(workdir, [exporter.target])
        history_blocks(server.data_dir, HISTORY, hours=6)
        server.start()
        try:
            server.wait_for(REQ, samples=3)
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cluster(tmp_path_factory.mktemp("cluster") / "cluster.yaml")


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    code = main([*argv, "--output", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def cli_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# --- observed mTLS ------------------------------------------------------------------------------


def test_mtls_names_the_plaintext_callers_with_the_window(
    prometheus: PrometheusServer, dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = cli_json(capsys, "mtls", "--from-file", str(dump), "--prometheus", prometheus.url)
    observed = {n["name"]: n for n in data["observed"]["namespaces"]}
    assert data["observed"]["window"] == "24h" and data["observed"]["queries"] == 4
    payments = observed["payments"]
    assert payments["declared"] == "STRICT" and payments["reporters"] == ["sidecar", "waypoint"]
    callers = [c["caller"] for c in payments["plaintext_callers"]]
    # cron.legacy only in the history blocks (6 h until 10 minutes ago): more in total, so named first
    assert callers == ["cron.legacy", "batch.legacy"]
    assert 0.9 < payments["share"] < 1.0
    ledger = next(w for w in payments["workloads"] if w["name"] == "ledger")
    assert ledger["mutual_tls"] == 0 and ledger["plaintext"] > 0
    orders = observed["orders"]
    assert orders["reporters"] == ["ztunnel"]
    assert [c["caller"] for c in orders["plaintext_callers"]] == ["batch.legacy"]  # reporter="source" not counted
    assert "legacy" not in observed  # nothing received there
    # the manifests' answer is whole: the declared modes are untouched
    assert {n["name"]: n["mode"] for n in data["namespaces"]}["payments"] == "STRICT"

    text = cli_text(capsys, "mtls", "payments", "--from-file", str(dump), "--prometheus", prometheus.url)
    assert "Observed over the last 24h (Prometheus)" in text and "batch.legacy" in text
    assert "No series in the last 24h for: sidecar-tcp" in text  # that family's telemetry is off


def test_a_short_window_leaves_out_a_caller_that_stopped(
    prometheus: PrometheusServer, dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = cli_json(
        capsys, "mtls", "payments", "--from-file", str(dump), "--prometheus", prometheus.url, "--window", "2m"
    )
    [payments] = data["observed"]["namespaces"]
    assert [c["caller"] for c in payments["plaintext_callers"]] == ["batch.legacy"]
    assert data["observed"]["window"] == "2m"


def test_precheck_warns_on_plaintext_into_a_strict_namespace(
    prometheus: PrometheusServer, dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = cli_json(capsys, "precheck", "--from-file", str(dump), "--prometheus", prometheus.url)
    by_ns = {n["name"]: n for n in data["namespaces"]}
    [finding] = [f for f in by_ns["payments"]["findings"] if f["code"] == "plaintext-traffic-observed"]
    assert finding["severity"] == "warning" and finding["kb"] == "observed-plaintext-traffic"
    assert "batch.legacy" in finding["message"] and "the last 24h" in finding["message"]
    # orders is not STRICT: plaintext there is allowed, so no warning
    assert all(f["code"] != "plaintext-traffic-observed" for f in by_ns["orders"]["findings"])
    assert by_ns["payments"]["verdict"] == "ready"  # a warning never changes the verdict
    ko = cli_json(
        capsys, "precheck", "payments", "--from-file", str(dump), "--prometheus", prometheus.url, "--lang", "ko"
    )
    [finding_ko] = [f for f in ko["namespaces"][0]["findings"] if f["code"] == "plaintext-traffic-observed"]
    assert "호출자" in finding_ko["message"] and "batch.legacy" in finding_ko["message"]
    # without Prometheus the manifests' answer has no such finding
    plain = cli_json(capsys, "precheck", "payments", "--from-file", str(dump))
    assert all(f["code"] != "plaintext-traffic-observed" for f in plain["namespaces"][0]["findings"])


def test_safe_to_switch_to_strict(prometheus: PrometheusServer) -> None:
    ctx = handlers.Context(kb=default_knowledge(), traffic=PrometheusClient(prometheus.url))
    unsafe = strict_check(ctx, "payments")
    assert unsafe.safe is False and unsafe.finding is not None and "batch.legacy" in unsafe.answer
    ctx.traffic_window = "2m"
    unsafe_ko = strict_check(handlers.Context(kb=ctx.kb, traffic=ctx.traffic, language="ko"), "orders")
    assert unsafe_ko.safe is False and "아직 아닙니다" in unsafe_ko.answer
    nothing = strict_check(ctx, "legacy")
    assert nothing.safe is None and "no traffic" in nothing.answer
    off = strict_check(handlers.Context(kb=ctx.kb), "payments")
    assert off.safe is None and "no Prometheus is configured" in off.answer


def test_plan_says_whether_strict_is_safe(
    prometheus: PrometheusServer, dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = cli_json(capsys, "plan", "payments", "--from-file", str(dump), "--prometheus", prometheus.url)
    assert data["observed"]["safe_for_strict"] is False
    assert [f["code"] for f in data["observed"]["findings"]] == ["plaintext-traffic-observed"]
    text = cli_text(capsys, "plan", "payments", "--from-file", str(dump), "--prometheus", prometheus.url)
    assert "Before STRICT: plaintext still arrives (observed)" in text and "batch.legacy" in text


# --- faults: a partial answer with a clear note, the manifests' answer always whole -----------------


def _mtls_with(capsys: pytest.CaptureFixture[str], dump: Path, url: str, *extra: str) -> tuple[dict, str]:  # type: ignore[type-arg]
    data = cli_json(capsys, "mtls", "payments", "--from-file", str(dump), "--prometheus", url, *extra)
    assert data["namespaces"][0]["mode"] == "STRICT"  # from the manifests, whatever Prometheus did
    text = cli_text(capsys, "mtls", "payments", "--from-file", str(dump), "--prometheus", url, *extra)
    assert "STRICT" in text
    return data, text


def test_unreachable(dump: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prometheus_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    data, text = _mtls_with(capsys, dump, url)
    assert [f["kind"] for f in data["observed"]["faults"]] == ["unreachable"] * 4
    assert f"Prometheus at {url} is unreachable" in text and "from the manifests alone" in text


def test_unauthorized_and_forbidden(
    prometheus: PrometheusServer,
    dump: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with GatewayProxy(prometheus.url, token="s3cret-token") as proxy:
        data, text = _mtls_with(capsys, dump, proxy.url)
        assert {f["kind"] for f in data["observed"]["faults"]} == {"unauthorized"}
        assert "refused the credentials" in text and "MESHBOT_PROMETHEUS_TOKEN_FILE" in text
        wrong = tmp_path / "wrong"
        wrong.write_text("not-the-token\n")
        monkeypatch.setenv("MESHBOT_PROMETHEUS_TOKEN_FILE", str(wrong))
        data, text = _mtls_with(capsys, dump, proxy.url)
        assert {f["kind"] for f in data["observed"]["faults"]} == {"forbidden"}
        assert "forbids these queries" in text and "not-the-token" not in text
        right = tmp_path / "right"
        right.write_text("s3cret-token\n")
        monkeypatch.setenv("MESHBOT_PROMETHEUS_TOKEN_FILE", str(right))
        data, text = _mtls_with(capsys, dump, proxy.url)
        assert data["observed"]["faults"] == [] and "batch.legacy" in text and "s3cret" not in text


def test_timeout_is_bounded(
    prometheus: PrometheusServer, dump: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHBOT_PROMETHEUS_TIMEOUT", "1s")
    with GatewayProxy(prometheus.url, stall_seconds=4) as proxy:
        started = time.monotonic()
        data, text = _mtls_with(capsys, dump, proxy.url)  # two runs
        elapsed = time.monotonic() - started
    assert {f["kind"] for f in data["observed"]["faults"]} == {"timeout"}
    assert "did not answer in time" in text
    assert elapsed < 2 * (1 + 2.5)  # each run waits the timeout (queries in parallel), not 4 x 4 s


def test_empty_prometheus_says_telemetry_may_be_off(
    tmp_path: Path, dump: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = PrometheusServer(tmp_path).start()
    try:
        data, text = _mtls_with(capsys, dump, empty.url)
        assert data["observed"]["faults"] == [] and data["observed"]["namespaces"] == []
        assert sorted(data["observed"]["empty_families"]) == [
            "sidecar-requests",
            "sidecar-tcp",
            "waypoint-requests",
            "ztunnel-tcp",
        ]
        assert "has no Istio traffic series for the last 24h: telemetry may be off" in text
        ko = cli_text(capsys, "mtls", "payments", "--from-file", str(dump), "--prometheus", empty.url, "--lang", "ko")
        assert "텔레메트리가 꺼져" in ko
    finally:
        empty.stop()


def test_not_prometheus_and_bad_settings(dump: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with IstioExporter([]) as exporter:  # answers every path with metrics text, not the HTTP API
        data, text = _mtls_with(capsys, dump, f"http://{exporter.target}")
    assert {f["kind"] for f in data["observed"]["faults"]} == {"bad-response"}
    assert "is this URL the Prometheus HTTP API?" in " ".join(text.split())  # the terminal wraps lines
    assert main(["mtls", "--from-file", str(dump), "--prometheus", "prometheus:9090"]) == 3
    assert "must be an http(s) URL" in capsys.readouterr().err
    assert main(["mtls", "--from-file", str(dump), "--prometheus", "http://x", "--window", "a day"]) == 3
    assert "is not a duration" in capsys.readouterr().err
    assert load_settings(prometheus_timeout="10s").prometheus_timeout == 10
    with pytest.raises(SettingsError):
        load_settings(prometheus_timeout="soon")


def test_queries_are_grouped_and_constant(prometheus: PrometheusServer) -> None:
    with GatewayProxy(prometheus.url) as proxy:
        client = PrometheusClient(proxy.url)
        observed = read_observed(client, "24h")
        assert proxy.queries() == 4 == client.queries
        assert set(observed.namespaces) == {"payments", "orders"}
    with pytest.raises(PrometheusError) as bad:
        PrometheusClient(prometheus.url).instant("sum by (")
    assert bad.value.kind == "bad-query"


# --- a migration checked by its effect, through the Slack app over HTTP ------------------------------


def test_migration_thread_posts_before_after_and_the_regression(
    prometheus: PrometheusServer, slack: SlackDouble, tmp_path: Path
) -> None:
    from bot.runtime import Runtime
    from bot.slack.serve import Server
    from tests.slack_double import SIGNING_SECRET, post_signed, slash_form

    dump = write_cluster(tmp_path / "cluster.yaml")
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        prometheus_url=prometheus.url,
        operators="UALICE",  # slash_form's user: starting a migration is an operator's
    )
    state = build_state(settings)
    server = Server(settings, "http", read_cluster=partial(read_dump, dump), state=state, host="127.0.0.1", port=0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    try:
        status, _ = post_signed(url, slash_form(slack, "migrate start payments", channel="CMIG", response="start"))
        assert status == 200
        root = slack.wait_for(lambda calls: [c for c in calls if c.method == "chat.postMessage"])[0]
        thread = root.result["ts"]
        shown = json.dumps(root.body.get("blocks"), ensure_ascii=False)
        assert "Baseline before the switch (sidecars, last 24h)" in shown and "errors 1.0%" in shown

        # The operator switches the labels and restarts the pods; a waypoint serves payments.
        write_cluster(dump, payments="restarted", waypoint=True)
        runtime = Runtime(settings, state, partial(read_dump, dump))
        record = wait_until(lambda: state.migration("payments"), timeout=10)  # saved after the root is posted
        reply = check(record, runtime.context(channel="CMIG"), state)
        assert reply.data["effect"]["regressions"] == ["errors", "latency"]
        posts = wait_until(
            lambda: [
                c
                for c in slack.of("chat.postMessage")
                if c.body.get("thread_ts") == thread and "before and after" in json.dumps(c.body, ensure_ascii=False)
            ],
            timeout=10,
        )
        effect = json.dumps(posts[0].body.get("blocks"), ensure_ascii=False)
        assert "before (sidecars, 24h)" in effect and "after (waypoint, 1m)" in effect
        assert "Regression after the switch" in effect and "the error ratio rose" in effect
        assert "kubectl label namespace payments istio-injection=enabled" in effect  # the rollback command

        # Posted once: the next check compares nothing again.
        record = state.migration("payments")
        assert record is not None and record.observed["traffic"]["compared"] is True
        again = check(record, runtime.context(channel="CMIG"), state)
        assert "effect" not in again.data
    finally:
        server.stop(grace=2)


# --- the guide's PromQL, corrected, from the CLI and Slack ------------------------------------------


def test_traffic_lists_and_runs_the_named_queries(
    prometheus: PrometheusServer, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = cli_json(capsys, "traffic")
    names = [q["name"] for q in listing["queries"]]
    assert names == ["ztunnel-connections", "ztunnel-bytes", "waypoint-requests", "mtls-share"]
    assert all('reporter="ztunnel"' not in q["promql"] for q in listing["queries"])  # the guide's mistake
    data = cli_json(capsys, "traffic", "ztunnel-connections", "--prometheus", prometheus.url)
    assert [(r["destination_workload_namespace"], r["destination_workload"]) for r in data["rows"]] == [
        ("orders", "cart")
    ]
    assert data["rows"][0]["value"] > 0  # rate over [5m] of a server up for seconds: small, not zero
    text = cli_text(capsys, "traffic", "waypoint-requests", "-n", "payments", "--prometheus", prometheus.url)
    assert "checkout.payments.svc.cluster.local" in text and "503" in text and "req/s" in text
    ko = cli_text(capsys, "traffic", "mtls-share", "--prometheus", prometheus.url, "--lang", "ko")
    assert "목적지 네임스페이스별" in ko and "%" in ko
    assert main(["traffic", "ztunnel-connections"]) == 3  # no Prometheus configured
    assert "No Prometheus is configured" in capsys.readouterr().err
    assert main(["traffic", "nope", "--prometheus", prometheus.url]) != 0
    assert "There is no query nope" in capsys.readouterr().err  # Markdown rendered: no backticks
    assert main(["traffic", "ztunnel-bytes", "-n", "Bad_NS", "--prometheus", prometheus.url]) != 0
    assert "not a valid namespace name" in capsys.readouterr().err


def test_traffic_in_slack_attaches_a_small_chart(
    prometheus: PrometheusServer, slack: SlackDouble, tmp_path: Path
) -> None:
    from bot.slack.serve import Server
    from tests.slack_double import SIGNING_SECRET, post_signed, slash_form

    settings = load_settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        prometheus_url=prometheus.url,
        prometheus_window="10m",
    )
    server = Server(settings, "http", read_cluster=None, state=None, host="127.0.0.1", port=0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/slack/events"
    try:
        status, _ = post_signed(url, slash_form(slack, "traffic waypoint-requests", channel="CTRAFFIC", response="t"))
        assert status == 200
        answer = slack.wait_for(lambda calls: [c for c in calls if c.method == "response_url"])[0]
        assert "checkout.payments.svc.cluster.local" in json.dumps(answer.body)
        uploads = slack.wait_for(lambda calls: [c for c in calls if c.method == "upload"])
        png = slack.uploads[uploads[0].body["file_id"]]
        assert png.startswith(b"\x89PNG") and 2_000 < len(png) < 200_000  # a small image
        [complete] = slack.wait_for(lambda calls: [c for c in calls if c.method == "files.completeUploadExternal"])
        assert "waypoint-requests (last 10m)" in json.dumps(complete.body)
    finally:
        server.stop(grace=2)


def test_matplotlib_stays_out_of_the_other_commands() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, bot.cli, bot.slack.app, handlers\n"
        "from handlers import Context, run_text\n"
        "from knowledge import default\n"
        "run_text('ask', ['is ambient GA?'], Context(kb=default()))\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


# --- digests: the observed mTLS share per namespace and its change ------------------------------------


def test_digest_shows_the_observed_mtls_share_and_its_change(
    prometheus: PrometheusServer, slack: SlackDouble, tmp_path: Path, dump: Path
) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", slack_bot_token=slack.bot_token, slack_api_url=slack.api_url
    )
    state = build_state(settings)

    def digest(url: str) -> handlers.Reply:
        ctx = handlers.Context(
            kb=default_knowledge(),
            read_cluster=partial(read_dump, dump),
            state=state,
            channel="CDIGEST",
            traffic=PrometheusClient(url),
        )
        return handlers.run_text("digest", ["now"], ctx)

    first = digest(prometheus.url)
    shares = {n: f["observed_mtls"] for n, f in first.data["digest"]["namespaces"].items()}
    assert 0.9 < shares["payments"] < 1.0 and 0.8 < shares["orders"] < 1.0 and shares["legacy"] is None
    posted = json.dumps(slack.of("chat.postMessage")[-1].body.get("blocks"), ensure_ascii=False)
    assert "Observed mTLS share (Prometheus, last 24h)" in posted and "new" in posted
    time.sleep(1.5)  # a little more live traffic: the shares move
    second = digest(prometheus.url)
    moves = {m["namespace"]: m for m in second.data["changes"]["observed_mtls"]}
    assert moves["payments"]["before"] == f"{100 * shares['payments']:.1f}"
    shown = json.dumps([s.model_dump() for s in second.sections], ensure_ascii=False)
    assert " pt" in shown  # the change since the last digest, in percentage points
    from prometheus_server import free_port

    broken = digest(f"http://127.0.0.1:{free_port()}")  # the digest still goes out, saying what is missing
    assert broken.data["digest"]["observed_faults"] == ["unreachable"]
    assert "Observed traffic is incomplete: Prometheus unreachable" in json.dumps(
        [s.model_dump() for s in broken.sections]
    )


def test_https_with_the_ca_file(
    tmp_path: Path, dump: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_server import self_signed

    cert, key = self_signed(tmp_path)
    server = PrometheusServer(tmp_path, tls=(cert, key)).start()
    try:
        data, text = _mtls_with(capsys, dump, server.url)  # no CA: the certificate is not trusted
        assert {f["kind"] for f in data["observed"]["faults"]} == {"unreachable"} and "TLS" in text
        monkeypatch.setenv("MESHBOT_PROMETHEUS_CA_FILE", str(cert))
        data, text = _mtls_with(capsys, dump, server.url)
        assert data["observed"]["faults"] == [] and data["observed"]["complete"] is True
    finally:
        server.stop()


def test_migration_without_a_reachable_prometheus_says_so_and_still_starts(
    slack: SlackDouble, tmp_path: Path, dump: Path
) -> None:
    from prometheus_server import free_port

    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", slack_bot_token=slack.bot_token, slack_api_url=slack.api_url
    )
    state = build_state(settings)
    ctx = handlers.Context(
        kb=default_knowledge(),
        read_cluster=partial(read_dump, dump),
        state=state,
        channel="CMIG",
        user="UALICE",
        language="ko",
        traffic=PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout=2),
    )
    started = handlers.run_text("migrate", ["start", "payments"], ctx)
    assert not started.error
    [root] = slack.of("chat.postMessage")
    shown = json.dumps(root.body.get("blocks"), ensure_ascii=False)
    assert "기준치를 기록하지 못했습니다" in shown and "연결할 수 없습니다" in shown
    record = state.migration("payments")
    assert record is not None and record.observed.get("traffic") == {}  # nothing to compare later


def test_what_counts_as_a_regression() -> None:
    from cluster.traffic.effect import Effect, regressions

    before = Effect(reporter="destination", window="24h", rate=10, error_ratio=0.01, p99_ms=80)
    same = Effect(reporter="waypoint", window="1h", rate=2, error_ratio=0.012, p99_ms=95)  # a lower rate is no verdict
    assert regressions(before, same) == []
    worse = Effect(reporter="waypoint", window="1h", rate=10, error_ratio=0.05, p99_ms=200)
    assert regressions(before, worse) == ["errors", "latency"]
    l4 = Effect(reporter="ztunnel", window="1h", rate=3)  # ztunnel: nothing to judge
    assert regressions(before, l4) == []
