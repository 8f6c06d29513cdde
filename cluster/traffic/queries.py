"""The PromQL meshbot runs: one query per metric family, grouped by namespace/workload, never per namespace.

Metric and label names, and where they come from:
- Sidecars (Envoy's stats extension), istio.io docs/reference/config/metrics: `istio_requests_total`,
  `istio_request_duration_milliseconds` (histogram), `istio_tcp_connections_opened_total`;
  `reporter` is "source" or "destination"; `connection_security_policy` is "mutual_tls" when the
  destination proxy saw mutual TLS, "none" for plaintext, and "unknown" on the source side (the
  client cannot tell), so only `reporter="destination"` says what a namespace received.
- ztunnel, istio/ztunnel src/proxy/metrics.rs: registers `tcp_connections_opened`,
  `tcp_connections_closed`, `tcp_sent_bytes`, `tcp_received_bytes` (exposed with the `istio_`
  prefix and `_total`), `Reporter` is only `source`/`destination` (there is no
  `reporter="ztunnel"`), `SecurityPolicy` is `mutual_tls` or `unknown` (its default: not HBONE,
  i.e. plaintext). ztunnel's series are told apart by the pod label `app="ztunnel"` that the
  Kubernetes pod scrape adds.
- Waypoints report the standard L7 metrics with `reporter="waypoint"` (istio.io
  docs/ambient/usage/l7-features and the ambient telemetry docs).
"""

from __future__ import annotations

from dataclasses import dataclass

FLOW = (
    "destination_workload_namespace, destination_workload, source_workload_namespace, source_workload, "
    "connection_security_policy"
)
"""The grouping of every observed-mTLS query: who called whom, with or without mutual TLS."""

MUTUAL_TLS = "mutual_tls"


@dataclass(frozen=True)
class Family:
    """One metric family of the observed-mTLS reading: its PromQL (with `{window}`) and its reporter."""

    name: str
    reporter: str
    """sidecar, ztunnel or waypoint: which proxy saw the traffic."""
    unit: str
    """requests or connections."""
    template: str

    def query(self, window: str) -> str:
        return self.template.replace("{window}", window)


FAMILIES: tuple[Family, ...] = (
    Family(
        "sidecar-requests",
        "sidecar",
        "requests",
        f'sum by ({FLOW}) (increase(istio_requests_total{{reporter="destination"}}[{{window}}]))',
    ),
    # Sidecar TCP (non-HTTP) traffic; ztunnel reports the same metric name, so leave its series out.
    Family(
        "sidecar-tcp",
        "sidecar",
        "connections",
        f"sum by ({FLOW}) "
        '(increase(istio_tcp_connections_opened_total{reporter="destination",app!="ztunnel"}[{window}]))',
    ),
    Family(
        "ztunnel-tcp",
        "ztunnel",
        "connections",
        f"sum by ({FLOW}) "
        '(increase(istio_tcp_connections_opened_total{app="ztunnel",reporter="destination"}[{window}]))',
    ),
    Family(
        "waypoint-requests",
        "waypoint",
        "requests",
        f'sum by ({FLOW}) (increase(istio_requests_total{{reporter="waypoint"}}[{{window}}]))',
    ),
)


@dataclass(frozen=True)
class EffectQueries:
    """Request rate, error ratio and P99 latency per destination namespace, as one reporter saw them."""

    reporter: str
    rate: str
    errors: str
    p99: str


def effect_queries(reporter: str, window: str) -> EffectQueries:
    """Grouped by namespace for the whole mesh (one query each, whatever the namespace count).

    `reporter` is "destination" (sidecars, before a switch) or "waypoint" (after it). ztunnel has no
    request metrics: after a switch without a waypoint, only its connection rate is compared.
    """
    if reporter == "ztunnel":
        sel = 'app="ztunnel",reporter="destination"'
        rate = f"sum by (destination_workload_namespace) (rate(istio_tcp_connections_opened_total{{{sel}}}[{window}]))"
        return EffectQueries("ztunnel", rate, "", "")
    sel = f'reporter="{reporter}"'
    by = "destination_workload_namespace"
    return EffectQueries(
        reporter,
        rate=f"sum by ({by}) (rate(istio_requests_total{{{sel}}}[{window}]))",
        errors=f'sum by ({by}) (rate(istio_requests_total{{{sel},response_code=~"5.."}}[{window}]))',
        p99=f"histogram_quantile(0.99, sum by ({by}, le) "
        f"(rate(istio_request_duration_milliseconds_bucket{{{sel}}}[{window}])))",
    )


@dataclass(frozen=True)
class NamedQuery:
    name: str
    en: str
    ko: str
    template: str
    """PromQL with `{selector}` (namespace filter, may be empty) and `{step}` (rate window)."""
    group: tuple[str, ...]
    """The labels it groups by: the table's columns."""
    unit: str

    def query(self, namespace: str | None, step: str = "5m") -> str:
        selector = f',destination_workload_namespace="{namespace}"' if namespace else ""
        return self.template.format(selector=selector, step=step)


# The guide's "Prometheus 쿼리 (ztunnel 메트릭)" section, corrected: its `reporter="ztunnel"` selects
# nothing (ztunnel only reports source/destination, src/proxy/metrics.rs), so ztunnel is chosen by
# `app="ztunnel"` and one side (`reporter="destination"`) so a connection is not counted twice.
NAMED_QUERIES: tuple[NamedQuery, ...] = (
    NamedQuery(
        "ztunnel-connections",
        en="ztunnel: connections opened per second, by destination workload",
        ko="ztunnel: 목적지 워크로드별 초당 연결 수",
        template="sum by (destination_workload_namespace, destination_workload) "
        '(rate(istio_tcp_connections_opened_total{{app="ztunnel",reporter="destination"{selector}}}[{step}]))',
        group=("destination_workload_namespace", "destination_workload"),
        unit="conn/s",
    ),
    NamedQuery(
        "ztunnel-bytes",
        en="ztunnel: L4 bytes sent per second, by source and destination workload",
        ko="ztunnel: 출발지·목적지 워크로드별 초당 L4 전송 바이트",
        template="sum by (source_workload, destination_workload) "
        '(rate(istio_tcp_sent_bytes_total{{app="ztunnel",reporter="destination"{selector}}}[{step}]))',
        group=("source_workload", "destination_workload"),
        unit="B/s",
    ),
    NamedQuery(
        "waypoint-requests",
        en="waypoint: requests per second, by destination service and response code",
        ko="waypoint: 목적지 서비스·응답 코드별 초당 요청 수",
        template="sum by (destination_service, response_code) "
        '(rate(istio_requests_total{{reporter="waypoint"{selector}}}[{step}]))',
        group=("destination_service", "response_code"),
        unit="req/s",
    ),
    NamedQuery(
        "mtls-share",
        en="share of requests and connections received over mutual TLS, by destination namespace",
        ko="목적지 네임스페이스별 상호 TLS 로 받은 요청·연결 비율",
        template=(
            "sum by (destination_workload_namespace) ("
            'rate(istio_requests_total{{reporter=~"destination|waypoint",'
            'connection_security_policy="mutual_tls"{selector}}}[{step}])'
            ' or rate(istio_tcp_connections_opened_total{{reporter="destination",'
            'connection_security_policy="mutual_tls"{selector}}}[{step}]))'
            " / sum by (destination_workload_namespace) ("
            'rate(istio_requests_total{{reporter=~"destination|waypoint"{selector}}}[{step}])'
            ' or rate(istio_tcp_connections_opened_total{{reporter="destination"{selector}}}[{step}]))'
        ),
        group=("destination_workload_namespace",),
        unit="ratio",
    ),
)


def named(name: str) -> NamedQuery | None:
    return next((q for q in NAMED_QUERIES if q.name == name), None)
