"""The Istio control-plane version, from istiod's image tag (Deployment, then pods, then istio.io/rev).

Several revisions can run side by side (canary upgrades): Deployments `istiod-<rev>` labelled
`istio.io/rev: <rev>`, each serving the namespaces labelled with its name. The newest version is
the cluster's; `revisions` maps each revision name ("default" when unlabelled) to its version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cluster.analysis import labels as L
from cluster.snapshot import Container, Snapshot

Version = tuple[int, int, int]
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")
_REVISION = re.compile(r"^v?(\d+)[-_.](\d+)(?:[-_.](\d+))?(?:$|[-_.])")
# istiod ships as ".../pilot:TAG" (docker.io/istio, gcr.io/istio-release, vendor mirrors).
_IMAGE_NAMES = ("pilot", "istiod")


def parse_version(text: str) -> Version | None:
    """'1.24.0-distroless' -> (1, 24, 0); '1.23' -> (1, 23, 0); None when not a version."""
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def parse_revision(revision: str) -> Version | None:
    """Revision names often carry the version: '1-23-2' -> (1, 23, 2); 'canary' -> None."""
    match = _REVISION.match(revision.strip())
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def image_tag(image: str) -> str | None:
    """The tag of an image reference, ignoring a registry port and a digest."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _istiod_image(containers: tuple[Container, ...]) -> Version | None:
    for c in containers:
        repo = c.image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
        if any(name in repo for name in _IMAGE_NAMES):
            tag = image_tag(c.image)
            found = parse_version(tag) if tag else None
            if found:
                return found
    return None


def _is_istiod(name: str, labels: dict[str, str]) -> bool:
    return labels.get("app") == "istiod" or labels.get("istio") == "pilot" or name.startswith("istiod")


DEFAULT_REVISION = "default"


@dataclass(frozen=True)
class Revision:
    name: str  # the istio.io/rev value, "default" when absent
    version: Version
    source: str  # "Deployment istio-system/istiod-1-21"


@dataclass(frozen=True)
class IstioVersion:
    versions: tuple[Version, ...]  # every control plane (revision) found, ascending
    source: str  # "Deployment istio-system/istiod", "pod …", "istio.io/rev …" or ""
    revision: str = ""  # the revision name of the newest control plane
    revisions: Mapping[str, Revision] = field(default_factory=dict)  # istiod Deployments by revision name

    @property
    def newest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


def fmt(version: Version | None) -> str | None:
    return ".".join(str(n) for n in version) if version else None


def _revision_name(labels: Mapping[str, str]) -> str:
    return labels.get(L.REVISION) or DEFAULT_REVISION


def namespace_revision(labels: Mapping[str, str]) -> str:
    """The revision that injects and configures a namespace: `istio-injection` means the default one,
    and `istio.io/rev` counts only without it (ISTIO-FACTS.md, injection precedence)."""
    return DEFAULT_REVISION if labels.get(L.INJECTION) else _revision_name(labels)


def _revisions(snapshot: Snapshot) -> dict[str, Revision]:
    """istiod Deployments by revision; two of one revision (several clusters' dumps): the newer counts."""
    out: dict[str, Revision] = {}
    for w in snapshot.workloads:
        labels = {**w.template_labels, **w.meta.labels}
        if w.kind != "Deployment" or not _is_istiod(w.meta.name, labels):
            continue
        name = _revision_name(labels)
        version = _istiod_image(w.containers) or parse_revision(labels.get(L.REVISION, ""))
        if version and (name not in out or out[name].version < version):
            out[name] = Revision(name, version, f"Deployment {w.meta.namespace}/{w.meta.name}")
    return out


def istio_version(snapshot: Snapshot) -> IstioVersion:
    found: dict[Version, tuple[str, str]] = {}  # version -> (source, revision name)
    for w in snapshot.workloads:
        labels = {**w.template_labels, **w.meta.labels}
        if w.kind == "Deployment" and _is_istiod(w.meta.name, labels):
            v = _istiod_image(w.containers)
            if v:
                found.setdefault(v, (f"Deployment {w.meta.namespace}/{w.meta.name}", _revision_name(labels)))
    if not found:
        for pod in snapshot.pods:
            if _is_istiod(pod.meta.name, pod.meta.labels):
                v = _istiod_image(pod.containers)
                if v:
                    found.setdefault(v, (f"Pod {pod.meta.namespace}/{pod.meta.name}", _revision_name(pod.meta.labels)))
    if not found:
        istiods = [(w.meta.namespace, w.meta.name, w.meta.labels) for w in snapshot.workloads if w.kind == "Deployment"]
        istiods += [(p.meta.namespace, p.meta.name, p.meta.labels) for p in snapshot.pods]
        for ns, name, labels in istiods:
            if _is_istiod(name, labels) and (v := parse_revision(labels.get(L.REVISION, ""))):
                found.setdefault(v, (f"istio.io/rev of {ns}/{name}", labels[L.REVISION]))
    if not found:  # no istiod visible (e.g. a namespace-scoped dump): revision names on namespaces
        for meta in snapshot.namespaces:
            if v := parse_revision(meta.labels.get(L.REVISION, "")):
                found.setdefault(v, (f"istio.io/rev of namespace {meta.name}", meta.labels[L.REVISION]))
    ordered = tuple(sorted(found))
    source, revision = found[ordered[-1]] if ordered else ("", "")
    return IstioVersion(ordered, source, revision, _revisions(snapshot))
