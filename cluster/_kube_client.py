"""The transport of the live reader: the official client's configuration and raw JSON GETs.

Responses are read as raw bytes (`_preload_content=False` semantics: no typed models). Typed models cost
about 2.5x the memory of raw JSON on large pod lists, and some servers omit fields the typed models of
`kubernetes` 37 require.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from cluster._texts import cluster_error


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def message(self) -> str:
        """The server's own explanation (a Status object's message), if any."""
        try:
            data = json.loads(self.body)
        except ValueError:
            return self.body[:200].decode("utf-8", "replace")
        return str(data.get("message") or "") if isinstance(data, dict) else ""


class TransportError(Exception):
    """No HTTP answer: refused, timed out, reset, TLS failure."""

    def __init__(self, reason: str, *, unreachable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable  # the server could not be reached at all (vs. a slow or broken answer)


def _configuration() -> Any:
    cfg = client.Configuration()
    # Connecting is retried (cheap when refused); reads are not, so a slow server costs one timeout, not four.
    cfg.retries = urllib3.Retry(total=2, connect=2, read=0, status=0, redirect=0, other=0, backoff_factor=0.1)
    return cfg


def api_client(kubeconfig: Path | None, context: str | None) -> Any:
    """An ApiClient from a kubeconfig (+context), else from in-cluster config; ClusterError when neither works."""
    cfg = _configuration()
    if kubeconfig is not None or context is not None:
        try:
            return config.new_client_from_config(
                config_file=str(kubeconfig) if kubeconfig is not None else None,
                context=context,
                persist_config=False,
                client_configuration=cfg,
            )
        except (ConfigException, OSError, ValueError, TypeError, KeyError, yaml.YAMLError) as exc:
            raise cluster_error(
                "live-bad-config",
                path=kubeconfig or "(default kubeconfig)",
                context=f" (context {context})" if context else "",
                reason=str(exc) or type(exc).__name__,
            ) from exc
    try:
        config.load_incluster_config(client_configuration=cfg)
    except ConfigException as exc:
        raise cluster_error("live-no-config") from exc
    return client.ApiClient(cfg)


def server_of(api: Any) -> str:
    return str(api.configuration.host)


def get(api: Any, path: str, query: list[tuple[str, str | int]], timeout: float) -> Response:
    """One GET returning the raw body; TransportError when no HTTP answer came back."""
    request = api.param_serialize(
        method="GET",
        resource_path=path,
        query_params=query,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    try:
        response = api.call_api(*request, _request_timeout=timeout)
        try:
            body = response.read()
        finally:
            response.response.release_conn()
    except urllib3.exceptions.MaxRetryError as exc:
        raise TransportError(_reason(exc.reason or exc), unreachable=_is_connect_failure(exc.reason)) from exc
    except (urllib3.exceptions.HTTPError, client.ApiException, OSError) as exc:
        raise TransportError(_reason(exc), unreachable=_is_connect_failure(exc)) from exc
    return Response(int(response.status), bytes(body or b""))


def _is_connect_failure(exc: BaseException | None) -> bool:
    return isinstance(
        exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError | ConnectionRefusedError
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return "timed out waiting for the API server"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "timed out connecting to the API server"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return f"TLS error: {exc}"
    return str(exc) or type(exc).__name__
