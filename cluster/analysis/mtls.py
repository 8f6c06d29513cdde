"""Effective mTLS from PeerAuthentication, with Istio's precedence (pilot/pkg/security/authn).

workload (selector) > namespace (no selector) > mesh (root namespace, no selector) > PERMISSIVE.
A level overrides its parent only when its mode is set; among several policies at one level the
oldest (creationTimestamp, then name) wins; portLevelMtls is read from workload policies only and
an UNSET port inherits the workload's mode; selector policies in the root namespace are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cluster.snapshot import Resource, Snapshot

MtlsMode = Literal["STRICT", "PERMISSIVE", "DISABLE"]
MODES: frozenset[str] = frozenset({"STRICT", "PERMISSIVE", "DISABLE"})
DEFAULT_SOURCE = "default (no PeerAuthentication)"


@dataclass(frozen=True, slots=True)
class Decision:
    mode: MtlsMode
    source: str  # "PeerAuthentication ns/name", or DEFAULT_SOURCE
    policy: Resource | None = None


@dataclass(frozen=True, slots=True)
class WorkloadDecision:
    mode: MtlsMode
    source: str
    ports: dict[str, MtlsMode] = field(default_factory=dict)
    policy: Resource | None = None  # the workload policy that matched, if any


def declared_mode(block: Any) -> MtlsMode | None:
    """`{mode: X}` -> X, None for UNSET or absent."""
    mode = str((block or {}).get("mode") or "UNSET").upper() if isinstance(block, dict) else "UNSET"
    return mode if mode in MODES else None  # type: ignore[return-value]


def match_labels(policy: Resource) -> dict[str, str]:
    selector = policy.spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def selects(policy: Resource, labels: dict[str, str]) -> bool:
    wanted = match_labels(policy)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def describe(policy: Resource) -> str:
    return f"PeerAuthentication {policy.meta.namespace}/{policy.meta.name}"


def _oldest(policies: list[Resource]) -> Resource | None:
    return min(policies, key=lambda p: (p.meta.created, p.meta.name), default=None)


class MtlsIndex:
    def __init__(self, snapshot: Snapshot, root_namespace: str) -> None:
        self.root = root_namespace
        self.namespace_wide: dict[str, list[Resource]] = {}
        self.workload_level: dict[str, list[Resource]] = {}
        for policy in snapshot.of_kind("PeerAuthentication"):
            ns = policy.meta.namespace
            if match_labels(policy):
                if ns != root_namespace:  # selector policies in the root namespace are ignored
                    self.workload_level.setdefault(ns, []).append(policy)
            else:
                self.namespace_wide.setdefault(ns, []).append(policy)
        self.mesh = self._mesh()
        self._namespaces: dict[str, Decision] = {}

    def _mesh(self) -> Decision:
        policy = _oldest(self.namespace_wide.get(self.root, []))
        mode = declared_mode(policy.spec.get("mtls")) if policy else None
        if policy is None or mode is None:
            return Decision("PERMISSIVE", DEFAULT_SOURCE)
        return Decision(mode, describe(policy), policy)

    def namespace(self, namespace: str) -> Decision:
        if namespace == self.root:
            return self.mesh
        if namespace not in self._namespaces:
            policy = _oldest(self.namespace_wide.get(namespace, []))
            mode = declared_mode(policy.spec.get("mtls")) if policy else None
            decided = self.mesh if policy is None or mode is None else Decision(mode, describe(policy), policy)
            self._namespaces[namespace] = decided
        return self._namespaces[namespace]

    def workload(self, namespace: str, labels: dict[str, str]) -> WorkloadDecision:
        parent = self.namespace(namespace)
        policy = _oldest([p for p in self.workload_level.get(namespace, []) if selects(p, labels)])
        if policy is None:
            return WorkloadDecision(parent.mode, parent.source)
        own = declared_mode(policy.spec.get("mtls"))
        mode, source = (own, describe(policy)) if own else (parent.mode, parent.source)
        ports: dict[str, MtlsMode] = {}
        port_level = policy.spec.get("portLevelMtls")
        if isinstance(port_level, dict):
            for port, block in port_level.items():
                ports[str(port)] = declared_mode(block) or mode
        return WorkloadDecision(mode, source, dict(sorted(ports.items(), key=lambda kv: _port_key(kv[0]))), policy)

    def policies_in(self, namespace: str) -> list[Resource]:
        return [*self.namespace_wide.get(namespace, []), *self.workload_level.get(namespace, [])]


def _port_key(port: str) -> tuple[int, str]:
    return (int(port), "") if port.isdigit() else (1 << 30, port)
