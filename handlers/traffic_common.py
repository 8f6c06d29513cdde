"""Observed traffic in the cluster commands: read in the background, bounded, and never in the way.

The manifests answer first: Prometheus is queried on a worker thread while the cluster is read and
analysed; the command waits for it at most the client's timeout (plus a little), and a fault
becomes a note in the user's language beside a complete manifest-based answer.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass

from cluster.analysis.findings import Finding
from cluster.traffic import NamespaceTraffic, ObservedTraffic, PrometheusError, read_observed
from handlers.cluster_common import table
from handlers.context import Context
from handlers.digest_model import DigestState
from handlers.messages import msg
from handlers.reply import Section
from knowledge import Language

PLAINTEXT_CODE = "plaintext-traffic-observed"
CALLERS_SHOWN = 5
GRACE_SECONDS = 2.0
"""Beyond the client's own timeout, for the parallel queries to come back."""


def _run(future: Future[ObservedTraffic], ctx: Context) -> None:
    try:
        assert ctx.traffic is not None
        future.set_result(read_observed(ctx.traffic, ctx.traffic_window))
    except BaseException as exc:
        future.set_exception(exc)


def start_observed(ctx: Context) -> Future[ObservedTraffic] | None:
    """Begin reading observed traffic (None when no Prometheus is configured)."""
    if ctx.traffic is None:
        return None
    future: Future[ObservedTraffic] = Future()
    threading.Thread(target=_run, args=(future, ctx), name="observed-traffic", daemon=True).start()
    return future


def finish_observed(future: Future[ObservedTraffic] | None, ctx: Context) -> ObservedTraffic | None:
    """The reading, or an ObservedTraffic holding only the fault that stopped it."""
    if future is None:
        return None
    timeout = getattr(ctx.traffic, "timeout", 10.0) + GRACE_SECONDS
    try:
        return future.result(timeout=timeout)
    except PrometheusError as exc:
        return ObservedTraffic(window=ctx.traffic_window, faults=[exc], queries=1)
    except TimeoutError:
        fault = PrometheusError("timeout", f"no answer within {timeout:g}s")
        return ObservedTraffic(window=ctx.traffic_window, faults=[fault], queries=1)
    except Exception as exc:  # a bug must not cost the manifest answer: say it as a bad response
        fault = PrometheusError("bad-response", exc.__class__.__name__)
        return ObservedTraffic(window=ctx.traffic_window, faults=[fault], queries=1)


def fault_lines(observed: ObservedTraffic, ctx: Context) -> list[str]:
    """Bilingual notes: which faults, which families had no series; empty when all is well."""
    lang = ctx.language
    url = getattr(ctx.traffic, "url", "")
    lines: list[str] = []
    for kind in sorted({f.kind for f in observed.faults}):
        detail = next(f.detail for f in observed.faults if f.kind == kind)
        lines.append(msg(f"traffic.fault.{kind}", lang, url=url, detail=detail))
    if observed.faults and observed.answered:
        lines.append(msg("traffic.fault.partial", lang))
    elif observed.faults:
        lines.append(msg("traffic.fault.manifests_only", lang))
    if observed.answered and not observed.namespaces:
        lines.append(msg("traffic.empty", lang, window=observed.window))
    elif observed.empty and observed.answered:
        lines.append(msg("traffic.missing_families", lang, families=", ".join(observed.empty), window=observed.window))
    return lines


def callers_text(traffic: NamespaceTraffic, language: Language, top: int = CALLERS_SHOWN) -> str:
    callers = traffic.plaintext_callers()
    named = [
        f"{msg('traffic.outside_mesh', language) if name == 'unknown' else name} ({amount:.0f})"
        for name, amount in callers[:top]
    ]
    if len(callers) > top:
        named.append(msg("digest.more", language, count=len(callers) - top))
    return ", ".join(named)


def plaintext_finding(traffic: NamespaceTraffic, window: str, language: Language) -> Finding | None:
    """`plaintext-traffic-observed` for a namespace that is, or will be, STRICT; None when all was mutual TLS."""
    if traffic.plaintext <= 0:
        return None
    detail = msg("traffic.finding_detail", language, window=window, callers=callers_text(traffic, language))
    return Finding(
        code=PLAINTEXT_CODE,
        resource=f"Namespace {traffic.name}",
        namespace=traffic.name,
        detail=detail,
        count=round(traffic.plaintext),
    )


def share_text(traffic: NamespaceTraffic | None) -> str:
    share = traffic.share if traffic else None
    return "-" if share is None else f"{100 * share:.1f}%"


@dataclass(frozen=True)
class StrictCheck:
    """Is it safe to switch `namespace` to STRICT, judging by the traffic? (for `ask` and `plan`)"""

    namespace: str
    safe: bool | None
    """None: Prometheus is not configured, failed, or saw no traffic into the namespace."""
    answer: str
    finding: Finding | None = None


def strict_check(ctx: Context, namespace: str) -> StrictCheck:
    """Is it safe to switch `namespace` to STRICT? One observed-traffic reading (4 grouped queries).

    For `ask` ("safe to switch to STRICT?"): `.safe` is True/False/None and `.answer` is a sentence
    in ctx.language that starts with the direct answer.
    """
    if ctx.traffic is None:
        return StrictCheck(namespace, None, msg("traffic.strict.off", ctx.language, namespace=namespace))
    return strict_verdict(finish_observed(start_observed(ctx), ctx), ctx, namespace)


def strict_verdict(observed: ObservedTraffic | None, ctx: Context, namespace: str) -> StrictCheck:
    lang = ctx.language
    if observed is None:
        return StrictCheck(namespace, None, msg("traffic.strict.off", lang, namespace=namespace))
    if not observed.answered:
        notes = " ".join(fault_lines(observed, ctx))
        return StrictCheck(namespace, None, msg("traffic.strict.unknown", lang, namespace=namespace, why=notes))
    traffic = observed.namespace(namespace)
    if traffic is None or traffic.total <= 0:
        return StrictCheck(
            namespace, None, msg("traffic.strict.no_traffic", lang, namespace=namespace, window=observed.window)
        )
    finding = plaintext_finding(traffic, observed.window, lang)
    if finding is None:
        text = msg(
            "traffic.strict.safe", lang, namespace=namespace, window=observed.window, total=f"{traffic.total:.0f}"
        )
        return StrictCheck(namespace, True, text)
    text = msg(
        "traffic.strict.unsafe",
        lang,
        namespace=namespace,
        window=observed.window,
        count=finding.count,
        callers=callers_text(traffic, lang),
    )
    return StrictCheck(namespace, False, text, finding)


def notes_section(observed: ObservedTraffic | None, ctx: Context) -> list[Section]:
    if observed is None:
        return []
    lines = fault_lines(observed, ctx)
    return [Section(text="\n".join(lines))] if lines else []


def observed_mtls(
    observed: ObservedTraffic | None, declared: dict[str, str], ctx: Context
) -> tuple[list[Section], dict[str, object] | None]:
    """The observed-mTLS table for the namespaces in `declared` (name -> declared mode), and its JSON."""
    if observed is None:
        return [], None
    lang = ctx.language
    sections = notes_section(observed, ctx)
    rows: list[list[str]] = []
    workload_rows: list[list[str]] = []
    items: list[dict[str, object]] = []
    for name, mode in declared.items():
        traffic = observed.namespace(name)
        if traffic is None or traffic.total <= 0:
            continue
        callers = traffic.plaintext_callers()
        rows.append(
            [
                name,
                mode,
                f"{traffic.mutual:.0f}",
                f"{traffic.plaintext:.0f}",
                share_text(traffic),
                ", ".join(sorted(traffic.reporters)),
                callers_text(traffic, lang) or "-",
            ]
        )
        workloads = []
        for w in sorted(traffic.workloads.values(), key=lambda w: w.name):
            named = sorted(w.callers.items(), key=lambda pair: (-pair[1], pair[0]))
            workloads.append(
                {
                    "name": w.name,
                    "mutual_tls": round(w.mutual, 3),
                    "plaintext": round(w.plaintext, 3),
                    "plaintext_callers": [{"caller": c, "count": round(n, 3)} for c, n in named],
                }
            )
            if w.plaintext > 0:
                shown = ", ".join(
                    f"{msg('traffic.outside_mesh', lang) if c == 'unknown' else c} ({n:.0f})"
                    for c, n in named[:CALLERS_SHOWN]
                )
                workload_rows.append([name, w.name, f"{w.plaintext:.0f}", shown])
        items.append(
            {
                "name": name,
                "declared": mode,
                "mutual_tls": round(traffic.mutual, 3),
                "plaintext": round(traffic.plaintext, 3),
                "share": None if traffic.share is None else round(traffic.share, 4),
                "reporters": sorted(traffic.reporters),
                "plaintext_callers": [{"caller": c, "count": round(n, 3)} for c, n in callers],
                "workloads": workloads,
            }
        )
    if rows:
        sections.append(
            Section(
                heading=msg("traffic.observed.heading", lang, window=observed.window),
                table=table("traffic.observed.columns", ctx, rows),
            )
        )
    if workload_rows:
        sections.append(
            Section(
                heading=msg("traffic.observed.workload_heading", lang),
                table=table("traffic.observed.workload_columns", ctx, workload_rows),
            )
        )
    data: dict[str, object] = {
        "window": observed.window,
        "complete": observed.complete,
        "faults": [{"kind": f.kind, "detail": f.detail} for f in observed.faults],
        "empty_families": list(observed.empty),
        "queries": observed.queries,
        "namespaces": items,
    }
    return sections, data


def add_observed_shares(state: DigestState, observed: ObservedTraffic | None) -> None:
    """The digest's observed mTLS share per namespace (in place); nothing without Prometheus."""
    if observed is None:
        return
    state.observed_window = observed.window
    state.observed_faults = sorted({f.kind for f in observed.faults})
    for name, facts in state.namespaces.items():
        traffic = observed.namespace(name)
        facts.observed_mtls = traffic.share if traffic else None
