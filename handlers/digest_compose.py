"""The digest as a Reply: the picture at a glance, then what changed. Bounded for any cluster size.

Every list is cut to its top entries with "…and N more", so the message stays within Slack's
block and text limits whether the cluster has 5 namespaces or 5,000.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from handlers.digest_model import DigestChanges, DigestState
from handlers.messages import msg
from handlers.reply import Reply, Section, Table
from knowledge import Language

TOP = 10
"""Rows in each table, lines in the change list."""
MODES = ("ambient", "sidecar", "mixed", "none")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def cut(lines: Sequence[str], language: Language, top: int = TOP) -> list[str]:
    if len(lines) <= top:
        return list(lines)
    return [*lines[:top], msg("digest.more", language, count=len(lines) - top)]


def summary(state: DigestState, language: Language) -> str:
    modes = Counter(ns.mode for ns in state.namespaces.values())
    meshed = [ns for ns in state.namespaces.values() if ns.meshed]
    strict = sum(1 for ns in meshed if ns.mtls == "STRICT")
    blocked = [ns for ns in state.namespaces.values() if any(f.startswith("blocker ") for f in ns.findings)]
    blockers = sum(1 for ns in state.namespaces.values() for f in ns.findings if f.startswith("blocker "))
    blockers += sum(1 for f in state.cluster_findings if f.startswith("blocker "))
    unknown = msg("digest.unknown", language)
    return msg(
        "digest.summary",
        language,
        modes=" · ".join(f"{m} {modes[m]}" for m in MODES if modes[m]) or "0",
        sidecar_pods=state.sidecar_pods(),
        sidecar_namespaces=sum(1 for ns in state.namespaces.values() if ns.pods.get("sidecar", 0)),
        strict=strict,
        meshed=len(meshed),
        percent=f"{100 * strict / len(meshed):.0f}%" if meshed else "-",
        mesh=state.mesh_mtls,
        version=state.istio_version or unknown,
        blockers=blockers,
        blocked=len(blocked),
        savings=f"~{state.savings_percent:.0f}%" if state.savings_percent is not None else unknown,
    )


def change_lines(changes: DigestChanges, language: Language) -> list[str]:
    lines: list[str] = []
    for m in changes.modes:
        lines.append(msg("digest.change.mode", language, namespace=m.namespace, before=m.before, after=m.after))
    for m in changes.mtls:
        lines.append(msg("digest.change.mtls", language, namespace=m.namespace, before=m.before, after=m.after))
    if changes.sidecar_pods:
        s = changes.sidecar_pods
        lines.append(msg("digest.change.sidecars", language, before=s.before, after=s.after))
    lines += [msg("digest.change.added", language, namespace=n) for n in changes.namespaces_added]
    lines += [msg("digest.change.removed", language, namespace=n) for n in changes.namespaces_removed]
    lines += [msg("digest.change.started", language, namespace=n) for n in changes.migrations_started]
    lines += [
        msg("digest.change.phase", language, namespace=m.namespace, before=m.before, after=m.after)
        for m in changes.phases
    ]
    lines += [msg("digest.change.ended", language, namespace=n) for n in changes.migrations_ended]
    lines += [msg("digest.change.appeared", language, finding=_finding(f)) for f in changes.findings_appeared]
    lines += [msg("digest.change.resolved", language, finding=_finding(f)) for f in changes.findings_resolved]
    return lines


def _finding(key: str) -> str:
    """`severity code resource @namespace` as `code` on `resource`."""
    parts = key.split(" ")
    code = parts[1] if len(parts) > 1 else key
    rest = " ".join(parts[2:])
    return f"`{code}` {rest}".strip()


def observed_sections(state: DigestState, changes: DigestChanges, language: Language) -> list[Section]:
    """Observed mTLS share per namespace (lowest first: plaintext remains there) and its change since the last one."""
    if state.observed_window is None:
        return []
    note = (
        msg("traffic.digest.faults", language, kinds=", ".join(state.observed_faults)) if state.observed_faults else ""
    )
    moves = sorted(changes.observed_mtls, key=lambda m: (float(m.after), m.namespace))
    if not moves:
        return [Section(text=note)] if note else []
    rows = []
    for m in moves[:TOP]:
        delta = f"{float(m.after) - float(m.before):+.1f} pt" if m.before else msg("traffic.digest.new", language)
        rows.append([m.namespace, f"{m.after}%", delta])
    cols = msg("traffic.digest.columns", language).split("|")
    more = msg("digest.more", language, count=len(moves) - TOP) if len(moves) > TOP else ""
    heading = msg("traffic.digest.heading", language, window=state.observed_window)
    return [
        Section(heading=heading, table=Table(columns=cols, rows=rows), text="\n".join(x for x in (more, note) if x))
    ]


def compose(
    state: DigestState,
    changes: DigestChanges,
    language: Language,
    *,
    previous_posted_at: datetime | None = None,
) -> Reply:
    sections = [Section(text=summary(state, language))]
    when = previous_posted_at or changes.since
    since = stamp(when) if when else ""
    if changes.first:
        sections.append(Section(text=msg("digest.changes.first", language)))
    elif not changes.any:
        sections.append(Section(text=msg("digest.changes.none", language, since=since, checked=stamp(state.taken_at))))
    else:
        lines = cut(change_lines(changes, language), language, top=TOP + 5)
        sections.append(
            Section(
                heading=msg("digest.changes.heading", language, since=since), text="\n".join(f"• {x}" for x in lines)
            )
        )
    sidecars = sorted(
        ((n, ns.pods.get("sidecar", 0)) for n, ns in state.namespaces.items() if ns.pods.get("sidecar", 0)),
        key=lambda pair: (-pair[1], pair[0]),
    )
    if sidecars:
        rows = [[n, str(c)] for n, c in sidecars[:TOP]]
        text = msg("digest.more", language, count=len(sidecars) - TOP) if len(sidecars) > TOP else ""
        cols = [msg("digest.col.namespace", language), msg("digest.col.pods", language)]
        sections.append(
            Section(heading=msg("digest.sidecars.heading", language), table=Table(columns=cols, rows=rows), text=text)
        )
    sections += observed_sections(state, changes, language)
    if state.migrations:
        items = sorted(state.migrations.items())
        rows = [[n, str(m.phase), str(m.days_in_phase)] for n, m in items[:TOP]]
        cols = [msg(f"digest.col.{c}", language) for c in ("namespace", "phase", "days")]
        text = msg("digest.more", language, count=len(items) - TOP) if len(items) > TOP else ""
        sections.append(
            Section(heading=msg("digest.migrations.heading", language), table=Table(columns=cols, rows=rows), text=text)
        )
    blocked = sorted(
        (n, sorted({f.split(" ")[1] for f in ns.findings if f.startswith("blocker ")}))
        for n, ns in state.namespaces.items()
        if any(f.startswith("blocker ") for f in ns.findings)
    )
    cluster_blockers = sorted({f.split(" ")[1] for f in state.cluster_findings if f.startswith("blocker ")})
    if cluster_blockers:
        blocked.insert(0, ("(cluster)", cluster_blockers))
    if blocked:
        rows = [
            [n, ", ".join(codes[:3]) + (f" +{len(codes) - 3}" if len(codes) > 3 else "")] for n, codes in blocked[:TOP]
        ]
        cols = [msg("digest.col.namespace", language), msg("digest.col.blockers", language)]
        text = msg("digest.more", language, count=len(blocked) - TOP) if len(blocked) > TOP else ""
        sections.append(
            Section(heading=msg("digest.blockers.heading", language), table=Table(columns=cols, rows=rows), text=text)
        )
    sections.append(
        Section(text=msg("digest.checked", language, checked=stamp(state.taken_at), source=state.source or "-"))
    )
    return Reply(
        title=msg("digest.title", language),
        sections=sections,
        data={
            "digest": state.model_dump(mode="json"),
            "changes": changes.model_dump(mode="json"),
            "changed": changes.any,
        },
        language=language,
    )
