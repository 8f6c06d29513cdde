"""The Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`) over plain HTTP, with faults named.

Plain urllib3 (already a dependency through `kubernetes`) rather than a client library: the bot
needs two GET endpoints and a JSON envelope, and it must tell unreachable, 401/403, timeout and a
bad query apart to say which one happened; the kept Python clients wrap those into one error type.
API reference: prometheus/prometheus docs/querying/api.md (status "success"|"error", errorType,
resultType "vector"|"matrix", values as [unix_seconds, "string"]).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:  # imported when a query is sent: commands without Prometheus never pay for it
    import urllib3

T = TypeVar("T")
FaultKind = Literal["unreachable", "unauthorized", "forbidden", "timeout", "bad-response", "bad-query"]

DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_seconds(text: str) -> float:
    """A Prometheus duration (`30s`, `5m`, `24h`, `7d`) in seconds; ValueError otherwise."""
    found = DURATION.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 24h or 7d")
    value = int(found.group(1)) * UNIT_SECONDS[found.group(2)]
    if value <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def duration_text(seconds: float) -> str:
    """The shortest whole Prometheus duration for `seconds` (rounded up to a second)."""
    whole = max(1, math.ceil(seconds))
    for unit in ("w", "d", "h", "m"):
        size = int(UNIT_SECONDS[unit])
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


class PrometheusError(Exception):
    """A query could not be answered; `kind` says why (the handlers turn it into a bilingual note)."""

    def __init__(self, kind: FaultKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]


class PrometheusAPI(Protocol):
    """What the observed-traffic analysis needs: an instant query and a range query."""

    url: str

    def instant(self, query: str) -> list[Sample]: ...

    def range(self, query: str, *, seconds: float, step: float) -> list[Series]: ...


@dataclass
class PrometheusClient:
    url: str
    token_file: Path | None = None
    ca_file: Path | None = None
    timeout: float = 10.0
    queries: int = field(default=0, init=False)
    """Queries sent by this client (the cost benchmark reads it too)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _pool: urllib3.PoolManager | None = field(default=None, init=False, repr=False)

    def _manager(self) -> urllib3.PoolManager:
        import urllib3

        if self._pool is None:
            options: dict[str, Any] = {"retries": False, "timeout": urllib3.Timeout(total=self.timeout)}
            if self.ca_file is not None:
                options["ca_certs"] = str(self.ca_file)
            self._pool = urllib3.PoolManager(num_pools=2, maxsize=4, **options)
        return self._pool

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token_file is not None:
            # Read at each request: a mounted Secret is rotated in place. Never logged, never in an error.
            try:
                token = self.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise PrometheusError("unauthorized", f"token file unreadable ({exc.strerror})") from None
            if token:
                headers["Authorization"] = f"Bearer {token}"
        return headers

    def _get(self, path: str, fields: dict[str, str]) -> Any:
        import urllib3

        with self._lock:
            self.queries += 1
        endpoint = self.url.rstrip("/") + path
        try:
            response = self._manager().request("GET", endpoint, fields=fields, headers=self._headers())
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of ConnectTimeoutError: test it first
            raise PrometheusError("unreachable", exc.__class__.__name__) from None
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            raise PrometheusError("timeout", f"no answer within {self.timeout:g}s") from None
        except urllib3.exceptions.SSLError as exc:
            raise PrometheusError("unreachable", f"TLS: {exc.__class__.__name__}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise PrometheusError("unreachable", exc.__class__.__name__) from None
        if response.status == 401:
            raise PrometheusError("unauthorized", "HTTP 401")
        if response.status == 403:
            raise PrometheusError("forbidden", "HTTP 403")
        try:
            body = json.loads(response.data)
        except ValueError:
            raise PrometheusError("bad-response", f"HTTP {response.status}, not JSON") from None
        if not isinstance(body, dict):
            raise PrometheusError("bad-response", f"HTTP {response.status}, unexpected body")
        if body.get("status") != "success":
            error_type = str(body.get("errorType", ""))
            # 400 bad_data / 422 execution: the query itself; 503 timeout: the server gave up.
            if error_type == "timeout":
                raise PrometheusError("timeout", str(body.get("error", ""))[:200])
            kind: FaultKind = "bad-query" if error_type in {"bad_data", "execution"} else "bad-response"
            raise PrometheusError(kind, f"HTTP {response.status} {error_type}: {str(body.get('error', ''))[:200]}")
        return body.get("data", {})

    def instant(self, query: str) -> list[Sample]:
        data = self._get("/api/v1/query", {"query": query, "timeout": f"{self.timeout:g}s"})
        return _parsed(data, "vector", lambda item: Sample(_metric(item), _number(item["value"][1])))

    def range(self, query: str, *, seconds: float, step: float) -> list[Series]:
        end = time.time()
        fields = {
            "query": query,
            "start": f"{end - seconds:.3f}",
            "end": f"{end:.3f}",
            "step": f"{max(step, 1):g}",
            "timeout": f"{self.timeout:g}s",
        }
        data = self._get("/api/v1/query_range", fields)
        return _parsed(
            data,
            "matrix",
            lambda item: Series(_metric(item), [(float(t), _number(v)) for t, v in item["values"]]),
        )


def _metric(item: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(item.get("metric") or {}).items()}


def _parsed(data: Any, result_type: str, convert: Callable[[Any], T]) -> list[T]:
    """The result list, converted; any shape other than the documented one is a bad response, not a crash."""
    if not isinstance(data, dict) or data.get("resultType") != result_type:
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise PrometheusError("bad-response", f"resultType {kind!r}, expected {result_type}")
    try:
        return [convert(item) for item in data.get("result") or []]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise PrometheusError("bad-response", f"malformed {result_type} ({exc.__class__.__name__})") from None


def _number(text: object) -> float:
    value = float(str(text))  # Prometheus writes NaN, +Inf as strings too
    return 0.0 if math.isnan(value) else value
