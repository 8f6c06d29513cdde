"""What every cluster command shares: namespace validation, one analysis, partial-read notes, findings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cluster.analysis import Analysis, NamespaceView, Options, analyze
from cluster.analysis.findings import Finding, render
from cluster.analysis.version import fmt, parse_version
from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, positional
from handlers.reply import FindingItem, Reply, Section, Table, error_reply

# RFC 1123 label, as Kubernetes requires of namespace names.
NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def namespace_arg(help_: str = "a namespace (default: all)") -> Any:
    """The optional NAMESPACE positional every cluster command shares (a model field)."""
    return positional(nargs="?", names="namespace", help=help_)


@dataclass(frozen=True)
class NamespaceArgs(Args):
    """`COMMAND [NAMESPACE]`: the arguments of the reading commands."""

    namespace: str | None = namespace_arg()


@dataclass
class Scope:
    analysis: Analysis
    namespaces: list[NamespaceView]
    named: str | None  # the namespace asked for, if any


def options(ctx: Context) -> Options:
    return Options(root_namespace=ctx.root_namespace, kernel_minimum=ctx.kernel_min)


def bad_namespace(name: str | None, ctx: Context) -> Reply | None:
    if name is not None and not NAMESPACE_NAME.match(name):
        return error_reply(msg("cluster.bad_namespace", ctx.language, name=name), language=ctx.language)
    return None


def scope(ctx: Context, name: str | None, *, candidates_only: bool = False) -> Scope | Reply:
    """Validate the NAMESPACE argument, read and analyse the cluster once, and pick the namespaces."""
    if (bad := bad_namespace(name, ctx)) is not None:
        return bad
    analysis = analyze(ctx.snapshot(), options(ctx))
    if name is None:
        pool = analysis.candidates if candidates_only else list(analysis.namespaces.values())
        return Scope(analysis, pool, None)
    view = analysis.namespace(name)
    if view is None:
        return error_reply(
            msg("cluster.unknown_namespace", ctx.language, name=name, count=len(analysis.namespaces)),
            language=ctx.language,
        )
    if candidates_only and view.system:
        return error_reply(msg("cluster.system_namespace", ctx.language, name=name), language=ctx.language)
    return Scope(analysis, [view], name)


def source_notes(analysis: Analysis, ctx: Context) -> tuple[list[Section], dict[str, Any]]:
    """Sections and JSON saying what could not be read: the answer is partial, never a crash."""
    snap = analysis.snapshot
    lang = ctx.language
    lines: list[str] = []
    if snap.missing_kinds:
        lines.append(msg("cluster.missing_kinds", lang, kinds=", ".join(snap.missing_kinds)))
    for issue in snap.issues:
        status = str(issue.status) if issue.status is not None else ""
        lines.append(msg("cluster.issue", lang, kind=issue.kind, status=status, message=issue.message).strip())
    if snap.issues:
        lines.append(msg("cluster.partial", lang))
    data: dict[str, Any] = {
        "missing_kinds": list(snap.missing_kinds),
        "issues": [{"kind": i.kind, "status": i.status, "message": i.message} for i in snap.issues],
    }
    return ([Section(text="\n".join(lines))] if lines else []), data


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
