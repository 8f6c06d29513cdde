"""`meshbot collect [-o FILE|DIR] [-n NS …]`: a complete dump of every kind meshbot reads, with a manifest.

The manifest (kind `Reading`, apiVersion meshbot.io/v1) says which kinds were read, not installed, forbidden or
failed, the cluster's name and version and when: `--from-file` on the dump then knows exactly what it holds
(cluster.completeness), unlike a `kubectl` dump where an absent kind looks like an empty one.

Objects stream from the API pages to temporary files (one per kind, written by the thread reading that kind)
and are then joined into the output, so a 20k-pod cluster is never held in memory as objects.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import yaml

from bot.config import Settings
from handlers.messages import msg
from knowledge import Language

EXIT_ERROR = 3
# `-n` scopes what the dump reports (the manifest's namespaces), not what it holds: a namespace's verdict
# depends on objects elsewhere (root-namespace policies, waypoints and VirtualServices in other namespaces,
# callers still on sidecars, istiod, ztunnel and CNI agents), so every object is kept.
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def register(commands: Any, cluster: argparse.ArgumentParser) -> None:
    collect = commands.add_parser(
        "collect",
        parents=[cluster],
        help=msg("cli.collect.summary", "en"),
    )
    collect.add_argument(
        "-o",
        "--out",
        metavar="FILE|DIR",
        default="-",
        help="a .json or .yaml file, or a folder (one file per kind plus manifest.yaml); default: JSON on stdout",
    )
    collect.add_argument("--lang", choices=["en", "ko"], default=None, help="message language")
    collect.set_defaults(run=run_collect)


class KindFiles:
    """The live reader's sink: each kind's raw objects as JSON lines in its own temporary file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, IO[str]] = {}
        self.counts: dict[str, int] = {}

    def _file(self, kind: str) -> IO[str]:
        if kind not in self.files:
            self.files[kind] = (self.folder / f"{kind}.jsonl").open("w+", encoding="utf-8")
            self.counts[kind] = 0
        return self.files[kind]

    def add(self, kind: Any, obj: dict[str, Any]) -> None:
        self._file(kind.kind).write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.counts[kind.kind] += 1

    def restart(self, kind: Any) -> None:
        handle = self._file(kind.kind)
        handle.seek(0)
        handle.truncate()
        self.counts[kind.kind] = 0

    def lines(self, kind: str) -> Any:
        handle = self.files.get(kind)
        if handle is None:
            return iter(())
        handle.flush()
        handle.seek(0)
        return (line for line in handle if line.strip())

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def run_collect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cluster_source import terminal_progress
    from cluster.errors import ClusterError

    language: Language = args.lang or settings.language
    if settings.from_file is not None:
        print(f"meshbot: {msg('collect.live_only', language)}", file=sys.stderr)
        return EXIT_ERROR
    clusters = list((settings.clusters or {"": settings.context or ""}).items())
    out = Path(args.out) if args.out != "-" else None
    if len(clusters) > 1 and (out is None or out.suffix):
        print(f"meshbot: {msg('collect.several_need_folder', language)}", file=sys.stderr)
        return EXIT_ERROR
    namespaces = sorted(set(args.namespace or [])) or None
    for name, context in clusters:
        target = out / name if out is not None and len(clusters) > 1 else out
        try:
            summary = collect(
                settings, context or None, name or None, target, namespaces, terminal_progress(), language
            )
        except ClusterError as exc:
            print(f"meshbot: {exc.explain(language)}", file=sys.stderr)
            return EXIT_ERROR
        except OSError as exc:
            print(f"meshbot: {msg('collect.cannot_write', language, path=target, reason=exc)}", file=sys.stderr)
            return EXIT_ERROR
        print(summary, file=sys.stderr)
    return 0


def collect(
    settings: Settings,
    context: str | None,
    name: str | None,
    out: Path | None,
    namespaces: list[str] | None,
    progress: Any,
    language: Language,
) -> str:
    """Read the cluster into `out` (None: stdout); the one-line summary of what was written."""
    from cluster.completeness import Manifest
    from cluster.kinds import KINDS
    from cluster.live import read_live, server_version

    with tempfile.TemporaryDirectory(prefix="meshbot-collect-") as tmp:
        files = KindFiles(Path(tmp))
        try:
            snapshot = read_live(
                kubeconfig=settings.kubeconfig,
                context=context,
                timeout=settings.request_timeout,
                name=name,
                progress=progress,
                language=language,
                sink=files,
            )
            server, version, _ = server_version(settings.kubeconfig, context, settings.request_timeout)
            manifest = Manifest.of(snapshot, server=server, version=version, namespaces=namespaces)
            kinds = [k.kind for k in KINDS]
            if out is None:
                _write_json(sys.stdout, manifest.to_object(), files, kinds)
            elif out.suffix.lower() == ".json":
                with out.open("w", encoding="utf-8") as handle:
                    _write_json(handle, manifest.to_object(), files, kinds)
            elif out.suffix.lower() in (".yaml", ".yml"):
                with out.open("w", encoding="utf-8") as handle:
                    _write_yaml(handle, manifest.to_object(), files, kinds)
            else:
                _write_folder(out, manifest.to_object(), files, kinds)
        finally:
            files.close()
    unread = [*manifest.forbidden, *manifest.failed]
    return msg(
        "collect.wrote",
        language,
        cluster=manifest.cluster,
        objects=sum(files.counts.values()),
        kinds=len(manifest.read),
        path=out if out is not None else "stdout",
        absent=", ".join(manifest.not_installed) or "-",
        unread=", ".join(unread) or "-",
    )


def _write_json(handle: IO[str], manifest: dict[str, Any], files: KindFiles, kinds: list[str]) -> None:
    """One `v1 List`, the manifest first: what `kubectl get … -o json` prints, plus the manifest."""
    handle.write('{"apiVersion":"v1","kind":"List","items":[\n')
    handle.write(json.dumps(manifest, separators=(",", ":")))
    for kind in kinds:
        for line in files.lines(kind):
            handle.write(",\n" + line.rstrip("\n"))
    handle.write('\n],"metadata":{"resourceVersion":""}}\n')


def _write_yaml(handle: IO[str], manifest: dict[str, Any], files: KindFiles, kinds: list[str]) -> None:
    """The manifest, then one `v1 List` document per kind (block style, as kubectl prints)."""
    handle.write(yaml.dump(manifest, Dumper=_Dumper, default_flow_style=False, sort_keys=False))
    for kind in kinds:
        handle.write("---\napiVersion: v1\nkind: List\nitems:")
        empty = True
        for line in files.lines(kind):
            if empty:
                handle.write("\n")
            empty = False
            handle.write(yaml.dump([json.loads(line)], Dumper=_Dumper, default_flow_style=False, sort_keys=False))
        handle.write(" []\n" if empty else "")


def _write_folder(out: Path, manifest: dict[str, Any], files: KindFiles, kinds: list[str]) -> None:
    """manifest.yaml plus one `<plural>.json` List per kind; an earlier collect's files are replaced."""
    from cluster.kinds import BY_KIND

    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.yaml").write_text(
        yaml.dump(manifest, Dumper=_Dumper, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
    for kind in kinds:
        path = out / f"{BY_KIND[kind].plural}.json"
        with path.open("w", encoding="utf-8") as handle:
            handle.write('{"apiVersion":"v1","kind":"List","items":[')
            for index, line in enumerate(files.lines(kind)):
                handle.write(("," if index else "") + "\n" + line.rstrip("\n"))
            handle.write('\n],"metadata":{"resourceVersion":""}}\n')
