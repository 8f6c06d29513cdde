"""The coordination.k8s.io/v1 Lease as leader election needs it, through the official `kubernetes` client.

The election logic lives in `bot.leader`; this module is the only place that talks to the API about
Leases (the `kubernetes` client stays inside `cluster`, an import-linter contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException


@dataclass(frozen=True)
class Lease:
    holder: str | None
    renewed: str
    """The renew time as the API says it (compared, never trusted as a clock)."""
    version: str | None
    """resourceVersion: a write based on an older one is refused (409)."""
    duration: float | None
    raw: Any


class LeaseApi:
    def __init__(self, api: Any) -> None:
        self.api = api

    def read(self, name: str, namespace: str) -> Lease | None:
        """The Lease, or None when there is none yet."""
        try:
            lease = self.api.read_namespaced_lease(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        spec = lease.spec or client.V1LeaseSpec()
        lease.spec = spec
        duration = float(spec.lease_duration_seconds) if spec.lease_duration_seconds else None
        return Lease(
            spec.holder_identity or None, str(spec.renew_time), lease.metadata.resource_version, duration, lease
        )

    def create(self, name: str, namespace: str, holder: str, duration: int, now: datetime) -> bool:
        """Create it held by `holder`; False when another replica created it first."""
        body = client.V1Lease(
            metadata=client.V1ObjectMeta(name=name, namespace=namespace),
            spec=client.V1LeaseSpec(
                holder_identity=holder,
                lease_duration_seconds=duration,
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            self.api.create_namespaced_lease(namespace, body)
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def hold(self, lease: Lease, name: str, namespace: str, holder: str, duration: int, now: datetime) -> bool:
        """Write `holder` as the holder (renewed now); False when someone else wrote it since it was read."""
        spec = lease.raw.spec
        if lease.holder != holder:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = holder
        spec.renew_time = now
        spec.lease_duration_seconds = duration
        try:
            self.api.replace_namespaced_lease(name, namespace, lease.raw)
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def release(self, name: str, namespace: str, holder: str) -> None:
        """Hand the Lease back (empty holder, duration 1 s) if `holder` still holds it."""
        lease = self.read(name, namespace)
        if lease is None or lease.holder != holder:
            return
        spec = lease.raw.spec
        spec.holder_identity = None
        spec.lease_duration_seconds = 1
        spec.renew_time = datetime.now(UTC)
        self.api.replace_namespaced_lease(name, namespace, lease.raw)


def coordination_api(kubeconfig: Path | None, context: str | None) -> LeaseApi:
    """The kubeconfig (and context) given, else in-cluster config, else the kubeconfig as kubectl finds it."""
    if kubeconfig is not None or context is not None:
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None, context=context, persist_config=False
        )
    else:
        try:
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            api = client.ApiClient(cfg)
        except ConfigException:
            api = config.new_client_from_config(persist_config=False)  # type: ignore[no-untyped-call]
    return LeaseApi(client.CoordinationV1Api(api))
