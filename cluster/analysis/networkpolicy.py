"""Kubernetes NetworkPolicy against ambient's HBONE tunnel (DESIGN.md addition: `networkpolicy-blocks-hbone`).

istio.io docs ambient/usage/networkpolicy: "ambient's secure L4 overlay will tunnel traffic between your pods over
port 15008 ... NetworkPolicy is enforced on the host, outside the pod ... if you have preexisting NetworkPolicy in
place that ... will deny list inbound traffic to an ambient pod on every port but 443, you will have to add an
exception to that NetworkPolicy for port 15008." Kubernetes semantics: a pod selected by any policy with the Ingress
type is isolated for ingress, and admitted traffic is the union of every selecting policy's rules; a rule without
`ports` admits every port. Policy types default to Ingress (plus Egress when egress rules are given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cluster.analysis.policies import listed
from cluster.analysis.waypoints import selector_matches
from cluster.snapshot import Resource

HBONE_PORT = 15008


@dataclass(frozen=True, slots=True)
class Isolation:
    policies: tuple[str, ...]  # names of the policies that isolate the pod for ingress
    admits_hbone: bool


def _isolates_ingress(policy: Resource) -> bool:
    types = policy.spec.get("policyTypes")
    if isinstance(types, list):
        return "Ingress" in [str(t) for t in types]
    return True  # unspecified: Ingress always, Egress only with egress rules


def _port_admits(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if str(entry.get("protocol") or "TCP") != "TCP":
        return False
    port, end = entry.get("port"), entry.get("endPort")
    if port is None:
        return True  # protocol only: every port
    if not isinstance(port, int) or isinstance(port, bool):
        return False  # a named port is the application's, never HBONE's
    top = end if isinstance(end, int) and not isinstance(end, bool) else port
    return port <= HBONE_PORT <= top


def _rule_admits_hbone(rule: Any) -> bool:
    if not isinstance(rule, dict):
        return False
    ports = rule.get("ports")
    if ports is None or ports == []:
        return True  # no ports: every port
    return any(_port_admits(p) for p in listed(ports))


def isolation(policies: list[Resource], labels: dict[str, str]) -> Isolation | None:
    """How the namespace's NetworkPolicies treat one pod's ingress; None when none isolates it."""
    selecting = []
    for policy in policies:
        selector = policy.spec.get("podSelector")
        if not isinstance(selector, dict):
            selector = {}
        if _isolates_ingress(policy) and selector_matches(selector, labels):
            selecting.append(policy)
    if not selecting:
        return None
    admits = any(_rule_admits_hbone(rule) for p in selecting for rule in listed(p.spec.get("ingress")))
    return Isolation(tuple(sorted(p.meta.name for p in selecting)), admits)
