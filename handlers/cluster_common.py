"""What every cluster command shares: namespace validation, one analysis, partial-read notes, findings."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from cluster.analysis import Analysis, NamespaceView, Options, analyze
from cluster.analysis.findings import Finding, render
from cluster.analysis.reading import kubectl_line
from cluster.analysis.version import fmt, parse_version
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, positional
from handlers.reply import FindingItem, Reply, Section, Table, error_reply

# RFC 1123 label, as Kubernetes requires of namespace names.
NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class NamespacesAction(argparse.Action):
    """Positional namespaces and -n/--namespace add up to one list, as kubectl's `-n` and
    `precheck payments orders` both name namespaces."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option: str | None = None
    ) -> None:
        current = list(getattr(namespace, self.dest, None) or [])
        new = values if isinstance(values, list) else [values]
        current += [str(v) for v in new if v and str(v) not in current]
        setattr(namespace, self.dest, current)


def namespace_arg(help_: str = "namespaces (default: all)") -> Any:
    """The NAMESPACE positionals every cluster command shares (a model field): none, one or several."""
    return positional(nargs="*", names="namespace", action=NamespacesAction, help=help_)


@dataclass(frozen=True)
class NamespaceArgs(Args):
    """`COMMAND [NAMESPACE …]`: the arguments of the reading commands."""

    namespace: list[str] | None = namespace_arg()  # noqa: RUF009  (a dataclasses.field with a list factory)


@dataclass
class Scope:
    analysis: Analysis
    namespaces: list[NamespaceView]
    named: str | None  # the namespace asked for, when exactly one was


def options(ctx: Context) -> Options:
    return Options(root_namespace=ctx.root_namespace, kernel_minimum=ctx.kernel_min)


def bad_namespace(name: str | list[str] | None, ctx: Context) -> Reply | None:
    for each in _names(name):
        if not NAMESPACE_NAME.match(each):
            return error_reply(msg("cluster.bad_namespace", ctx.language, name=each), language=ctx.language)
    return None


def _names(name: str | list[str] | None) -> list[str]:
    return [name] if isinstance(name, str) else list(name or [])


def scope(ctx: Context, name: str | list[str] | None, *, candidates_only: bool = False) -> Scope | Reply:
    """Validate the NAMESPACE arguments, read and analyse the cluster once, and pick the namespaces."""
    if (bad := bad_namespace(name, ctx)) is not None:
        return bad
    analysis = analyze(ctx.snapshot(), options(ctx))
    names = _names(name)
    if not names:
        pool = analysis.candidates if candidates_only else list(analysis.namespaces.values())
        covered = analysis.snapshot.scope  # a dump collected with -n holds only these namespaces' workloads
        if covered is not None:
            pool = [view for view in pool if view.name in covered]
        return Scope(analysis, pool, None)
    views = []
    for each in names:
        view = analysis.namespace(each)
        if view is None:
            return error_reply(
                msg("cluster.unknown_namespace", ctx.language, name=each, count=len(analysis.namespaces)),
                language=ctx.language,
            )
        if candidates_only and view.system:
            return error_reply(msg("cluster.system_namespace", ctx.language, name=each), language=ctx.language)
        views.append(view)
    return Scope(analysis, views, names[0] if len(names) == 1 else None)


MAX_NOTED_OBJECTS = 5


def source_notes(analysis: Analysis, ctx: Context) -> tuple[list[Section], dict[str, Any]]:
    """Sections and JSON naming the cluster and saying what could not be read: the answer is partial, never a
    crash."""
    snap = analysis.snapshot
    lang = ctx.language
    lines: list[str] = [msg("cluster.name", lang, name=snap.cluster)] if snap.cluster else []
    unread = {issue.kind for issue in snap.issues}
    absent = [k for k in snap.missing_kinds if k not in unread]
    if absent and snap.source.startswith("dump:"):
        lines.append(msg("cluster.absent_kinds", lang, kinds=", ".join(absent), kubectl=kubectl_line(absent)))
    elif absent:
        lines.append(msg("cluster.missing_kinds", lang, kinds=", ".join(absent)))
    grouped: dict[tuple[str, str], list[str]] = {}  # kinds failing for one reason share a line
    for issue in snap.issues:
        status = f"{issue.status} " if issue.status is not None else ""
        grouped.setdefault((status, issue.explain(lang)), []).append(issue.kind)
    for (status, message), kinds in grouped.items():
        lines.append(msg("cluster.issue", lang, kind=", ".join(kinds), status=status, message=message).strip())
    if snap.issues:
        lines.append(msg("cluster.partial", lang))
    if snap.notes:
        objects = [
            msg(
                "cluster.skipped_object",
                lang,
                resource=n.resource,
                field=n.field,
                expected=msg(f"type.{n.expected}", lang),
                found=msg(f"type.{n.found}", lang) if n.found in TYPE_NAMES else n.found,
            )
            for n in snap.notes[:MAX_NOTED_OBJECTS]
        ]
        more = ["…"] if len(snap.notes) > MAX_NOTED_OBJECTS else []
        lines.append(msg("cluster.skipped", lang, count=len(snap.notes), objects="; ".join([*objects, *more])))
    data: dict[str, Any] = {
        "cluster": snap.cluster or None,
        "missing_kinds": list(snap.missing_kinds),
        "issues": [{"kind": i.kind, "status": i.status, "message": i.message} for i in snap.issues],
        "skipped": [n.as_json() for n in snap.notes],
    }
    return ([Section(text="\n".join(lines))] if lines else []), data


def with_cluster(reply: Reply, name: str, ctx: Context) -> Reply:
    """A reply that names the cluster it was read from (digests and other composed messages)."""
    if not name:
        return reply
    sections = [Section(text=msg("cluster.name", ctx.language, name=name)), *reply.sections]
    return reply.model_copy(update={"sections": sections, "data": {**reply.data, "cluster": name}})


TYPE_NAMES = frozenset({"map", "list", "string", "number", "boolean", "null"})


def version_text(analysis: Analysis, ctx: Context) -> str:
    newest = analysis.version.newest
    if newest is None:
        return msg("cluster.version_unknown", ctx.language)
    text = msg("cluster.version", ctx.language, version=fmt(newest), source=analysis.version.source)
    production = parse_version(analysis.options.production_version)
    minimum = parse_version(analysis.options.version_minimum)
    if production and minimum and minimum <= newest < production:
        text += "\n" + msg(
            "cluster.version_beta", ctx.language, version=fmt(newest), production=analysis.options.production_version
        )
    return text


def finding_json(f: Finding, ctx: Context) -> dict[str, str]:
    _, message, kb = render(f, ctx.kb, ctx.language)
    return {"code": f.code, "severity": f.severity, "resource": f.resource, "message": message, "kb": kb}


def finding_items(findings: list[Finding], ctx: Context) -> list[FindingItem]:
    return [FindingItem.model_validate(finding_json(f, ctx)) for f in findings]


def table(key: str, ctx: Context, rows: list[list[str]]) -> Table:
    return Table(columns=msg(key, ctx.language).split("|"), rows=rows)
