"""Mesh topologies ambient does not support (DESIGN.md `unsupported-topology`), as far as objects show them.

Sources: istio.io docs ambient/install/multicluster ("Primary remote configuration is not currently supported";
multi-network multicluster is Alpha from 1.27, single-network "untested, and may be broken"); ambient has no
VM onboarding (istio/istio issues 45718 "ambient: support multicluster VMs"; WorkloadGroup auto-registration
is a sidecar-on-VM feature); SPIRE-issued identities are the sidecar injection template `spire`
(istio.io docs ops/integrations/spire), which ztunnel does not use.
"""

from __future__ import annotations

from dataclasses import dataclass

from cluster.snapshot import Snapshot

NETWORK_LABEL = "topology.istio.io/network"
EASTWEST_NAMES = ("istio-eastwestgateway", "eastwestgateway")
SPIRE_NAMES = ("spire-agent", "spire-server")


@dataclass(frozen=True, slots=True)
class Topology:
    resource: str
    detail: str  # the evidence, as it appears in the objects
    why: str  # a key of finding_phrases.yaml


def cluster_topologies(snapshot: Snapshot, root: str) -> list[Topology]:
    """Cluster-wide topologies: multi-network, primary-remote (istiod elsewhere), SPIRE."""
    out: list[Topology] = []
    root_ns = next((n for n in snapshot.namespaces if n.name == root), None)
    if root_ns is not None and root_ns.labels.get(NETWORK_LABEL):
        out.append(
            Topology(f"Namespace {root}", f"{NETWORK_LABEL}={root_ns.labels[NETWORK_LABEL]}", "topology-multi-network")
        )
    for w in snapshot.workloads:
        labels = {**w.template_labels, **w.meta.labels}
        name = w.meta.name
        if w.kind == "Deployment" and (name in EASTWEST_NAMES or labels.get("istio") == "eastwestgateway"):
            out.append(Topology(f"Deployment {w.meta.namespace}/{name}", "east-west gateway", "topology-multi-network"))
        if name in SPIRE_NAMES or labels.get("app") in SPIRE_NAMES:
            out.append(Topology(f"{w.kind} {w.meta.namespace}/{name}", name, "topology-spire"))
    istiod_service = next((s for s in snapshot.services if s.meta.namespace == root and s.meta.name == "istiod"), None)
    if istiod_service is not None and not istiod_service.selector:
        # A remote cluster's istiod Service has no selector: its endpoints point at the primary's istiod.
        has_istiod = any(w.kind == "Deployment" and w.meta.name.startswith("istiod") for w in snapshot.workloads)
        if not has_istiod:
            out.append(Topology(f"Service {root}/istiod", "istiod Service without selector", "topology-primary-remote"))
    spire_pods = {
        p.meta.namespace for p in snapshot.pods if "spire" in p.meta.annotations.get("inject.istio.io/templates", "")
    }
    for ns in sorted(spire_pods):
        out.append(Topology(f"Namespace {ns}", "inject.istio.io/templates: spire", "topology-spire"))
    return list({t.resource: t for t in out}.values())
