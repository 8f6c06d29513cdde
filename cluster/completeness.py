"""What a reading did not see: the manifest `meshbot collect` writes, and the rules for dumps without one.

A dump with a manifest knows exactly what was read, not installed, forbidden or failed. A `kubectl` dump has
none: the dump reader records which kinds it held (`Snapshot.exported_kinds`) and the analysis applies
DESIGN's rule for them (cluster.analysis.reading), since only the analysis knows what "shows Istio" means.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cluster._texts import cluster_error, text
from cluster.kinds import BY_KIND, KINDS, Kind
from cluster.snapshot import ReadIssue, Snapshot

MANIFEST_API_VERSION = "meshbot.io/v1"
MANIFEST_KIND = "Reading"
CONFIG_GROUP_SUFFIX = "istio.io"  # Istio's own configuration groups: security.istio.io, networking.istio.io, …


def is_manifest(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == MANIFEST_KIND and obj.get("apiVersion") == MANIFEST_API_VERSION


@dataclass
class Manifest:
    """What `meshbot collect` read: every kind meshbot reads is in exactly one of the lists."""

    cluster: str
    server: str = ""
    version: str = ""  # the API server's gitVersion
    read_at: str = ""
    namespaces: list[str] | None = None  # collect -n: the namespaces whose workloads were kept
    read: list[str] = field(default_factory=list)
    not_installed: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)  # kind -> why it could not be read

    @classmethod
    def of(cls, snapshot: Snapshot, *, server: str, version: str, namespaces: list[str] | None) -> Manifest:
        unread = {issue.kind: issue for issue in snapshot.issues}
        return cls(
            cluster=snapshot.cluster,
            server=server,
            version=version,
            read_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            namespaces=namespaces,
            read=[k.kind for k in KINDS if k.kind not in unread and k.kind not in snapshot.missing_kinds],
            not_installed=[k.kind for k in KINDS if k.kind in snapshot.missing_kinds],
            forbidden=[k for k, issue in unread.items() if issue.status == 403],
            failed=[k for k, issue in unread.items() if issue.status != 403],
            messages={k: issue.message for k, issue in unread.items()},
        )

    def to_object(self) -> dict[str, Any]:
        return {
            "apiVersion": MANIFEST_API_VERSION,
            "kind": MANIFEST_KIND,
            "metadata": {"name": self.cluster},
            "cluster": {"name": self.cluster, "server": self.server, "version": self.version},
            "readAt": self.read_at,
            "namespaces": self.namespaces,
            "kinds": {
                "read": self.read,
                "notInstalled": self.not_installed,
                "forbidden": self.forbidden,
                "failed": self.failed,
            },
            "messages": self.messages,
        }

    @classmethod
    def from_object(cls, obj: dict[str, Any], where: str) -> Manifest:
        """The manifest of a dump; ClusterError when it is not the shape `collect` writes."""
        try:
            cluster = obj.get("cluster") or {}
            kinds = obj["kinds"]
            lists = {key: [str(k) for k in kinds.get(key) or []] for key in ("read", "notInstalled", "forbidden")}
            namespaces = obj.get("namespaces")
            return cls(
                cluster=str(cluster.get("name") or ""),
                server=str(cluster.get("server") or ""),
                version=str(cluster.get("version") or ""),
                read_at=str(obj.get("readAt") or ""),
                namespaces=[str(n) for n in namespaces] if isinstance(namespaces, list) else None,
                read=lists["read"],
                not_installed=lists["notInstalled"],
                forbidden=lists["forbidden"],
                failed=[str(k) for k in kinds.get("failed") or []],
                messages={str(k): str(v) for k, v in (obj.get("messages") or {}).items()},
            )
        except (AttributeError, KeyError, TypeError) as exc:
            raise cluster_error("manifest-bad", where=where) from exc


def apply_manifest(snapshot: Snapshot, manifest: Manifest) -> None:
    """The dump knows exactly what was read: not installed kinds are absent, the rest unread are issues."""
    snapshot.cluster = manifest.cluster or snapshot.cluster
    snapshot.scope = tuple(manifest.namespaces) if manifest.namespaces is not None else None
    snapshot.missing_kinds = [k for k in manifest.not_installed if k in BY_KIND]
    listed = set(manifest.read) | set(manifest.not_installed) | set(manifest.forbidden) | set(manifest.failed)
    for kind in KINDS:
        if kind.kind in manifest.forbidden or kind.kind in manifest.failed:
            status = 403 if kind.kind in manifest.forbidden else None
            reason = manifest.messages.get(kind.kind, "")
            snapshot.issues.append(_issue(kind, status, "manifest-unread", reason=reason))
        elif kind.kind not in listed:  # collected by an older meshbot that did not read this kind yet
            snapshot.issues.append(_issue(kind, None, "manifest-not-collected"))


def assume_absent(snapshot: Snapshot, kinds: Iterable[str]) -> Snapshot:
    """`--assume-absent KIND,…`: the user says these kinds have no objects; they stop making verdicts unknown."""
    named = {resolve_kind(k) for k in kinds}
    snapshot.assumed_absent = snapshot.assumed_absent | named
    snapshot.issues = [i for i in snapshot.issues if i.kind not in named]
    snapshot.missing_kinds += [k for k in sorted(named) if k not in snapshot.missing_kinds]
    return snapshot


def resolve_kind(name: str) -> str:
    """A kind from its name, plural or plural.group, any case; ClusterError naming the valid ones."""
    wanted = name.strip().lower()
    for kind in KINDS:
        if wanted in (kind.kind.lower(), kind.plural, f"{kind.plural}.{kind.group}"):
            return kind.kind
    raise cluster_error("unknown-kind", name=name, valid=", ".join(k.kind for k in KINDS))


def _issue(kind: Kind, status: int | None, key: str, **fields: Any) -> ReadIssue:
    values = {"plural": kind.plural, "group": kind.group or "core", **fields}
    return ReadIssue(kind.kind, status, text(key, "en", **values), text(key, "ko", **values))
