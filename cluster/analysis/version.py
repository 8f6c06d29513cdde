"""The Istio control-plane version, from istiod's image tag (Deployment, then pods, then istio.io/rev)."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class IstioVersion:
    versions: tuple[Version, ...]  # every control plane (revision) found, ascending
    source: str  # "Deployment istio-system/istiod", "pod …", "istio.io/rev …" or ""

    @property
    def newest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


def fmt(version: Version | None) -> str | None:
    return ".".join(str(n) for n in version) if version else None


def istio_version(snapshot: Snapshot) -> IstioVersion:
    found: dict[Version, str] = {}
    for w in snapshot.workloads:
        if w.kind == "Deployment" and _is_istiod(w.meta.name, {**w.template_labels, **w.meta.labels}):
            v = _istiod_image(w.containers)
            if v:
                found.setdefault(v, f"Deployment {w.meta.namespace}/{w.meta.name}")
    if not found:
        for pod in snapshot.pods:
            if _is_istiod(pod.meta.name, pod.meta.labels):
                v = _istiod_image(pod.containers)
                if v:
                    found.setdefault(v, f"Pod {pod.meta.namespace}/{pod.meta.name}")
    if not found:
        istiods = [(w.meta.namespace, w.meta.name, w.meta.labels) for w in snapshot.workloads if w.kind == "Deployment"]
        istiods += [(p.meta.namespace, p.meta.name, p.meta.labels) for p in snapshot.pods]
        for ns, name, labels in istiods:
            if _is_istiod(name, labels) and (v := parse_revision(labels.get(L.REVISION, ""))):
                found.setdefault(v, f"istio.io/rev of {ns}/{name}")
    if not found:  # no istiod visible (e.g. a namespace-scoped dump): revision names on namespaces
        for meta in snapshot.namespaces:
            if v := parse_revision(meta.labels.get(L.REVISION, "")):
                found.setdefault(v, f"istio.io/rev of namespace {meta.name}")
    ordered = tuple(sorted(found))
    return IstioVersion(ordered, found[ordered[-1]] if ordered else "")
