"""`ask QUESTION`: a direct answer from the knowledge's answer units, the cluster when one is configured,
and the earlier turns of the thread or DM.

The first sentence answers; a few short lines follow; the whole entry is one step away (`--more`,
Slack's "More" button). A question naming a namespace of the configured cluster is answered from its
precheck / mTLS / status first, with real names in every command. A cluster fault never breaks the
knowledge answer.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from cluster.errors import ClusterError
from handlers.cluster_question import (
    ClusterAnswer,
    cluster_answer,
    cluster_names,
    cluster_workloads,
    find_namespace,
    find_workload,
    intent_by_command,
    intent_command,
)
from handlers.context import Context, NoClusterError
from handlers.messages import msg
from handlers.ports import Turn
from handlers.registry import Args, command, option, positional
from handlers.reply import Action, Reply, Section, error_reply
from handlers.threads import localise, thread_namespace
from knowledge import Language
from knowledge.answers.engine import STRONG, Answer, Names, engine_for
from knowledge.answers.understand import is_followup
from knowledge.search import language_of
from knowledge.text import strip_junk

LOG = logging.getLogger("meshbot.ask")
MAX_QUESTION = 1000
"""Longer questions are cut (at a word boundary) to this many characters: a pasted log is not a question."""
MAX_JUNK_SHARE = 0.3
"""More control/binary characters than this share of the input: treat it as binary junk, not a question."""
SUGGESTED = ("help", "compare", "limits", "checklist", "advise")
CLUSTER_COMMANDS = ("precheck", "mtls", "status")
EXPLAIN = "explain"
"""Slack's "explain" action shows a knowledge entry: the "More" button and the closest-topic buttons use it."""
EXAMPLES = {
    "en": [
        "Can I use EnvoyFilter in ambient mode?",
        "How much memory does ztunnel use per node?",
        "How do I roll back a namespace from ambient to sidecar?",
    ],
    "ko": [
        "ambient에서 EnvoyFilter 써도 돼?",
        "ztunnel은 노드마다 메모리를 얼마나 써?",
        "ambient에서 sidecar로 롤백하려면 어떻게 해?",
    ],
}


@dataclass(frozen=True)
class AskArgs(Args):
    question: list[str] = positional(nargs="*", help="the question, in Korean or English")
    more: bool = option(
        "--more", action="store_true", default=False, help="the whole knowledge entry behind the answer"
    )


@command(
    "ask",
    usage='ask "QUESTION" [--more]',
    en="Answer a question about Istio sidecar / ambient modes (from the cluster too, when one is given).",
    ko="Istio sidecar / ambient 모드 질문에 답합니다 (클러스터를 지정하면 클러스터 기준으로).",
    example='ask "how do I roll back to sidecars?"',
    free_text=True,
    cluster_optional=True,
)
def ask(args: AskArgs, ctx: Context) -> Reply:
    raw = " ".join(args.question)
    question, junk = strip_junk(raw)
    lang: Language = language_of(question) if question and not ctx.language_pinned else ctx.language
    if not raw.strip():
        return error_reply(msg("ask.empty", lang), language=lang)
    if not any(ch.isalnum() for ch in question) or junk > MAX_JUNK_SHARE * len(raw):
        return error_reply(msg("ask.unreadable", lang), language=lang)
    notes = []
    if len(question) > MAX_QUESTION:
        notes.append(msg("ask.truncated", lang, length=len(question), limit=MAX_QUESTION))
        question = truncate(question, MAX_QUESTION)
    return Asking(ctx, question, lang, notes, more=args.more).reply()


def truncate(text: str, limit: int) -> str:
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


class Asking:
    """One question being answered: its conversation, its cluster namespace, its answer."""

    def __init__(self, ctx: Context, question: str, lang: Language, notes: list[str], *, more: bool) -> None:
        self.ctx = ctx
        self.question = question
        self.lang = lang
        self.pinned: Language | None = lang if ctx.language_pinned else None
        """`--lang`: the answer's language whatever the question's."""
        self.notes = notes
        self.more = more
        self.key = ctx.conversation_key()
        self.history = self._recall()
        self.last = self.history[-1] if self.history else None
        self.asked = question
        """The question as answered: a follow-up's full meaning (kept for the next follow-up)."""

    def _recall(self) -> list[Turn]:
        if self.ctx.conversation is None or self.key is None:
            return []
        try:
            return self.ctx.conversation.recall(self.key)
        except Exception:  # a store fault costs the context, never the answer
            LOG.exception("reading the conversation failed")
            return []

    def reply(self) -> Reply:
        ctx, _lang = self.ctx, self.lang
        engine = engine_for(ctx.kb)
        names = self._cluster_names()
        named = find_namespace(self.question, names) if names else None
        workload = find_workload(self.question, cluster_workloads(ctx)) if names else None
        if named is None and workload is not None:
            named = workload[1]  # "can payments-api move to ambient?" is about its namespace
        followup = self.last is not None and is_followup(self.question)
        namespace = named or (self.last.namespace if self.last and (followup or not named) else None)
        namespace = namespace or thread_namespace(ctx)
        mesh_context = ctx.mesh_conversation or self.last is not None or namespace is not None
        asked = _without(_without(self.question, named), workload[0] if workload else None)
        repeat = None
        if self.last is not None and followup and named and named != self.last.namespace and _bare(asked):
            # "and for orders?": the earlier question, about another namespace, read the same way.
            asked, repeat = _without(self.last.question, self.last.namespace), self.last.kind
        filled = Names(namespace=namespace, workload=workload[0] if workload else None)
        answer = engine.answer(asked, names=filled, mesh_context=mesh_context, answer_in=self.pinned)
        if repeat is None and self.last is not None and (followup or not answer.found or answer.confidence < STRONG):
            # A terse follow-up is the earlier question with this part changed: both are matched
            # together, this turn's words counted twice so they decide the topic ("그럼 롤백은?").
            earlier = _without(self.last.question, self.last.namespace)
            combined = engine.answer(
                f"{asked} {asked} {earlier}", names=filled, mesh_context=True, several=False, answer_in=self.pinned
            )
            if combined.found and (followup or not answer.found or combined.confidence > answer.confidence):
                answer, asked = combined, f"{asked} {earlier}"
        self.asked = asked
        # The namespace's reading when the question names it, or asks for a reading (a follow-up's
        # "is it STRICT?"); a rollback question in a migration thread needs only the real name.
        reads = named is not None or intent_command(self.question) not in (None, "status")
        cluster = None
        if namespace and names and reads:
            cluster = self._cluster(namespace, named, repeat if repeat in CLUSTER_COMMANDS else None)
        if cluster is not None and cluster.direct and cluster.command == "precheck":
            # "Can payments move?" is answered by its verdict; the knowledge behind it is what a
            # precheck means (what blocks a move), not whatever "move" matches on its own.
            explain = intent_by_command("precheck")
            if explain is not None:
                text = explain.explain.ko if self.lang == "ko" else explain.explain.en
                behind = engine.answer(text, names=filled, mesh_context=True, several=False, answer_in=self.pinned)
                answer = behind if behind.found else answer
        reply = self._compose(answer, cluster, namespace)
        self._remember(answer, namespace, cluster)
        return reply

    def _cluster_names(self) -> list[str]:
        try:
            return cluster_names(self.ctx)
        except Exception:  # any reader fault: answer from the knowledge alone
            LOG.exception("reading the cluster for a question failed")
            return []

    def _cluster(self, namespace: str, named: str | None, repeat: str | None) -> ClusterAnswer | None:
        """The cluster's reading of the namespace: what the question asks (precheck, mTLS, status), or
        what the earlier turn read (`repeat`, for "and for orders?")."""
        try:
            if repeat is not None:
                return cluster_answer(self.question, self.ctx, namespace, fallback=repeat, direct=True)
            # A question that names the namespace without asking for a reading still shows its status.
            return cluster_answer(self.question, self.ctx, namespace, fallback="status" if named else None)
        except (ClusterError, NoClusterError) as exc:
            self.notes.append(msg("cq.unreadable", self.lang, error=str(exc)))
        except Exception:
            LOG.exception("the cluster answer failed")
        return None

    def _compose(self, answer: Answer, cluster: ClusterAnswer | None, namespace: str | None) -> Reply:
        lang = self.lang
        if answer.refusal == "greeting":
            return greeting(lang)
        if not answer.found and cluster is None:
            return not_found(answer, lang, self.notes)
        kb = self.ctx.kb
        body = answer.text if answer.found else ""
        if namespace and body:
            body = localise_text(body, namespace)
        lead = "\n".join(cluster.lead) if cluster else ""
        text_parts = [lead, body] if cluster and cluster.direct else [body, lead]
        text_parts = [part for part in text_parts if part]
        if cluster is None:
            sections = [Section(text=body)]
        elif not cluster.direct:
            sections = [Section(text=body), Section(text=lead)] if body else [Section(text=lead)]
        else:
            # The cluster's verdict first; the knowledge that explains it; then the reading itself.
            sections = [Section(text="\n".join(cluster.lead))]
            if body:
                sections.append(Section(heading=msg("cq.knowledge", lang), text=body))
            heading = msg("cq.cluster", lang, command=cluster.command, namespace=namespace or "")
            detail = [s for s in cluster.reply.sections if s.text.strip() or s.table]
            sections.append(Section(heading=heading, text=""))
            sections.extend(detail[:3])
        if self.more:
            for entry_id in answer.entries[:2]:
                entry = kb.entry(entry_id)
                text = entry.body.in_(lang).strip()
                sections.append(
                    Section(heading=entry.title.in_(lang), text=localise_text(text, namespace) if namespace else text)
                )
        if answer.alternatives:
            closest = "\n".join(f"- {a['title']} ({a['entry']})" for a in answer.alternatives)
            sections.append(Section(heading=msg("ask.closest", lang), text=closest))
        if self.notes:
            sections.append(Section(text="\n".join(self.notes)))
        refs = [*answer.references, *(f"kb:{e}" for e in answer.entries[:3])]
        if refs:
            sections.append(Section(text=msg("ask.source", lang, sources="; ".join(refs))))
        full = "\n\n".join(part for part in text_parts if part)
        if self.notes:
            full += "\n\n" + "\n".join(self.notes)
        actions = []
        if answer.entries and not self.more:
            actions.append(
                Action(
                    action_id=EXPLAIN, label=msg("ask.more_button", lang), value=entry_value(answer.entries[0], lang)
                )
            )
        actions += [
            Action(action_id=EXPLAIN, label=a["title"][:70], value=entry_value(a["entry"], lang))
            for a in answer.alternatives
        ]
        title = kb.entry(answer.entries[0]).title.in_(lang) if answer.entries else "meshbot"
        data: dict[str, object] = {
            "found": True,
            "answer": full,
            "sources": answer.entries or ([f"cluster:{cluster.command}"] if cluster else []),
            "language": lang,
            "short": cluster.lead[0] if cluster and (cluster.direct or not answer.found) else answer.short,
            "confidence": answer.confidence,
            "kind": answer.kind,
            "units": answer.units,
            "references": answer.references,
            "alternatives": answer.alternatives,
        }
        if cluster is not None:
            data["cluster"] = {"namespace": namespace, "command": cluster.command, "reading": cluster.reply.data}
        elif namespace:
            data["namespace"] = namespace
        return Reply(title=title, sections=sections, actions=actions, data=data, language=lang)

    def _remember(self, answer: Answer, namespace: str | None, cluster: ClusterAnswer | None) -> None:
        if self.ctx.conversation is None or self.key is None or not (answer.found or cluster):
            return
        turn = Turn(
            question=self.asked,
            language=self.lang,
            units=answer.units,
            entries=answer.entries,
            namespace=namespace,
            kind=cluster.command if cluster else answer.kind,
        )
        try:
            self.ctx.conversation.remember(self.key, turn)
        except Exception:
            LOG.exception("remembering the conversation failed")


def entry_value(entry_id: str, lang: Language) -> str:
    return json.dumps({"kb": entry_id, "lang": lang}, separators=(",", ":"))


def _bare(question: str) -> bool:
    """Nothing left but filler once the namespace is taken out ("and for ?", "그럼 은?")."""
    return len(re.findall(r"[^\W\d_]{3,}", question)) <= 2


def _without(question: str, namespace: str | None) -> str:
    """The question without the namespace's name ("payments" would pull in knowledge about payment examples)."""
    if not namespace:
        return question
    cut = re.sub(rf"(?<![a-z0-9-]){re.escape(namespace)}(?![a-z0-9-])", " ", question, flags=re.IGNORECASE)
    return " ".join(cut.split())


def localise_text(text: str, namespace: str) -> str:
    """The guide's example namespace (production, <namespace>) in commands replaced by the real one."""
    return localise(Reply(title="", sections=[Section(text=text)]), namespace).sections[0].text


def greeting(lang: Language) -> Reply:
    examples = "\n".join(f"- {q}" for q in EXAMPLES[lang])
    text = f"{msg('ask.greeting', lang)}\n{examples}"
    return Reply(
        title="meshbot",
        sections=[Section(text=text)],
        data={"found": False, "answer": text, "sources": [], "language": lang, "kind": "greeting", "confidence": 1.0},
        language=lang,
    )


def not_found(answer: Answer, lang: Language, notes: list[str]) -> Reply:
    if answer.refusal == "near-miss" and answer.subject:
        lead = msg("ask.near_miss", lang, subject=answer.subject)
    else:
        lead = msg("ask.not_found", lang)
    parts = [lead]
    if answer.alternatives:
        parts.append(msg("ask.closest", lang) + ":\n" + "\n".join(f"- {a['title']}" for a in answer.alternatives))
    text = "\n\n".join([*parts, *notes])
    actions = [
        Action(action_id=EXPLAIN, label=a["title"][:70], value=entry_value(a["entry"], lang))
        for a in answer.alternatives
    ]
    actions += [Action(action_id=name, label=name, value="") for name in SUGGESTED]
    return Reply(
        title=msg("ask.not_found.title", lang),
        sections=[Section(text=text)],
        actions=actions,
        data={
            "found": False,
            "answer": text,
            "sources": [],
            "language": lang,
            "refusal": answer.refusal,
            "confidence": answer.confidence,
            "alternatives": answer.alternatives,
        },
        language=lang,
    )
