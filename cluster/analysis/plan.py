"""A namespace's sidecar -> ambient migration plan, with its real names in the exact commands.

Order follows Istio's ambient migration guide rather than the seed where they differ: waypoints and
policy rebinding (`targetRefs`) come before the namespace switches, so no L7 policy is left bound to
a `selector` that ztunnel would enforce as deny-all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cluster.analysis import labels as L
from cluster.analysis import policies as P
from cluster.analysis.findings import Finding
from cluster.analysis.model import Analysis, NamespaceView
from cluster.analysis.modes import sidecar_labels
from cluster.analysis.rules import VERSION_CODE
from cluster.analysis.version import DEFAULT_REVISION, Revision, fmt, parse_version
from cluster.snapshot import Pod

RESTARTABLE = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}
GATEWAY_API_CRDS = (
    "kubectl get crd gateways.gateway.networking.k8s.io || "
    'kubectl kustomize "github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.2.1" | kubectl apply -f -'
)
KIND_PLURAL = {
    "EnvoyFilter": "envoyfilter",
    "PeerAuthentication": "peerauthentication",
    "AuthorizationPolicy": "authorizationpolicy",
    "RequestAuthentication": "requestauthentication",
    "VirtualService": "virtualservice",
    "DestinationRule": "destinationrule",
    "WasmPlugin": "wasmplugin",
    "WorkloadEntry": "workloadentry",
    "WorkloadGroup": "workloadgroup",
    "HTTPRoute": "httproute",
    "GRPCRoute": "grpcroute",
    "Telemetry": "telemetry",
    "Service": "service",
}
TRUST_DOMAIN = "cluster.local"  # Istio's default trust domain (meshConfig.trustDomain); the plan says to check it


@dataclass
class Step:
    key: str  # message key of the step title (handlers/messages_data/cluster.yaml)
    commands: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    namespace: str
    mode: str
    verdict: str
    fix_first: list[Finding]
    steps: list[Step]
    rollback: list[str]


def _ztunnel_installed(analysis: Analysis) -> bool:
    if any(w.kind == "DaemonSet" and w.meta.name == "ztunnel" for w in analysis.snapshot.workloads):
        return True
    return any(p.pod.meta.labels.get("app") == "ztunnel" for ns in analysis.namespaces.values() for p in ns.pods)


def _restart_commands(ns: NamespaceView) -> tuple[list[str], list[str]]:
    """`kubectl rollout restart` for each controller running sidecars; bare pods are deleted by name."""
    restarts: dict[str, str] = {}
    bare: list[str] = []
    for p in ns.workload_pods:
        if p.mode != "sidecar":
            continue
        kind, name = p.workload
        if kind in RESTARTABLE:
            restarts.setdefault(f"{RESTARTABLE[kind]}/{name}", "")
        else:
            bare.append(p.pod.meta.name)
    commands = [f"kubectl rollout restart {target} -n {ns.name}" for target in sorted(restarts)]
    return commands, [f"kubectl delete pod {name} -n {ns.name}" for name in sorted(set(bare))]


def _pod_level_injection(ns: NamespaceView) -> list[str]:
    """Pod-template labels keep injecting sidecars once the namespace labels are gone: remove them."""
    commands: dict[str, str] = {}
    for p in ns.workload_pods:
        kind, name = p.workload
        labels = p.pod.meta.labels
        if kind not in RESTARTABLE:
            continue
        for key in (L.SIDECAR_INJECT, L.REVISION):
            if key == L.SIDECAR_INJECT and labels.get(key) != "true":
                continue
            if key == L.REVISION and not labels.get(key):
                continue
            path = "/spec/template/metadata/labels/" + key.replace("~", "~0").replace("/", "~1")
            commands[f"{kind}/{name}/{key}"] = (
                f"kubectl patch {RESTARTABLE[kind]} {name} -n {ns.name} --type=json "
                f'-p \'[{{"op":"remove","path":"{path}"}}]\''
            )
    return [commands[k] for k in sorted(commands)]


def _review(f: Finding) -> str | None:
    kind, _, where = f.resource.partition(" ")
    ns, _, name = where.partition("/")
    plural = KIND_PLURAL.get(kind)
    return f"kubectl get {plural} {name} -n {ns} -o yaml" if plural and name else None


def _target_revision(analysis: Analysis) -> Revision | None:
    """Where a namespace on a too-old revision should go: the newest revision at the minimum or later
    (the default one on a tie, since its namespaces need no revision label)."""
    minimum = parse_version(analysis.options.version_minimum)
    fit = [r for r in analysis.version.revisions.values() if minimum is not None and r.version >= minimum]
    return max(fit, key=lambda r: (r.version, r.name == DEFAULT_REVISION)) if fit else None


def _revision_move(analysis: Analysis, ns: NamespaceView) -> Step | None:
    """A namespace pinned to a too-old revision moves to a newer one first, sidecars and all, and is
    verified there before any ambient change: one control-plane change at a time (canary upgrade)."""
    old = next((f for f in ns.findings if f.code == VERSION_CODE), None)
    target = _target_revision(analysis)
    if old is None or target is None:
        return None
    commands = [f"kubectl label namespace {ns.name} {L.INJECTION}-"] if ns.labels.get(L.INJECTION) else []
    commands.append(f"kubectl label namespace {ns.name} {L.REVISION}={target.name} --overwrite")
    commands += [c for part in _restart_commands(ns) for c in part]
    commands.append("istioctl proxy-status  # the ISTIOD column names the new revision's istiod")
    fields = {"revision": target.name, "version": fmt(target.version) or "", "old": old.detail}
    return Step("plan.step.revision", commands, fields)


def plan(analysis: Analysis, ns: NamespaceView) -> Plan:
    name, root = ns.name, analysis.root
    fix_first = [f for f in [*analysis.cluster_findings, *ns.findings] if f.severity == "blocker"]
    steps: list[Step] = []

    prepare = ["istioctl version"]
    if _ztunnel_installed(analysis):
        prepare.append(f"kubectl get pods -n {root} -l app=ztunnel")
    else:
        prepare += [
            f"helm upgrade istiod istio/istiod -n {root} --reuse-values --set profile=ambient --wait",
            f"helm install istio-cni istio/cni -n {root} --set profile=ambient --wait",
            f"helm install ztunnel istio/ztunnel -n {root} --wait",
            "# installed with istioctl instead: istioctl install --set profile=ambient --skip-confirmation",
        ]
    steps.append(Step("plan.step.prepare", prepare))

    move = _revision_move(analysis, ns)
    if move is not None:  # the move resolves the namespace's version blocker: not left to the fix step
        steps.append(move)
    to_fix = [f for f in fix_first if move is None or f.code != VERSION_CODE]
    if to_fix:
        reviews = [c for c in dict.fromkeys(_review(f) for f in to_fix) if c]
        steps.append(Step("plan.step.fix", reviews, {"count": str(len(to_fix))}))

    unserved = [f for f in ns.findings if f.severity == "waypoint" and not f.served]
    waypoint_applied = False
    if unserved:
        commands = []
        if not analysis.waypoints.serves_anything_in(name):
            if "Gateway" in analysis.snapshot.missing_kinds:  # waypoints are Gateway API Gateways
                commands.append(GATEWAY_API_CRDS)
            commands.append(f"istioctl waypoint apply -n {name} --enroll-namespace --wait")
            waypoint_applied = True
        selector_bound = sorted({f.resource for f in ns.findings if f.code == "selector-policy-l7"})
        for resource in selector_bound:
            kind, _, where = resource.partition(" ")
            policy_ns, _, policy = where.partition("/")
            commands.append(
                f"kubectl edit {KIND_PLURAL.get(kind, kind.lower())} {policy} -n {policy_ns}"
                "  # replace spec.selector with spec.targetRefs (kind: Service)"
            )
        commands += _bind_namespace_wide(analysis, ns)
        steps.append(Step("plan.step.waypoint", commands))
    steps += [step for step in (_rebind_envoy_only(ns), _fix_waypoints(ns), _istiod_status(ns)) if step is not None]
    bypass = _bypass_deny(analysis, ns)

    original = [f"{k}={v}" for k, v in sorted(ns.labels.items()) if k in (L.INJECTION, L.REVISION) and v]
    if move is not None:  # from here on the namespace is on the new revision: a rollback returns there
        original = [f"{L.REVISION}={move.fields['revision']}"]
    restarts, bare = _restart_commands(ns)
    if ns.mode != "ambient":
        switch = []
        if sidecar_labels(ns.labels):
            switch += [f"kubectl label namespace {name} {label.split('=')[0]}-" for label in original]
        switch += _pod_level_injection(ns)
        if ns.labels.get(L.DATAPLANE_MODE) != "ambient":
            switch.append(f"kubectl label namespace {name} {L.DATAPLANE_MODE}=ambient")
        steps.append(Step("plan.step.switch", switch))
    else:
        steps.append(Step("plan.step.already-ambient"))
    if restarts or bare:  # also in an ambient namespace whose pods still run the sidecars they started with
        steps.append(Step("plan.step.restart", restarts + bare))
    if bypass is not None:  # after the restart: from then on the namespace's own pods are behind ztunnel
        steps.append(bypass)

    verify = [f"istioctl analyze -n {name}", "istioctl ztunnel-config workloads"]
    verify.append(
        f"kubectl get pods -n {name} -o custom-columns="
        "NAME:.metadata.name,REDIRECTION:'.metadata.annotations.ambient\\.istio\\.io/redirection'"
    )
    if unserved or analysis.waypoints_of(name):
        verify.append(f"istioctl waypoint list -n {name}")
    steps.append(Step("plan.step.verify", verify))

    rollback: list[str] = []
    if ns.mode != "ambient":
        rollback.append(f"kubectl label namespace {name} {L.DATAPLANE_MODE}-")
        if sidecar_labels(ns.labels):
            rollback += [f"kubectl label namespace {name} {label} --overwrite" for label in original]
            rollback += restarts
        if waypoint_applied:
            rollback += [
                f"kubectl label namespace {name} {L.USE_WAYPOINT}-",
                f"istioctl waypoint delete waypoint -n {name}",
            ]
    return Plan(name, ns.mode, ns.verdict, fix_first, steps, rollback)


def _bind_namespace_wide(analysis: Analysis, ns: NamespaceView) -> list[str]:
    """L7 policies with neither selector nor targetRefs stay on ztunnel: they need targetRefs to reach a waypoint."""
    commands = []
    for finding in ns.findings:
        if finding.code not in ("l7-authz-needs-waypoint", "request-authn-needs-waypoint"):
            continue
        kind, _, where = finding.resource.partition(" ")
        policy_ns, _, name = where.partition("/")
        policy = next((r for r in analysis.resources(kind, policy_ns) if r.meta.name == name), None)
        if policy is not None and P.binding(policy) == "namespace":
            commands.append(
                f"kubectl edit {KIND_PLURAL.get(kind, kind.lower())} {name} -n {policy_ns}"
                "  # add spec.targetRefs (kind: Service, or the waypoint Gateway)"
            )
    return list(dict.fromkeys(commands))


def _split(resource: str) -> tuple[str, str, str]:
    kind, _, where = resource.partition(" ")
    ns, _, name = where.partition("/")
    return kind, ns, name


def _rebind_envoy_only(ns: NamespaceView) -> Step | None:
    """WasmPlugins bound by selector and VirtualServices kept where no waypoint reads them (their own findings)."""
    commands: list[str] = []
    for f in ns.findings:
        _, where, name = _split(f.resource)
        if f.code == "wasm-needs-waypoint" and not f.served:
            commands.append(
                f"kubectl edit wasmplugin {name} -n {where}"
                "  # replace spec.selector with spec.targetRefs (kind: Gateway, name: the waypoint; or kind: Service)"
            )
        elif f.code == "virtualservice-scope":
            commands += [
                f"kubectl get virtualservice {name} -n {where} -o yaml > {name}.yaml"
                f"  # set metadata.namespace: {ns.name}, drop status/resourceVersion/uid",
                f"kubectl apply -n {ns.name} -f {name}.yaml && kubectl delete virtualservice {name} -n {where}",
            ]
    commands = list(dict.fromkeys(commands))
    return Step("plan.step.policies", commands) if commands else None


def _fix_waypoints(ns: NamespaceView) -> Step | None:
    """One command per cause istiod would report for a label naming a waypoint that cannot serve."""
    commands: list[str] = []
    for f in ns.findings:
        if f.code != "waypoint-not-usable":
            continue
        wp_ns, _, wp = f.detail.partition("/")
        if f.why == "wp-missing":
            commands.append(f"istioctl waypoint apply -n {wp_ns} --name {wp} --wait")
        elif f.why == "wp-not-admitted":
            commands.append(
                f"kubectl edit gateway {wp} -n {wp_ns}"
                f"  # listener port 15008: allowedRoutes.namespaces.from: All (or Selector matching {ns.name})"
            )
        elif f.why in ("wp-excludes-services", "wp-excludes-workloads"):
            commands.append(f"kubectl label gateway {wp} -n {wp_ns} istio.io/waypoint-for=all --overwrite")
        else:
            commands.append(f"kubectl get gateway {wp} -n {wp_ns}  # PROGRAMMED must be True with an ADDRESS")
            commands.append(f"kubectl describe gateway {wp} -n {wp_ns}")
    commands = list(dict.fromkeys(commands))
    return Step("plan.step.waypoint-fix", commands) if commands else None


def _istiod_status(ns: NamespaceView) -> Step | None:
    commands = []
    for f in ns.findings:
        if f.code != "istiod-rejected-policy":
            continue
        kind, where, name = _split(f.resource)
        plural = KIND_PLURAL.get(kind, kind.lower())
        commands.append(f"kubectl get {plural} {name} -n {where} -o jsonpath='{{.status.conditions}}'")
    commands = list(dict.fromkeys(commands))
    return Step("plan.step.istiod", commands) if commands else None


def _principal(namespace: str, account: str) -> str:
    return f"{TRUST_DOMAIN}/ns/{namespace}/sa/{account}"


def _bypass_deny(analysis: Analysis, ns: NamespaceView) -> Step | None:
    """The migration guide's bypass-deny policy (istio.io docs ambient/migrate/migrate-policies, "Prevent waypoint
    bypass" and "Bypass prevention during incremental migration"): a DENY bound with `selector` so that ztunnel
    enforces it, whose notPrincipals are the waypoint's service account and those of the callers still on sidecars,
    plus ingress gateways (they reach pods directly unless istio.io/ingress-use-waypoint is set)."""
    finding = next((f for f in ns.findings if f.code == "sidecar-callers-bypass-waypoint"), None)
    if finding is None:
        return None
    waypoints = analysis.waypoints_of(ns.name)
    principals = [
        _principal(w.namespace, account) for w in waypoints for account in (w.service_accounts or (w.name,))
    ] or [_principal(ns.name, "waypoint")]  # the account `istioctl waypoint apply` creates
    callers = sorted(
        {
            (p.pod.meta.namespace, p.pod.service_account)
            for other in analysis.namespaces.values()
            if other.name != ns.name
            for p in other.pods
            if (p.role == "workload" and p.mode == "sidecar")
            or (p.role == "gateway" and not _waypoint_pod(analysis, p.pod))
        }
    )
    principals += [_principal(n, a) for n, a in callers]
    lines = [
        "kubectl apply -f - <<'EOF'",
        "apiVersion: security.istio.io/v1",
        "kind: AuthorizationPolicy",
        "metadata:",
        "  name: deny-waypoint-bypass",
        f"  namespace: {ns.name}",
        "spec:",
        "  # no selector: every workload of the namespace; ztunnel enforces it (never use targetRefs here)",
        "  action: DENY",
        "  rules:",
        "  - from:",
        "    - source:",
        "        notPrincipals:",
        *(f"        - {p}" for p in dict.fromkeys(principals)),
        "EOF",
        f"# trust domain {TRUST_DOMAIN} assumed: check meshConfig.trustDomain. Remove each caller from the list",
        "# once it runs in ambient. Plaintext callers (no principal, e.g. Prometheus scraping) are denied too.",
    ]
    return Step("plan.step.bypass", lines, {"callers": finding.detail})


def _waypoint_pod(analysis: Analysis, pod: Pod) -> bool:
    """A waypoint's own pod (its gateway-name label names a waypoint), as opposed to an ingress gateway's."""
    name = pod.meta.labels.get(L.GATEWAY_NAME)
    return name is not None and (pod.meta.namespace, name) in analysis.waypoints.by_key
