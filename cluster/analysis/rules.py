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

from cluster.analysis import policies as P
from cluster.analysis.cni import detect_cni, old_kernels
from cluster.analysis.findings import Finding, sort_key
from cluster.analysis.modes import app_init_containers
from cluster.analysis.mtls import declared_mode, selects
from cluster.analysis.verdict import verdict
from cluster.analysis.version import fmt, namespace_revision, parse_version
from cluster.analysis.waypoints import Waypoint
from cluster.snapshot import Resource

if TYPE_CHECKING:
    from cluster.analysis.model import Analysis, NamespaceView

VERSION_CODE = "istio-version-too-old"
WAYPOINT_CODES = ("l7-authz-needs-waypoint", "request-authn-needs-waypoint", "l7-traffic-needs-waypoint")
MAX_NAMES = 5


def ref(resource: Resource) -> str:
    return f"{resource.kind} {resource.meta.namespace}/{resource.meta.name}"


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    more = f" (+{len(unique) - MAX_NAMES})" if len(unique) > MAX_NAMES else ""
    return ", ".join(unique[:MAX_NAMES]) + more


class NamespaceRules:
    def __init__(self, analysis: Analysis, ns: NamespaceView) -> None:
        self.a = analysis
        self.ns = ns
        self.name = ns.name
        self.waypoint_names = {w.name for w in analysis.waypoints.in_namespace(ns.name) if w.serves != "none"}

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
        wps = self.a.waypoints
        binding = P.binding(resource)
        if binding in ("selector", "namespace"):
            # Waypoints attach only policies that name them with targetRefs: with a selector or with
            # neither, the policy stays on ztunnel (where an L7 ALLOW matches nothing: deny-all).
            return False
        for target in P.target_refs(resource):
            kind, name = target.get("kind", ""), target.get("name", "")
            ns = target.get("namespace") or resource.meta.namespace
            if kind == "GatewayClass" and name == "istio-waypoint" and resource.meta.namespace == self.a.root:
                served = wps.serves_anything_in(self.name)  # a root policy for every waypoint of the mesh
            elif kind == "Service":
                served = wps.for_service_name(ns, name) is not None
            elif kind == "Gateway":
                served = (ns, name) in wps.by_key and wps.by_key[(ns, name)].serves != "none"
            else:
                served = wps.for_namespace(ns) is not None
            if not served:
                return False
        return True

    def vs_served(self, vs: Resource) -> bool:
        wps = self.a.waypoints
        results: list[bool] = []
        for host in vs.spec.get("hosts") or []:
            parts = str(host).split(".")
            if len(parts) > 2 and parts[2] != "svc":
                continue  # not a Kubernetes service name (an external host)
            ns = parts[1] if len(parts) > 1 else self.name
            if (ns, parts[0]) in wps.services:
                results.append(wps.for_service_name(ns, parts[0]) is not None)
        return all(results) if results else wps.serves_anything_in(self.name)

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
            patches = [p for p in ef.spec.get("configPatches") or [] if isinstance(p, dict)]
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
            attributes = P.authz_l7_attributes(policy)
            if not attributes:
                continue  # ports, principals, namespaces, IP blocks: ztunnel enforces these at L4
            served = self.target_served(policy)
            out.append(Finding("l7-authz-needs-waypoint", ref(policy), self.name, ", ".join(attributes), served=served))
            if P.binding(policy) == "selector":
                out.append(Finding("selector-policy-l7", ref(policy), self.name, "selector"))
        for authn in self.in_scope("RequestAuthentication"):
            served = self.target_served(authn)
            out.append(Finding("request-authn-needs-waypoint", ref(authn), self.name, "JWT", served=served))
            if P.binding(authn) == "selector":
                out.append(Finding("selector-policy-l7", ref(authn), self.name, "selector"))
        for vs in self.a.resources("VirtualService", self.name):
            features = P.vs_l7_features(vs) if P.serves_mesh(vs) else []
            if features:
                served = self.vs_served(vs)
                out.append(Finding("l7-traffic-needs-waypoint", ref(vs), self.name, ", ".join(features), served=served))
        return out

    def ambient_without_waypoint(self, l7: list[Finding]) -> list[Finding]:
        """In an ambient namespace, L7 config no waypoint carries is silently not enforced (or denies all)."""
        if self.ns.mode != "ambient":
            return []
        unserved: dict[str, list[str]] = {}
        for f in l7:
            if f.code in WAYPOINT_CODES and not f.served:
                unserved.setdefault(f.resource, []).append(f.detail)
            elif f.code == "selector-policy-l7":
                unserved.setdefault(f.resource, []).append("bound by selector: waypoints ignore it")
        return [
            Finding("ambient-l7-without-waypoint", resource, self.name, "; ".join(details))
            for resource, details in unserved.items()
        ]

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
        return [
            Finding("sidecar-resource-ignored", ref(s), self.name, f"namespace mode {self.ns.mode}")
            for s in self.a.resources("Sidecar", self.name)
        ]

    def telemetry(self) -> list[Finding]:
        sidecars = sum(1 for p in self.ns.workload_pods if p.mode == "sidecar")
        if self.ns.mode not in ("sidecar", "mixed") and not sidecars:
            return []
        return [Finding("telemetry-detail-loss", f"Namespace {self.name}", self.name, count=sidecars)]


def _waypoint_needs(analysis: Analysis, waypoint: Waypoint, users: list[str], l7: dict[str, list[Finding]]) -> bool:
    for ns in users:
        if any(f.code in WAYPOINT_CODES for f in l7.get(ns, [])):
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
                parents = [p for p in route.spec.get("parentRefs") or [] if isinstance(p, dict)]
                if any(p.get("kind") == "Service" or p.get("name") == waypoint.name for p in parents):
                    return True
    return False


def waypoint_rules(analysis: Analysis, l7: dict[str, list[Finding]]) -> None:
    for ns in analysis.candidates:
        for wp in analysis.waypoints.in_namespace(ns.name):
            users = [
                other.name
                for other in analysis.namespaces.values()
                if wp in analysis.waypoints.used_by(other.name, [p.pod for p in other.pods])
            ]
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
    return sorted(out, key=sort_key)


def apply_rules(analysis: Analysis) -> None:
    analysis.cluster_findings = cluster_rules(analysis)
    cluster_blocked = any(f.severity == "blocker" for f in analysis.cluster_findings)
    l7: dict[str, list[Finding]] = {}
    for ns in analysis.candidates:
        rules = NamespaceRules(analysis, ns)
        found = rules.l7_policies()
        l7[ns.name] = found
        ns.findings = [
            *rules.control_plane(),
            *rules.envoy_filters(),
            *rules.mtls_disable(),
            *found,
            *rules.ambient_without_waypoint(found),
            *rules.pods(),
            *rules.labels(),
            *rules.strict_unmeshed(),
            *rules.sidecar_resources(),
            *rules.telemetry(),
        ]
    waypoint_rules(analysis, l7)

    for ns in analysis.candidates:
        ns.findings.sort(key=sort_key)
        ns.verdict = verdict(ns.findings, cluster_blocked=cluster_blocked)
