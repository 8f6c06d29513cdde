"""Questions that name a namespace of the cluster: answered from the cluster, with the knowledge behind it.

"payments 네임스페이스 ambient로 옮겨도 돼?" -> the precheck of `payments` plus the knowledge answer;
"is orders on STRICT mTLS?" -> the mTLS of `orders`. Surfaces call `answer_cluster_question`; it
returns None when the question names no namespace of the cluster or no intent, so the caller
falls back to the knowledge answer alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cluster.errors import ClusterError
from handlers.context import Context, NoClusterError
from handlers.dispatch import run_text
from handlers.messages import msg
from handlers.registry import COMMANDS
from handlers.reply import Reply, Section

DATA = Path(__file__).with_name("cluster_question.yaml")
DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


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
    return Intents.model_validate(yaml.safe_load(DATA.read_text(encoding="utf-8")))


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


def answer_cluster_question(question: str, ctx: Context, *, namespaces: Collection[str] | None = None) -> Reply | None:
    """The cluster's answer (precheck, mTLS or status of the named namespace) plus the knowledge answer.

    `namespaces` limits which namespaces may be answered about (None: all). Returns None when the
    question does not ask about a namespace of this cluster, or the cluster cannot be read.
    """
    intent = intent_of(question)
    if intent is None or intent.command not in COMMANDS or ctx.read_cluster is None or not candidate_names(question):
        return None
    command = intent.command
    try:
        names = [ns.name for ns in ctx.snapshot().namespaces]
    except (ClusterError, NoClusterError):
        return None
    if namespaces is not None:
        names = [n for n in names if n in namespaces]
    namespace = find_namespace(question, names)
    if namespace is None:
        return None
    cluster_reply = run_text(command, [namespace], ctx)
    sections = list(cluster_reply.sections)
    knowledge: dict[str, object] = {}
    if "ask" in COMMANDS:
        # Without the namespace's name ("payments" would pull in knowledge about payment examples);
        # when that finds nothing, the intent's own question explains the cluster's answer.
        general = re.sub(rf"(?<![a-z0-9-]){re.escape(namespace)}(?![a-z0-9-])", " ", question, flags=re.IGNORECASE)
        fallback = intent.explain.ko if ctx.language == "ko" else intent.explain.en
        for asked in (" ".join(general.split()), fallback):
            ask_reply = run_text("ask", [asked], ctx)
            if not ask_reply.error and ask_reply.data.get("found"):
                knowledge = ask_reply.data
                text = "\n\n".join(s.text for s in ask_reply.sections if s.text.strip())
                if text:
                    sections.append(Section(heading=msg("cq.knowledge", ctx.language), text=text))
                break
    return cluster_reply.model_copy(
        update={
            "sections": sections,
            "data": {"namespace": namespace, "command": command, "cluster": cluster_reply.data, "knowledge": knowledge},
        }
    )
