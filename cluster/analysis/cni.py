"""Node-level prerequisites of ambient: the CNI (Cilium, Calico eBPF) and node kernels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cluster.snapshot import Node, Workload

_KERNEL = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class CniDetection:
    workload: Workload
    name: str  # "Cilium" or "Calico eBPF"


def _repos(w: Workload) -> set[str]:
    """Image repository basenames: `quay.io/cilium/cilium:v1.15@sha256:…` -> `cilium`."""
    return {c.image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower() for c in w.containers}


def _env(w: Workload, name: str) -> str | None:
    for c in w.containers:
        for key, value in c.env:
            if key == name:
                return value
    return None


def detect_cni(workloads: list[Workload]) -> list[CniDetection]:
    """Cilium agents, and Calico only when its eBPF dataplane is on (plain iptables Calico needs nothing)."""
    found: list[CniDetection] = []
    for w in workloads:
        if w.kind != "DaemonSet":
            continue
        names = {c.name for c in w.containers}
        repos = _repos(w)
        # The agent only: cilium-envoy and the operator run beside it and would repeat the finding.
        if "cilium-agent" in names or "cilium" in repos:
            found.append(CniDetection(w, "Cilium"))
        elif "calico-node" in {*names, w.meta.name} and ((_env(w, "FELIX_BPFENABLED") or "").lower() == "true"):
            found.append(CniDetection(w, "Calico eBPF"))
    return found


def parse_kernel(text: str) -> tuple[int, int, int] | None:
    """'5.4.0-1103-aws' -> (5, 4, 0); None when unreadable."""
    match = _KERNEL.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


def old_kernels(nodes: list[Node], minimum: str) -> list[Node]:
    floor = parse_kernel(minimum) or (5, 8, 0)
    return [n for n in nodes if (k := parse_kernel(n.kernel)) is not None and k < floor]
