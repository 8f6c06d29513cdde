"""The finding rules (DESIGN.md "Findings"), each precise enough that near-misses stay quiet.

Decisions worth knowing:
- Cluster-level: istio-version-too-old (blocker below 1.22, ambient's first supported (Beta)
  release per the seed; 1.22-1.23 get a "production guidance 1.24+" note instead), kernel-too-old
  (per node, minimum configurable, default the seed's 5.8: Istio publishes none) and
  cni-compatibility (Cilium agent; Calico only with FELIX_BPFENABLED=true). A cluster blocker blocks
  every namespace's verdict. When only an older revision is too old (a canary upgrade under way),
  each candidate namespace that revision serves (istio.io/rev without istio-injection) gets the
  same blocker, resource the revision's istiod; a revision with no istiod Deployment is not guessed.
- Scope: a resource applies to its own namespace; one in the root namespace applies mesh-wide
  unless its selector picks no workload pod there. Resources bound only to gateway pods or to an
  ingress Gateway (targetRefs) are the gateway's business, not the namespace's data plane.
- Waypoint findings carry `served`: a waypoint already serves the target (targetRefs to a Service
  or a waypoint, or a root-namespace policy for GatewayClass istio-waypoint). Policies bound by
  selector, or by neither, are never served: waypoints attach only what names them with
  targetRefs. In an ambient namespace anything unserved is a blocker.
- init-container-networking: any init container the application added (not istio-init,
  istio-validation or a native sidecar) in a candidate namespace. Whether it reaches the network
  cannot be read from a spec, and its traffic is captured differently in ambient: a warning to verify.
- kube-* and the Istio root namespace are shown by status/mtls but never prechecked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluster.analysis import labels as L
from cluster.analysis import policies as P
from cluster.analysis.cni import detect_cni, old_kernels
from cluster.analysis.findings import Finding, sort_key
from cluster.analysis.istiod import ISTIOD_POLICY_KINDS, condition_text, not_applied
from cluster.analysis.modes import app_init_containers, pod_role
from cluster.analysis.mtls import declared_mode, selects
from cluster.analysis.networkpolicy import isolation
from cluster.analysis.topology import cluster_topologies
from cluster.analysis.traffic import (
    Host,
    destination_rule_features,
    destination_rule_tls_origination,
    resolve_host,
    route_features,
    service_parents,
)
from cluster.analysis.verdict import verdict
from cluster.analysis.version import fmt, namespace_revision, parse_version
from cluster.analysis.waypoints import Waypoint
from cluster.snapshot import Resource

if TYPE_CHECKING:
    from cluster.analysis.model import Analysis, NamespaceView

VERSION_CODE = "istio-version-too-old"
WAYPOINT_CODES = (
    "l7-authz-needs-waypoint",
    "request-authn-needs-waypoint",
    "l7-traffic-needs-waypoint",
    "wasm-needs-waypoint",
    "virtualservice-scope",
)
MAX_NAMES = 5


def ref(resource: Resource) -> str:
    return f"{resource.kind} {resource.meta.namespace}/{resource.meta.name}"


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    more = f" (+{len(unique) - MAX_NAMES})" if len(unique) > MAX_NAMES else ""
    return ", ".join(unique[:MAX_NAMES]) + more


class NamespaceRules:
    def __init__(
        self,
        analysis: Analysis,
        ns: NamespaceView,
        direct: set[str] | None = None,
        vs_features: dict[tuple[str, str], list[str]] | None = None,
    ) -> None:
        self.a = analysis
        self._direct = direct
        self._vs_features = vs_features if vs_features is not None else {}
        self.ns = ns
        self.name = ns.name
        self.waypoint_names = {w.name for w in analysis.waypoints.in_namespace(ns.name) if w.serves != "none"}
        self.used = analysis.waypoints.used_by(ns.name, [p.pod for p in ns.pods])

    # --- scope: which namespaced and root-namespace resources reach this namespace ---

    def _selected_pods(self, labels: dict[str, str]) -> list[str]:
        """Roles of this namespace's running pods that a selector picks."""
        return [p.role for p in self.ns.pods if all(p.pod.meta.labels.get(k) == v for k, v in labels.items())]

    def applies(self, resource: Resource) -> bool:
        """Own-namespace resources apply; root-namespace ones apply mesh-wide, selector ones where they select."""
        if P.targets_gateway_only(resource, self.waypoint_names):
            return False  # bound to an ingress Gateway: not this namespace's data plane
        selector = P.selector_labels(resource)
        roles = self._selected_pods(selector) if selector else []
        if selector and (P.selects_gateway_pods(selector) or (roles and "workload" not in roles)):
            return False  # selects gateway pods only
        if resource.meta.namespace == self.name:
            return True
        return not selector or "workload" in roles

    def in_scope(self, kind: str) -> list[Resource]:
        own = self.a.resources(kind, self.name)
        root = self.a.resources(kind, self.a.root) if self.name != self.a.root else []
        return [r for r in [*own, *root] if self.applies(r)]

    # --- whether a waypoint already carries a resource's L7 needs ---

    def target_served(self, resource: Resource) -> bool:
        """Whether a usable waypoint attaches the resource, per ShouldAttachPolicy
        (pilot/pkg/model/policyattachment.go): waypoints never use `selector`; a Service targetRef attaches only
        from the Service's own namespace; a Gateway targetRef only from the waypoint's namespace; GatewayClass
        istio-waypoint only from the root namespace."""
        wps = self.a.waypoints
        if P.binding(resource) != "targetRefs":
            # With a selector or with neither, the policy stays on ztunnel (or on nothing): no waypoint attaches it.
            return False
        policy_ns = resource.meta.namespace
        for target in P.target_refs(resource):
            kind, name = target.get("kind", ""), target.get("name", "")
            ns = target.get("namespace") or policy_ns
            if kind == "GatewayClass" and name == L.WAYPOINT_CLASS and policy_ns == self.a.root:
                served = wps.serves_anything_in(self.name)  # a root policy for every waypoint of the mesh
            elif ns != policy_ns:
                served = False  # "Policy references a different namespace (which is unsupported; it will never match)"
            elif kind == "Service":
                served = wps.for_service_name(ns, name) is not None
            elif kind == "Gateway":
                wp = wps.by_key.get((ns, name))
                served = wp is not None and wp.ready and wp.serves != "none" and wp in self.used
            else:
                served = False  # ServiceEntry and other kinds: not this namespace's Services
            if not served:
                return False
        return True

    def _service_served(self, host: Host) -> bool:
        wps = self.a.waypoints
        if host.service:
            if (host.namespace, host.service) in wps.services:
                return wps.for_service_name(host.namespace, host.service) is not None
            return wps.serves_all_services_in(host.namespace)
        return wps.serves_all_services_in(self.name)

    # --- the rules ---

    def control_plane(self) -> list[Finding]:
        """A namespace served by a revision older than the minimum cannot move to ambient before it moves revision."""
        opts = self.a.options
        minimum = parse_version(opts.version_minimum)
        if minimum is None or any(f.code == VERSION_CODE for f in self.a.cluster_findings):
            return []  # the cluster-level finding already blocks every namespace
        revision = self.a.version.revisions.get(namespace_revision(self.ns.labels))
        if revision is None or revision.version >= minimum:
            return []  # new enough, or a revision (tag) with no istiod Deployment in view: no guess
        version = fmt(revision.version) or ""
        served_by = revision.source  # "Deployment istio-system/istiod-1-21"
        return [
            Finding(
                VERSION_CODE, served_by, self.name, detail=revision.name, version=version, minimum=opts.version_minimum
            )
        ]

    def envoy_filters(self) -> list[Finding]:
        out: list[Finding] = []
        for ef in self.in_scope("EnvoyFilter"):
            patches = [p for p in P.listed(ef.spec.get("configPatches")) if isinstance(p, dict)]
            contexts = {
                str(p.get("match", {}).get("context", "ANY")) if isinstance(p.get("match"), dict) else "ANY"
                for p in patches
            }
            if ef.meta.namespace != self.name and contexts == {"GATEWAY"}:
                continue  # a root filter that patches gateways only
            scope = "root namespace: applies mesh-wide" if ef.meta.namespace != self.name else "in the namespace"
            out.append(Finding("envoyfilter-unsupported", ref(ef), self.name, detail=scope))
            if P.envoyfilter_has_lua(ef):
                out.append(Finding("lua-filter", ref(ef), self.name, detail="envoy.filters.http.lua"))
        return out

    def mtls_disable(self) -> list[Finding]:
        out: list[Finding] = []
        decision = self.a.mtls.namespace(self.name)
        if decision.mode == "DISABLE" and decision.policy is not None:
            out.append(Finding("mtls-disable-unsupported", ref(decision.policy), self.name, detail="mode DISABLE"))
        for policy in self.a.mtls.workload_level.get(self.name, []):
            if not self._decides_a_pod(policy):
                continue  # an older policy selects the same pods and wins: this one has no effect
            disabled = ["mode DISABLE"] if declared_mode(policy.spec.get("mtls")) == "DISABLE" else []
            ports = policy.spec.get("portLevelMtls")
            if isinstance(ports, dict):
                disabled += [f"port {p} DISABLE" for p, block in ports.items() if declared_mode(block) == "DISABLE"]
            if disabled:
                out.append(Finding("mtls-disable-unsupported", ref(policy), self.name, detail=", ".join(disabled)))
        return out

    def _decides_a_pod(self, policy: Resource) -> bool:
        """The workload policy is the effective one for some pod it selects (or it selects none running yet)."""
        mtls = self.a.mtls
        labels = [p.pod.meta.labels for p in self.ns.pods]
        selected = [lb for lb in labels if selects(policy, lb)]
        return not selected or any(mtls.workload(self.name, lb).policy is policy for lb in selected)

    def l7_policies(self) -> list[Finding]:
        out: list[Finding] = []
        for policy in self.in_scope("AuthorizationPolicy"):
            out += self._authorization(policy)
        for authn in self.in_scope("RequestAuthentication"):
            # ztunnel reads no JWT (authorization.go converts AuthorizationPolicy only); waypoints attach it by
            # targetRefs only.
            served = self.target_served(authn)
            effect = "" if P.binding(authn) == "targetRefs" else "jwt-ignored"
            out.append(
                Finding("request-authn-needs-waypoint", ref(authn), self.name, "JWT", served=served, effect=effect)
            )
            if P.binding(authn) == "selector":
                out.append(
                    Finding("selector-policy-l7", ref(authn), self.name, "RequestAuthentication", effect="jwt-ignored")
                )
        for wasm in self.in_scope("WasmPlugin"):
            # Only Envoy runs Wasm; a waypoint ignores selector-bound plugins (policyattachment.go: "waypoints never
            # use selector"), so in ambient a WasmPlugin must name the waypoint or the Service with targetRefs.
            binding = P.binding(wasm)
            detail = str(wasm.spec.get("url") or "") or binding
            out.append(Finding("wasm-needs-waypoint", ref(wasm), self.name, detail, served=self.target_served(wasm)))
        out += self._virtual_services()
        out += self._destination_rules()
        out += self._mesh_routes()
        out += self._identity_behind_waypoint(out)
        return out

    def _identity_behind_waypoint(self, found: list[Finding]) -> list[Finding]:
        """L4 identity rules left on ztunnel stop seeing the callers once a waypoint carries the traffic.

        istio.io docs ambient/usage/l4-policy, "Authorization policy attachment": "Traffic arriving at the destination
        ztunnel will be coming from the waypoint's identity because waypoint proxies do not impersonate src identity";
        with a waypoint, selector- and namespace-scoped policies see the waypoint as source. Applies where a waypoint
        serves the namespace or will (it has waypoint needs). Policies naming a waypoint's or a gateway's account
        (the bypass-deny policy, ingress-only rules: gateways reach pods directly) are what ztunnel should enforce.
        """
        waypoint_ahead = self.a.waypoints.serves_anything_in(self.name) or any(
            f.code in WAYPOINT_CODES and not f.served for f in found
        )
        if not waypoint_ahead:
            return []
        reported = {f.resource for f in found if f.code == "l7-authz-needs-waypoint"}
        direct = self._direct_callers()
        out: list[Finding] = []
        for policy in self.in_scope("AuthorizationPolicy"):
            if ref(policy) in reported or P.binding(policy) == "targetRefs":
                continue
            fields, principals = P.authz_identity_rules(policy)
            if not fields or (principals and all(_account(x) in direct for x in principals)):
                continue
            out.append(
                Finding(
                    "l7-authz-needs-waypoint",
                    ref(policy),
                    self.name,
                    ", ".join(fields),
                    effect="waypoint-identity",
                    why="why-identity",
                )
            )
        return out

    def _direct_callers(self) -> set[str]:
        if self._direct is None:
            self._direct = direct_callers(self.a)
        return self._direct

    def _authorization(self, policy: Resource) -> list[Finding]:
        attributes = P.authz_l7_attributes(policy)
        binding = P.binding(policy)
        if binding == "targetRefs":
            served = self.target_served(policy)
            if not attributes and served:
                return []  # an L4 policy its waypoint enforces
            detail = ", ".join(attributes) or "targetRefs"
            effect = "" if served else "targetrefs-unserved"
            why = "why-http" if attributes else ""
            return [
                Finding(
                    "l7-authz-needs-waypoint", ref(policy), self.name, detail, served=served, effect=effect, why=why
                )
            ]
        if not attributes:
            return []  # ports, principals, namespaces, IP blocks: ztunnel enforces these at L4
        effect = P.ztunnel_effect(policy)
        out = [
            Finding(
                "l7-authz-needs-waypoint", ref(policy), self.name, ", ".join(attributes), effect=effect, why="why-http"
            )
        ]
        if binding == "selector":
            out.append(
                Finding("selector-policy-l7", ref(policy), self.name, f"action {P.authz_action(policy)}", effect=effect)
            )
        return out

    def _virtual_services(self) -> list[Finding]:
        """VirtualServices for this namespace's hosts, from any namespace.

        A waypoint applies only VirtualServices in the Service's namespace or its own (getVirtualServiceForWaypoint
        in pilot/pkg/networking/core/listener_waypoint.go, since 1.24; 1.22-1.23 took any VirtualService its
        Sidecar scope saw). The stricter rule is reported on older control planes too, marked as such: ambient's
        production guidance is 1.24+, so the migration meets it on the upgrade. ztunnel applies none.
        """
        out: list[Finding] = []
        older = "" if self.a.rule_applies((1, 24)) else fmt(self.a.version.newest) or ""
        why = "vs-scope-older" if older else ""
        for vs in self.a.snapshot.of_kind("VirtualService"):
            if not P.serves_mesh(vs):
                continue
            features = self._features(vs)
            if not features:
                continue
            raw = [str(x) for x in P.listed(vs.spec.get("hosts"))]
            hosts = [h for h in (resolve_host(x, vs.meta.namespace) for x in raw) if h]
            mine = [h for h in hosts if h.namespace == self.name]
            what = ", ".join(features)
            if vs.meta.namespace != self.name:
                if not mine:
                    continue
                applied = [h for h in mine if self._waypoint_namespace(h) == vs.meta.namespace]
                if len(applied) == len(mine):  # kept in the waypoint's own namespace: the waypoint applies it
                    out.append(Finding("l7-traffic-needs-waypoint", ref(vs), self.name, what, served=True))
                else:
                    names = ", ".join(sorted({h.service or "*" for h in mine}))
                    detail = f"hosts {names}: {what}"
                    out.append(Finding("virtualservice-scope", ref(vs), self.name, detail, version=older, why=why))
                continue
            external = [x for x in raw if resolve_host(x, vs.meta.namespace) is None]
            if mine or not raw:
                served = (
                    all(self._service_served(h) for h in mine)
                    if mine
                    else self.a.waypoints.serves_anything_in(self.name)
                )
                out.append(Finding("l7-traffic-needs-waypoint", ref(vs), self.name, what, served=served))
            if external:
                # Egress routing the namespace's sidecars apply today; in ambient only a waypoint bound to the
                # ServiceEntry (istio.io/use-waypoint on it) would, and ServiceEntries are not read: never served.
                detail = f"hosts {_names(external)}: {what}"
                out.append(Finding("l7-traffic-needs-waypoint", ref(vs), self.name, detail))
            foreign = [h for h in hosts if h.namespace != self.name and self._waypoint_namespace(h) != self.name]
            if foreign:
                # Client side: this namespace's sidecars apply it to their calls today; once they are gone, only the
                # destination's waypoint could, and it does not read VirtualServices kept here.
                names = ", ".join(sorted({f"{h.service or '*'}.{h.namespace}" for h in foreign}))
                detail = f"hosts {names}: {what}"
                out.append(Finding("virtualservice-scope", ref(vs), self.name, detail, version=older, why=why))
        return out

    def _features(self, vs: Resource) -> list[str]:
        """A VirtualService's Envoy-only features, worked out once for all namespaces."""
        key = (vs.meta.namespace, vs.meta.name)
        if key not in self._vs_features:
            self._vs_features[key] = P.vs_l7_features(vs) if P.serves_mesh(vs) else []
        return self._vs_features[key]

    def _waypoint_namespace(self, host: Host) -> str:
        wps = self.a.waypoints
        wp = wps.for_service_name(host.namespace, host.service) if host.service else wps.for_namespace(host.namespace)
        return wp.namespace if wp is not None else ""

    def _destination_rules(self) -> list[Finding]:
        """DestinationRule traffic policy for this namespace's hosts (a root-namespace one for `*.local` too)."""
        out: list[Finding] = []
        for dr in self.a.snapshot.of_kind("DestinationRule"):
            features = destination_rule_features(dr)
            host = resolve_host(str(dr.spec.get("host") or ""), dr.meta.namespace)
            if host is None and dr.meta.namespace in (self.name, self.a.root):
                # An external host: this namespace's sidecars originate TLS or pool connections for their own calls;
                # ztunnel does neither and no waypoint of theirs carries egress (ServiceEntries are not read).
                egress = features + destination_rule_tls_origination(dr)
                if egress:
                    detail = f"host {dr.spec.get('host')}: {', '.join(egress)}"
                    out.append(Finding("l7-traffic-needs-waypoint", ref(dr), self.name, detail))
                continue
            if not features or host is None:
                continue
            if host.namespace != self.name and not (host.namespace == "*" and dr.meta.namespace == self.a.root):
                continue
            served = (
                self._service_served(host)
                if host.namespace == self.name
                else self.a.waypoints.serves_all_services_in(self.name)
            )
            out.append(Finding("l7-traffic-needs-waypoint", ref(dr), self.name, ", ".join(features), served=served))
        return out

    def _mesh_routes(self) -> list[Finding]:
        """GAMMA: HTTPRoute/GRPCRoute with a Service parentRef; sidecars apply it today, only a waypoint in ambient."""
        out: list[Finding] = []
        for kind in ("HTTPRoute", "GRPCRoute"):
            for route in self.a.snapshot.of_kind(kind):
                parents = [h for h in service_parents(route) if h.namespace == self.name]
                if not parents:
                    continue
                served = all(self._service_served(h) for h in parents)
                detail = (
                    f"parentRef Service {', '.join(h.service for h in parents)}: {', '.join(route_features(route))}"
                )
                out.append(Finding("l7-traffic-needs-waypoint", ref(route), self.name, detail, served=served))
        return out

    def ambient_without_waypoint(self, l7: list[Finding]) -> list[Finding]:
        """In an ambient namespace, L7 config no waypoint carries is not applied as written right now."""
        if self.ns.mode != "ambient":
            return []
        first: dict[str, Finding] = {}
        details: dict[str, list[str]] = {}
        for f in l7:
            if f.code not in WAYPOINT_CODES or f.served:
                continue
            first.setdefault(f.resource, f)
            details.setdefault(f.resource, []).append(f.detail)
        return [
            Finding(
                "ambient-l7-without-waypoint",
                resource,
                self.name,
                "; ".join(dict.fromkeys(details[resource])),
                effect=f.effect,
                why=f.why if f.why == "why-identity" else self._why_unserved(f),
            )
            for resource, f in first.items()
        ]

    def _why_unserved(self, f: Finding) -> str:
        """The real cause (a finding_phrases.yaml key), so the text does not blame a missing waypoint where a
        binding is the problem."""
        if f.code == "virtualservice-scope":
            return "why-vs-scope"
        kind, _, where = f.resource.partition(" ")
        ns, _, name = where.partition("/")
        resource = next((r for r in self.a.resources(kind, ns) if r.meta.name == name), None)
        binding = P.binding(resource) if resource is not None and kind not in TRAFFIC_KINDS else "targetRefs"
        if binding == "selector":
            return "why-selector"
        if binding == "namespace":
            return "why-no-targetrefs" if self.a.waypoints.serves_anything_in(self.name) else "why-no-waypoint"
        return "why-no-waypoint"

    def pods(self) -> list[Finding]:
        host: dict[str, int] = {}
        init: dict[str, list[str]] = {}
        init_pods: dict[str, int] = {}
        for p in self.ns.workload_pods:
            if p.pod.host_network:
                host[p.workload_ref] = host.get(p.workload_ref, 0) + 1
            names = app_init_containers(p.pod)
            if names:
                init.setdefault(p.workload_ref, []).extend(names)
                init_pods[p.workload_ref] = init_pods.get(p.workload_ref, 0) + 1
        out = [Finding("hostnetwork-pod", r, self.name, "hostNetwork: true", count=n) for r, n in host.items()]
        out += [
            Finding("init-container-networking", r, self.name, _names(names), count=init_pods[r])
            for r, names in init.items()
        ]
        return out

    def labels(self) -> list[Finding]:
        if self.ns.mode != "mixed":
            return []
        shown = [f"{k}={v}" for k, v in sorted(self.ns.labels.items()) if k.startswith(("istio", "istio.io"))]
        return [Finding("mixed-mode-namespace", f"Namespace {self.name}", self.name, ", ".join(shown))]

    def strict_unmeshed(self) -> list[Finding]:
        by_source: dict[str, list[str]] = {}
        for p in self.ns.workload_pods:
            if p.mode != "none":
                continue
            decision = self.a.mtls.workload(self.name, p.pod.meta.labels)
            if decision.mode == "STRICT":
                source = decision.source
            elif "STRICT" in decision.ports.values() and decision.policy is not None:
                source = ref(decision.policy)  # STRICT on some ports only, from the workload policy
            else:
                continue
            by_source.setdefault(source, []).append(p.workload_ref.split(" ", 1)[1])
        return [
            Finding("strict-with-unmeshed-pods", source, self.name, _names(pods), count=len(pods))
            for source, pods in by_source.items()
        ]

    def sidecar_resources(self) -> list[Finding]:
        """Sidecar resources of the namespace, and a root-namespace one without workloadSelector: the mesh-wide
        default every sidecar in this namespace without its own Sidecar uses (ztunnel and waypoints use none)."""
        own = self.a.resources("Sidecar", self.name)
        out = [Finding("sidecar-resource-ignored", ref(s), self.name, _sidecar_detail(s)) for s in own]
        if self.name != self.a.root and not any(not P.selector_labels(s) for s in own):
            out += [
                Finding("sidecar-resource-ignored", ref(s), self.name, _sidecar_detail(s), why="root-sidecar")
                for s in self.a.resources("Sidecar", self.a.root)
                if not P.selector_labels(s)
            ]
        return out

    def telemetry(self) -> list[Finding]:
        """Only sidecars produce per-pod L7 telemetry: nothing is lost where no pod runs one."""
        sidecars = sum(1 for p in self.ns.workload_pods if p.mode == "sidecar")
        if not sidecars:
            return []
        return [Finding("telemetry-detail-loss", f"Namespace {self.name}", self.name, count=sidecars)]

    def network_policies(self) -> list[Finding]:
        """Ingress NetworkPolicies that isolate workload pods without admitting HBONE (15008): once enrolled, every
        mesh connection to them is dropped by the CNI (cluster/analysis/networkpolicy.py)."""
        policies = self.a.resources("NetworkPolicy", self.name)
        if not policies:
            return []
        blocked: dict[tuple[str, ...], list[str]] = {}
        for p in self.ns.workload_pods:
            found = isolation(policies, p.pod.meta.labels)
            if found is not None and not found.admits_hbone:
                blocked.setdefault(found.policies, []).append(p.workload_ref.split(" ", 1)[1])
        return [
            Finding(
                "networkpolicy-blocks-hbone",
                f"NetworkPolicy {self.name}/{names[0]}",
                self.name,
                _names(workloads),
                count=len(workloads),
            )
            for names, workloads in blocked.items()
        ]

    def topology(self) -> list[Finding]:
        """VM workloads (WorkloadEntry/WorkloadGroup) in the namespace: ambient has no VM support."""
        out: list[Finding] = []
        for kind in ("WorkloadGroup", "WorkloadEntry"):
            for r in self.a.resources(kind, self.name):
                if kind == "WorkloadEntry" and r.meta.labels.get("istio.io/autoRegistrationGroup"):
                    continue  # created by its WorkloadGroup: one finding for the group
                out.append(Finding("unsupported-topology", ref(r), self.name, kind, why="topology-vm"))
        return out

    def waypoint_usable(self) -> list[Finding]:
        """Labels naming a waypoint that cannot serve (istiod's WaypointBound reasons, computed from the objects)."""
        return [
            Finding("waypoint-not-usable", target, self.name, f"{found.wanted[0]}/{found.wanted[1]}", why=found.problem)
            for target, found in self.a.waypoints.unusable(self.name, [p.pod for p in self.ns.pods])
            if found.wanted is not None
        ]

    def istiod_status(self) -> list[Finding]:
        """istiod's own verdicts where it writes them (cluster/analysis/istiod.py)."""
        policies = [r for kind in ISTIOD_POLICY_KINDS for r in self.in_scope(kind)]
        services = self.a.waypoints.services_in.get(self.name, [])
        return [
            Finding("istiod-rejected-policy", resource, self.name, condition_text(c))
            for resource, c in not_applied(policies, services)
        ]


TRAFFIC_KINDS = frozenset({"VirtualService", "DestinationRule", "HTTPRoute", "GRPCRoute"})
BYPASS_CODES = frozenset({"l7-authz-needs-waypoint", "request-authn-needs-waypoint", "wasm-needs-waypoint"})


def _account(principal: str) -> str:
    """ "cluster.local/ns/shop/sa/web" -> "shop/web" ("" when it is not a SPIFFE-style principal)."""
    parts = principal.split("/")
    return f"{parts[-3]}/{parts[-1]}" if len(parts) >= 4 and parts[-4] == "ns" and parts[-2] == "sa" else ""


def _sidecar_detail(sidecar: Resource) -> str:
    outbound = sidecar.spec.get("outboundTrafficPolicy")
    mode = outbound.get("mode") if isinstance(outbound, dict) else None
    return f"outboundTrafficPolicy {mode}" if mode else "egress/ingress scoping"


def direct_callers(analysis: Analysis) -> set[str]:
    """Service accounts ("ns/sa") of waypoints and gateways: their traffic reaches pods without a waypoint."""
    accounts = {f"{w.namespace}/{sa}" for w in analysis.waypoints.by_key.values() for sa in w.service_accounts}
    accounts |= {f"{w.namespace}/{w.name}" for w in analysis.waypoints.by_key.values()}  # istioctl's default account
    for view in analysis.namespaces.values():
        accounts |= {f"{p.pod.meta.namespace}/{p.pod.service_account}" for p in view.pods if p.role == "gateway"}
    return accounts


def namespaces_with_workloads(analysis: Analysis) -> set[str]:
    """Namespaces with workload pods (any phase) or Deployments: only these get findings. One pass over the pods."""
    found = {ns.name for ns in analysis.namespaces.values() if ns.workload_pods}
    found |= {
        p.meta.namespace for p in analysis.snapshot.pods if p.meta.namespace not in found and pod_role(p) == "workload"
    }  # pods that are not running (Pending, crash-looping) still make a namespace worth checking
    found |= {
        w.meta.namespace
        for w in analysis.snapshot.workloads
        if w.kind == "Deployment" and L.GATEWAY_NAME not in w.template_labels
    }
    return found


def bypass_rules(analysis: Analysis, with_workloads: list[NamespaceView]) -> None:
    """Partial migration: callers still on sidecars send HBONE straight to the destination's ztunnel and skip its
    waypoint (istio.io docs ambient/migrate/before-you-begin: "traffic from those workloads bypasses waypoints
    entirely"), so the waypoint's L7 policy is not applied to them."""
    sidecar_namespaces = {ns.name: ns for ns in with_workloads if any(p.mode == "sidecar" for p in ns.workload_pods)}
    for ns in with_workloads:
        if not any(f.code in BYPASS_CODES for f in ns.findings):
            continue
        callers = sorted(n for n in sidecar_namespaces if n != ns.name)
        if not callers:
            continue
        ns.findings.append(
            Finding(
                "sidecar-callers-bypass-waypoint", f"Namespace {ns.name}", ns.name, _names(callers), count=len(callers)
            )
        )


def _waypoint_needs(analysis: Analysis, waypoint: Waypoint, users: list[str], l7: dict[str, list[Finding]]) -> bool:
    for ns in users:
        # A policy that breaks because of the waypoint (identity rules) is no reason to keep it.
        if any(f.code in WAYPOINT_CODES and f.why != "why-identity" for f in l7.get(ns, [])):
            return True
        for kind in ("AuthorizationPolicy", "RequestAuthentication", "WasmPlugin", "Telemetry"):
            for r in analysis.resources(kind, ns):
                refs = P.target_refs(r)
                if any(x.get("kind") == "Gateway" and x.get("name") == waypoint.name for x in refs):
                    return True
                if kind in ("WasmPlugin", "Telemetry") and any(x.get("kind") == "Service" for x in refs):
                    return True
        # Gateway API mesh routes (parentRefs to a Service or to the waypoint), once the reader lists them.
        for kind in ("HTTPRoute", "GRPCRoute"):
            for route in analysis.resources(kind, ns):
                parents = [p for p in P.listed(route.spec.get("parentRefs")) if isinstance(p, dict)]
                if any(p.get("kind") == "Service" or p.get("name") == waypoint.name for p in parents):
                    return True
    return False


def waypoint_rules(analysis: Analysis, l7: dict[str, list[Finding]]) -> None:
    wps = analysis.waypoints
    used = {
        other.name: {w.key for w in wps.used_by(other.name, [p.pod for p in other.pods])}
        for other in analysis.namespaces.values()
        if wps.by_key
    }
    for ns in analysis.candidates:
        for wp in wps.in_namespace(ns.name):
            users = [name for name, keys in used.items() if wp.key in keys]
            if not _waypoint_needs(analysis, wp, sorted({ns.name, *users}), l7):
                detail = f"used by: {', '.join(users)}" if users else "nothing opts in with istio.io/use-waypoint"
                ns.findings.append(Finding("waypoint-without-l7-need", f"Gateway {wp.key}", ns.name, detail))


def cluster_rules(analysis: Analysis) -> list[Finding]:
    opts = analysis.options
    out: list[Finding] = []
    newest = analysis.version.newest
    minimum = parse_version(opts.version_minimum)
    if newest is not None and minimum is not None and newest < minimum:
        out.append(
            Finding(
                VERSION_CODE,
                analysis.version.source,
                version=fmt(newest) or "",
                minimum=opts.version_minimum,
                detail=analysis.version.revision,
            )
        )
    for node in old_kernels(analysis.snapshot.nodes, opts.kernel_minimum):
        out.append(Finding("kernel-too-old", f"Node {node.name}", detail=node.kernel, minimum=opts.kernel_minimum))
    for cni in detect_cni(analysis.snapshot.workloads):
        w = cni.workload
        out.append(Finding("cni-compatibility", f"DaemonSet {w.meta.namespace}/{w.meta.name}", detail=cni.name))
    for topo in cluster_topologies(analysis.snapshot, analysis.root):
        out.append(Finding("unsupported-topology", topo.resource, detail=topo.detail, why=topo.why))
    return sorted(out, key=sort_key)


def apply_rules(analysis: Analysis) -> None:
    analysis.cluster_findings = cluster_rules(analysis)
    cluster_blocked = any(f.severity == "blocker" for f in analysis.cluster_findings)
    l7: dict[str, list[Finding]] = {}
    occupied = namespaces_with_workloads(analysis)
    with_workloads = [ns for ns in analysis.candidates if ns.name in occupied]
    direct = direct_callers(analysis)
    vs_features: dict[tuple[str, str], list[str]] = {}  # shared by every namespace's rules
    for ns in with_workloads:  # a namespace without workloads has nothing to break: no findings
        rules = NamespaceRules(analysis, ns, direct, vs_features)
        found = rules.l7_policies()
        l7[ns.name] = found
        ns.findings = [
            *rules.control_plane(),
            *rules.topology(),
            *rules.network_policies(),
            *rules.envoy_filters(),
            *rules.mtls_disable(),
            *found,
            *rules.ambient_without_waypoint(found),
            *rules.waypoint_usable(),
            *rules.istiod_status(),
            *rules.pods(),
            *rules.labels(),
            *rules.strict_unmeshed(),
            *rules.sidecar_resources(),
            *rules.telemetry(),
        ]
    bypass_rules(analysis, with_workloads)
    waypoint_rules(analysis, l7)

    for ns in analysis.candidates:
        ns.findings.sort(key=sort_key)
        ns.verdict = verdict(ns.findings, cluster_blocked=cluster_blocked)
