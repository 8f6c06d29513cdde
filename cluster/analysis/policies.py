"""What an Istio resource asks of the data plane: L7 attributes, how it binds, Lua filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from cluster.analysis import labels as L
from cluster.snapshot import Resource

Binding = Literal["selector", "targetRefs", "namespace"]

# What ztunnel cannot enforce, from istiod's conversion of AuthorizationPolicy for ztunnel
# (pilot/pkg/serviceregistry/ambient/authorization.go; before 1.30 under kube/controller/ambient/, same rules
# since release-1.22): httpOperations() flags hosts/notHosts/methods/notMethods/paths/notPaths, httpSources()
# flags remoteIpBlocks/notRemoteIpBlocks/requestPrincipals/notRequestPrincipals, and every `when` key outside
# l4WhenAttributes (source.ip, source.namespace, source.principal, destination.ip, destination.port) is HTTP.
L7_OPERATION_FIELDS = ("hosts", "notHosts", "methods", "notMethods", "paths", "notPaths")
L7_SOURCE_FIELDS = ("remoteIpBlocks", "notRemoteIpBlocks", "requestPrincipals", "notRequestPrincipals")
L4_WHEN_KEYS = frozenset({"source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"})
# L4 fields that survive the conversion (handleRule builds ztunnel matches from these only).
L4_OPERATION_FIELDS = ("ports", "notPorts")
L4_SOURCE_FIELDS = (
    "ipBlocks", "notIpBlocks", "namespaces", "notNamespaces", "principals", "notPrincipals",
    "serviceAccounts", "notServiceAccounts",
)  # fmt: skip
# convertAuthorizationPolicy: any action but ALLOW/DENY gets "ztunnel does not support the %s action" and the
# policy is not sent to ztunnel at all.
L7_ACTIONS = frozenset({"CUSTOM", "AUDIT"})
HTTP_MATCH_FIELDS = frozenset({"uri", "headers", "method", "queryParams", "authority", "scheme", "withoutHeaders"})
LUA_MARKERS = ("envoy.filters.http.lua", "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua")


def listed(value: Any) -> list[Any]:
    """A list field as a list; anything else (a wrong type in the object) as empty."""
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


def selector_labels(resource: Resource) -> dict[str, str]:
    """`selector.matchLabels` (security kinds) or `workloadSelector.labels` (networking kinds)."""
    spec = resource.spec
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    if labels is None:
        workload_selector = spec.get("workloadSelector")
        labels = workload_selector.get("labels") if isinstance(workload_selector, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def target_refs(resource: Resource) -> list[dict[str, str]]:
    refs = list(_dicts(resource.spec.get("targetRefs")))
    single = resource.spec.get("targetRef")
    if isinstance(single, dict):
        refs.append(single)
    return [{str(k): str(v) for k, v in ref.items()} for ref in refs]


def binding(resource: Resource) -> Binding:
    if target_refs(resource):
        return "targetRefs"
    return "selector" if selector_labels(resource) else "namespace"


def authz_action(policy: Resource) -> str:
    return str(policy.spec.get("action") or "ALLOW").upper()


def _rule_l7(rule: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for to in _dicts(rule.get("to")):
        operation = to.get("operation")
        if isinstance(operation, dict):
            found.extend(f"to.operation.{f}" for f in L7_OPERATION_FIELDS if operation.get(f))
    for from_ in _dicts(rule.get("from")):
        source = from_.get("source")
        if isinstance(source, dict):
            found.extend(f"from.source.{f}" for f in L7_SOURCE_FIELDS if source.get(f))
    for condition in _dicts(rule.get("when")):
        key = str(condition.get("key") or "")
        if key and key not in L4_WHEN_KEYS:
            found.append(f"when {key}")
    return found


def authz_l7_attributes(policy: Resource) -> list[str]:
    """The attributes and action of an AuthorizationPolicy that ztunnel cannot enforce; empty for an L4 policy."""
    found: list[str] = []
    action = authz_action(policy)
    if action in L7_ACTIONS:
        found.append(f"action {action}")
    for rule in _dicts(policy.spec.get("rules")):
        found.extend(_rule_l7(rule))
    return list(dict.fromkeys(found))


IDENTITY_SOURCE_FIELDS = (
    "principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts",
)  # fmt: skip
IDENTITY_WHEN_KEYS = frozenset({"source.principal", "source.namespace"})


def authz_identity_rules(policy: Resource) -> tuple[list[str], list[str]]:
    """(fields, principals): the caller-identity matches of a policy, and the principals it names."""
    fields: list[str] = []
    principals: list[str] = []
    for rule in _dicts(policy.spec.get("rules")):
        for from_ in _dicts(rule.get("from")):
            source = from_.get("source")
            if not isinstance(source, dict):
                continue
            for f in IDENTITY_SOURCE_FIELDS:
                if source.get(f):
                    fields.append(f"from.source.{f}")
                    if f in ("principals", "notPrincipals"):
                        principals += [str(x) for x in listed(source.get(f))]
                    elif f in ("serviceAccounts", "notServiceAccounts", "namespaces", "notNamespaces"):
                        principals.append("")  # not a principal: never exempt as a gateway's
        for condition in _dicts(rule.get("when")):
            key = str(condition.get("key") or "")
            if key in IDENTITY_WHEN_KEYS:
                fields.append(f"when {key}")
                principals.append("")
    return list(dict.fromkeys(fields)), principals


def _clause_keeps_a_match(entries: list[dict[str, Any]], key: str, l4_fields: tuple[str, ...]) -> bool:
    """After the HTTP fields are dropped, some entry of a to/from clause still has an L4 field."""
    return any(isinstance(e.get(key), dict) and any(e[key].get(f) for f in l4_fields) for e in entries)


def _deny_rule_effective(rule: dict[str, Any]) -> bool:
    """Whether a DENY rule still matches anything at ztunnel once its HTTP parts are gone.

    ztunnel's src/rbac.rs skips an empty match ("empty clause") and a rule matches only when every clause
    does; istiod emits each `when` as its own clause, empty for an HTTP key (hasEffectiveRules in
    authorization.go says the same). So a clause left without an L4 field makes the whole rule dead.
    """
    to = list(_dicts(rule.get("to")))
    from_ = list(_dicts(rule.get("from")))
    if to and not _clause_keeps_a_match(to, "operation", L4_OPERATION_FIELDS):
        return False
    if from_ and not _clause_keeps_a_match(from_, "source", L4_SOURCE_FIELDS):
        return False
    return all(str(c.get("key") or "") in L4_WHEN_KEYS for c in _dicts(rule.get("when")))


ZtunnelEffect = Literal["deny-all", "narrower", "no-effect", "broader", "ignored", "none"]


def ztunnel_effect(policy: Resource) -> ZtunnelEffect:
    """What ztunnel does with a policy bound by selector or to the whole namespace (no targetRefs).

    From convertAuthorizationPolicy/handleRule (authorization.go, 1.22 to current) and ztunnel's src/rbac.rs:
    - CUSTOM/AUDIT: not converted ("ztunnel does not support the %s action"): "ignored".
    - ALLOW: every rule with an HTTP attribute is dropped ("L7 policies never match for ALLOW"); with no rule
      left the ALLOW policy matches nothing, and an ALLOW policy that matches nothing denies all traffic to
      the workloads it selects: "deny-all"; with some L4 rules left: "narrower" (more restrictive).
    - DENY: HTTP fields are dropped from each rule; a rule left with an empty clause never matches, the rest
      match on their L4 fields alone: "no-effect" when no rule is left, else "broader" (denies more).
    """
    action = authz_action(policy)
    if action in L7_ACTIONS:
        return "ignored"
    rules = list(_dicts(policy.spec.get("rules")))
    with_l7 = [r for r in rules if _rule_l7(r)]
    if not with_l7:
        return "none"
    if action == "ALLOW":
        return "narrower" if len(with_l7) < len(rules) else "deny-all"
    if action == "DENY":
        return "broader" if any(_deny_rule_effective(r) for r in with_l7) else "no-effect"
    return "ignored"


def serves_mesh(virtual_service: Resource) -> bool:
    """A VirtualService applies to mesh (east-west) traffic when `gateways` is absent or names `mesh`."""
    gateways = virtual_service.spec.get("gateways")
    return not gateways or (isinstance(gateways, list) and "mesh" in gateways)


def _weighted_destinations(route: list[dict[str, Any]]) -> int:
    return sum(1 for r in route if isinstance(r.get("destination"), dict) and r.get("weight", 1) != 0)


HTTP_ROUTE_FEATURES = (
    ("timeout", "timeouts"),
    ("rewrite", "rewrites"),
    ("redirect", "redirects"),
    ("directResponse", "direct responses"),
    ("corsPolicy", "CORS policy"),
)


def vs_l7_features(virtual_service: Resource) -> list[str]:
    """The L7-only features (for ztunnel) a VirtualService's HTTP routes use."""
    found: list[str] = []
    for http in _dicts(virtual_service.spec.get("http")):
        if http.get("fault"):
            found.append("fault injection")
        if http.get("mirror") or http.get("mirrors"):
            found.append("mirroring")
        headers = http.get("headers")
        route = list(_dicts(http.get("route")))
        if headers or any(r.get("headers") for r in route):
            found.append("header changes")
        retries = http.get("retries")
        if isinstance(retries, dict) and retries and retries.get("attempts", 1) != 0:
            found.append("retries")
        if _weighted_destinations(route) > 1:
            found.append("traffic splitting")
        if any(isinstance(r.get("destination"), dict) and r["destination"].get("subset") for r in route):
            found.append("subset routing")  # without Envoy every version behind the Service gets the traffic
        # ztunnel applies no VirtualService at all: every HTTP route feature needs a waypoint in ambient.
        found.extend(name for key, name in HTTP_ROUTE_FEATURES if http.get(key))
    if _routes_by_request_match(virtual_service):
        found.append("traffic splitting")
    return list(dict.fromkeys(found))


def _destinations(http: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(r["destination"].get("host")), str(r["destination"].get("subset") or ""))
        for r in _dicts(http.get("route"))
        if isinstance(r.get("destination"), dict)
    }


def _routes_by_request_match(virtual_service: Resource) -> bool:
    """Requests matched on HTTP attributes (headers, URI ...) sent to different destinations: a canary split."""
    routes = list(_dicts(virtual_service.spec.get("http")))
    matched = any(
        any(isinstance(m, dict) and set(m) & HTTP_MATCH_FIELDS for m in http.get("match") or []) for http in routes
    )
    destinations: set[tuple[str, str]] = set()
    for http in routes:
        destinations |= _destinations(http)
    return matched and len(destinations) > 1


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def envoyfilter_has_lua(envoy_filter: Resource) -> bool:
    for patch in _dicts(envoy_filter.spec.get("configPatches")):
        value = (patch.get("patch") or {}).get("value") if isinstance(patch.get("patch"), dict) else None
        if any(marker in text for text in _strings(value) for marker in LUA_MARKERS):
            return True
    return False


def targets_waypoint(resource: Resource, waypoint_names: set[str]) -> bool:
    return any(ref.get("kind") == "Gateway" and ref.get("name") in waypoint_names for ref in target_refs(resource))


def targets_gateway_only(resource: Resource, waypoint_names: set[str]) -> bool:
    """Bound only to non-waypoint Gateways (ingress): a gateway's concern, not the namespace's data plane."""
    refs = target_refs(resource)
    return bool(refs) and all(r.get("kind") == "Gateway" and r.get("name") not in waypoint_names for r in refs)


def selects_gateway_pods(labels: dict[str, str]) -> bool:
    return L.GATEWAY_NAME in labels or labels.get("istio") in ("ingressgateway", "egressgateway")
