"""The transport of the live reader: the official client's configuration and raw JSON GETs.

Responses are read as raw bytes (`_preload_content=False` semantics: no typed models). Typed models cost
about 2.5x the memory of raw JSON on large pod lists, and some servers omit fields the typed models of
`kubernetes` 37 require.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException

from cluster._texts import cluster_error, text

# The client's config loaders carry no annotations: typed aliases keep mypy strict here.
_load_incluster_config: Callable[..., None] = config.load_incluster_config
_KubeConfigMerger: Callable[..., Any] = kube_config.KubeConfigMerger
_KubeConfigLoader: Callable[..., Any] = kube_config.KubeConfigLoader


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    retry_after: float | None = None  # seconds, from a 429's Retry-After header

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

    def __init__(self, key: str, *, detail: str = "", unreachable: bool) -> None:
        self.reason = text(key, "en", detail=detail)
        self.reason_ko = text(key, "ko", detail=detail)
        super().__init__(self.reason)
        self.unreachable = unreachable  # the server could not be reached at all (vs. a slow or broken answer)


def _configuration() -> Any:
    cfg = client.Configuration()
    # Connecting is retried (cheap when refused); reads are not, so a slow server costs one timeout, not four.
    # Throttling (429) is retried by the reader itself, within the caller's timeout.
    cfg.retries = urllib3.Retry(
        total=2, connect=2, read=0, status=0, redirect=0, other=0, backoff_factor=0.1, respect_retry_after_header=False
    )
    return cfg


@dataclass(frozen=True)
class Connection:
    api: Any  # kubernetes.client.ApiClient
    context: str  # the kubeconfig context used, "in-cluster" for the pod's service account


IN_CLUSTER = "in-cluster"


def kubeconfig_paths(kubeconfig: Path | None) -> str | None:
    """Where kubectl looks: --kubeconfig, else $KUBECONFIG (several files, os.pathsep-separated), else
    ~/.kube/config when it exists; None when there is no kubeconfig at all (then in-cluster config)."""
    if kubeconfig is not None:
        return str(kubeconfig)
    env = os.environ.get("KUBECONFIG", "")
    if any(part for part in env.split(os.pathsep)):
        return env
    default = Path.home() / ".kube" / "config"
    return str(default) if default.is_file() else None


def api_client(kubeconfig: Path | None, context: str | None) -> Connection:
    """A client as kubectl would build it: kubeconfig (+context) found as kubectl finds it, else in-cluster
    config; ClusterError when neither works."""
    cfg = _configuration()
    paths = kubeconfig_paths(kubeconfig)
    # The context name "in-cluster" asks for the pod's own service account (MESHBOT_CLUSTERS=here=in-cluster,…).
    if context == IN_CLUSTER or (paths is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST")):
        try:
            _load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise cluster_error("live-no-config") from exc
        return Connection(client.ApiClient(cfg), IN_CLUSTER)
    if paths is None:
        raise cluster_error("live-no-config")
    try:
        loader = _loader(paths, context)
        loader.load_and_set(cfg)
        used = str(loader.current_context["name"])
    except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError) as exc:
        raise cluster_error(
            "live-bad-config",
            path=paths,
            context=f" (context {context})" if context else "",
            reason=str(exc) or type(exc).__name__,
        ) from exc
    return Connection(client.ApiClient(cfg), used)


def _loader(paths: str, context: str | None) -> Any:
    """The merged kubeconfig with kubectl's rules: the first file that sets a context, cluster, user or
    current-context wins (the client's own merger lets the last current-context win)."""
    merger = _KubeConfigMerger(paths)
    if merger.config is None:
        raise ConfigException(f"no kubeconfig file found at {paths}")
    files = [c for c in merger.config_files.values() if isinstance(c, dict)]
    current = next((c["current-context"] for c in files if c.get("current-context")), None)
    if current is not None:
        merger.config.value["current-context"] = current
    return _KubeConfigLoader(config_dict=merger.config, active_context=context, config_base_path=None)


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
        raise _transport_error(exc.reason or exc) from exc
    except (urllib3.exceptions.HTTPError, client.ApiException, OSError) as exc:
        raise _transport_error(exc) from exc
    return Response(int(response.status), bytes(body or b""), _seconds(response.headers.get("Retry-After")))


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: not worth parsing for a bounded wait
        return None


def _transport_error(exc: BaseException) -> TransportError:
    """Name the failure in both languages; connection failures mean the server is unreachable."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return TransportError("reason-read-timeout", unreachable=False)
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):  # before ConnectTimeoutError,
        return TransportError("reason-refused", unreachable=True)  # its parent class
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return TransportError("reason-connect-timeout", unreachable=True)
    if isinstance(exc, urllib3.exceptions.SSLError):
        return TransportError("reason-tls", detail=str(exc), unreachable=True)
    return TransportError("reason-other", detail=str(exc) or type(exc).__name__, unreachable=False)
