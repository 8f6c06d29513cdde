"""The bundled demo cluster: a folder of `kubectl get -o yaml` style dumps that `meshbot demo` tours.

Namespaces (each shows a mode, a verdict and the findings a real cluster would raise):
payments (sidecar; EnvoyFilter with Lua -> blocked), orders (sidecar by istio.io/rev; L7 policy and
JWT bound by selector, traffic split with retries -> needs-waypoint), catalog (ambient with a waypoint
and an L7 policy bound by targetRefs -> ready), search (ambient, fault injection and no waypoint ->
blocked), inventory (ambient, a waypoint nothing needs, whose presence makes ztunnel check the namespace-wide
L4 policy on caller namespaces against the waypoint's identity -> blocked), staging (both injection and ambient labels),
reports (PeerAuthentication DISABLE -> blocked), legacy (no mesh, hostNetwork exporter), billing
(sidecar, still pinned by istio.io/rev to the old revision 1-21 of a canary upgrade -> blocked),
partners (sidecar; a VM WorkloadEntry, a selector-bound WasmPlugin, a VirtualService for pricing's host
-> blocked), pricing (ambient; names a waypoint that is not Programmed, a CUSTOM policy istiod did not
accept for ztunnel -> blocked).
Cluster: istiod 1.23.2 (default revision, ambient Beta) beside istiod-1-21 (1.21.6), ztunnel and
istio-cni, Cilium, one node on kernel 5.4. Together they trigger every finding code.
"""

from pathlib import Path

DEMO_PATH = Path(__file__).parent

__all__ = ["DEMO_PATH"]
