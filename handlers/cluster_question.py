"""Questions that name a namespace of the cluster: answered from the cluster, with the knowledge behind it.

"payments 네임스페이스 ambient로 옮겨도 돼?" -> the precheck of `payments` (its verdict and blockers by
name first) plus the knowledge answer; "is orders on STRICT mTLS?" -> the mTLS of `orders`. `ask`
uses this on every surface (CLI, `/mesh ask`, mentions, DMs, threads) when a cluster is configured.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cluster.errors import ClusterError
from handlers.context import Context, NoClusterError
from handlers.dispatch import run_text
from handlers.messages import msg
from handlers.registry import COMMANDS
from handlers.reply import Reply
from knowledge import Language
from knowledge.base import yaml_load

DATA = Path(__file__).with_name("cluster_question.yaml")
DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
MIN_WORKLOAD_NAME = 4
"""Shorter workload names (api, db, web) are too often ordinary words to be taken as named."""


class Explain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str
    ko: str


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    command: str
    explain: Explain
    words: list[str] = Field(min_length=1)


class Intents(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    intents: list[Intent] = Field(min_length=1)
    ambiguous: list[str] = []
    namespace_words: list[str] = []


@cache
def _intents() -> Intents:
    return Intents.model_validate(yaml_load(DATA.read_text(encoding="utf-8")))


def _has_word(text: str, word: str) -> bool:
    if HANGUL.search(word):
        return word in text
    return re.search(rf"(?<![a-z0-9-]){re.escape(word)}(?![a-z0-9-])", text) is not None


def intent_of(question: str) -> Intent | None:
    """The intent (cluster command) that answers the question, by its words; None when it asks none of them."""
    text = question.lower()
    for intent in _intents().intents:
        if any(_has_word(text, w) for w in intent.words):
            return intent
    return None


def intent_command(question: str) -> str | None:
    """The cluster command the question's words ask for, if any."""
    intent = intent_of(question)
    return intent.command if intent else None


def candidate_names(question: str) -> list[str]:
    """Words shaped like namespace names, in question order; ordinary words only next to "namespace"."""
    text = question.lower()
    data = _intents()
    near_namespace = any(_has_word(text, w) for w in data.namespace_words)
    seen: list[str] = []
    for match in DNS_LABEL.finditer(text):
        word = match.group(0)
        if word in data.ambiguous and not (near_namespace and _next_to_namespace_word(text, match)):
            continue
        if word not in seen:
            seen.append(word)
    return seen


def _next_to_namespace_word(text: str, match: re.Match[str]) -> bool:
    around = text[max(0, match.start() - 12) : match.end() + 14]
    return any(w in around for w in _intents().namespace_words)


def find_namespace(question: str, names: Collection[str]) -> str | None:
    existing = set(names)
    return next((w for w in candidate_names(question) if w in existing), None)


def cluster_names(ctx: Context) -> list[str]:
    """The namespaces of the configured cluster this surface may read; [] without a cluster or on a fault."""
    if ctx.read_cluster is None:
        return []
    try:
        names = [ns.name for ns in ctx.snapshot().namespaces]
    except (ClusterError, NoClusterError):
        return []
    allowed = ctx.visible
    return [n for n in names if allowed is None or n in allowed]


def cluster_workloads(ctx: Context) -> dict[str, str]:
    """Workload (Deployment/DaemonSet) name -> its namespace, within what this surface may read."""
    if ctx.read_cluster is None:
        return {}
    try:
        workloads = ctx.snapshot().workloads
    except (ClusterError, NoClusterError):
        return {}
    allowed = ctx.visible
    return {
        w.meta.name: w.meta.namespace
        for w in workloads
        if w.meta.namespace and (allowed is None or w.meta.namespace in allowed)
    }


def find_workload(question: str, workloads: dict[str, str]) -> tuple[str, str] | None:
    """The first workload the question names (a word equal to its name; ordinary words never count)."""
    ambiguous = set(_intents().ambiguous)
    for word in candidate_names(question):
        if word in workloads and word not in ambiguous and len(word) >= MIN_WORKLOAD_NAME:
            return word, workloads[word]
    return None


@dataclass(frozen=True)
class ClusterAnswer:
    lead: list[str]
    """The answer's first lines, from the cluster's reading (the verdict and its blockers by name)."""
    reply: Reply
    command: str
    direct: bool = True
    """The question asked what the reading answers (its verdict leads the answer); False: a status
    line that follows the knowledge answer ("how do I roll back payments?")."""


def _items(findings: list[dict[str, Any]], limit: int = 6) -> str:
    shown = [f"{f['resource']} ({f['code']})" for f in findings[:limit]]
    more = len(findings) - limit
    return ", ".join(shown) + (f" (+{more})" if more > 0 else "")


def cluster_answer(
    question: str, ctx: Context, namespace: str, *, fallback: str | None = None, direct: bool = False
) -> ClusterAnswer | None:
    """The namespace's precheck, mTLS or status (by the question's words), led by a direct sentence."""
    asked = intent_of(question)
    intent = asked or (intent_by_command(fallback) if fallback else None)
    if intent is None or intent.command not in COMMANDS:
        return None
    reply = run_text(intent.command, [namespace], ctx)
    if reply.error:
        return None
    lang = ctx.language
    lead = _lead(intent.command, reply.data, namespace, lang)
    return (
        ClusterAnswer(lead=lead, reply=reply, command=intent.command, direct=direct or asked is not None)
        if lead
        else None
    )


def intent_by_command(command: str) -> Intent | None:
    return next((i for i in _intents().intents if i.command == command), None)


def _lead(command: str, data: dict[str, Any], namespace: str, lang: Language) -> list[str]:
    rows = [ns for ns in data.get("namespaces", []) if isinstance(ns, dict) and ns.get("name") == namespace]
    if not rows:
        return []
    row = rows[0]
    if command == "precheck":
        findings = [f for f in row.get("findings", []) if isinstance(f, dict)]
        by = {sev: [f for f in findings if f.get("severity") == sev] for sev in ("blocker", "waypoint", "warning")}
        verdict = str(row.get("verdict", "unknown"))
        key = f"cq.lead.{verdict}" if verdict in ("blocked", "needs-waypoint", "ready") else "cq.lead.unknown"
        listed = by["blocker"] if verdict == "blocked" else by["waypoint"]
        lines = [msg(key, lang, namespace=namespace, count=len(listed), items=_items(listed))]
        if by["warning"]:
            lines.append(msg("cq.lead.warnings", lang, count=len(by["warning"]), items=_items(by["warning"], 3)))
        return lines
    if command == "mtls":
        lines = [msg("cq.lead.mtls", lang, namespace=namespace, mode=row.get("mode"), source=row.get("source"))]
        ports = [
            f"{w.get('name')}:{port} {mode}"
            for w in row.get("workloads", [])
            if isinstance(w, dict)
            for port, mode in (w.get("ports") or {}).items()
            if mode != row.get("mode")
        ]
        if ports:
            lines.append(msg("cq.lead.mtls_ports", lang, items=", ".join(ports[:6])))
        return lines
    pods = row.get("pods") or {}
    waypoints = ", ".join(row.get("waypoints") or []) or msg("cq.none", lang)
    return [
        msg(
            "cq.lead.status",
            lang,
            namespace=namespace,
            mode=row.get("mode"),
            sidecar=pods.get("sidecar", 0),
            ambient=pods.get("ambient", 0),
            none=pods.get("none", 0),
            waypoints=waypoints,
        )
    ]
