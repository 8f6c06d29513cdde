"""`ask QUESTION`: answer from the knowledge base in the question's language, or say it is not covered."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, positional
from handlers.reply import Action, Reply, Section, error_reply
from knowledge import KnowledgeBase, Language
from knowledge.search import Match, SearchResult, language_of, search
from knowledge.text import strip_junk

MAX_QUESTION = 1000
"""Longer questions are cut (at a word boundary) to this many characters: a pasted log is not a question."""
MAX_JUNK_SHARE = 0.3
"""More control/binary characters than this share of the input: treat it as binary junk, not a question."""
SUGGESTED = ("help", "compare", "limits", "checklist", "advise")


@dataclass(frozen=True)
class AskArgs(Args):
    question: list[str] = positional(nargs="*", help="the question, in Korean or English")


@command(
    "ask",
    usage='ask "QUESTION"',
    en="Answer a question about Istio sidecar / ambient modes from the knowledge base.",
    ko="Istio sidecar / ambient 모드에 대한 질문에 지식 베이스로 답합니다.",
    example='ask "how do I roll back to sidecars?"',
    free_text=True,
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
    result = search(ctx.kb, question, mesh_context=ctx.mesh_conversation)
    if ctx.language_pinned:  # `--lang` wins over the question's language
        result = dataclasses.replace(result, language=lang)
    best = result.best
    return answer(ctx.kb, result, best, notes) if best else not_found(result.language, notes)


def truncate(text: str, limit: int) -> str:
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def answer(kb: KnowledgeBase, result: SearchResult, best: Match, notes: list[str]) -> Reply:
    lang = result.language
    entry = kb.entry(best.entry_id)
    see_also = [kb.entry(entry_id) for entry_id in result.see_also()]
    body = entry.body.in_(lang).strip()
    text = body
    sections = [Section(text=body)]
    if see_also:
        lines = "\n".join(f"- {e.title.in_(lang)} ({e.id})" for e in see_also)
        text += f"\n\n{msg('ask.see_also', lang)}:\n{lines}"
        sections.append(Section(heading=msg("ask.see_also", lang), text=lines))
    if notes:
        text += "\n\n" + "\n".join(notes)
        sections.append(Section(text="\n".join(notes)))
    sources = [entry.id, *(e.id for e in see_also)]
    sections.append(Section(text=msg("ask.source", lang, sources=", ".join(sources))))
    return Reply(
        title=entry.title.in_(lang),
        sections=sections,
        data={"found": True, "answer": text, "sources": sources, "language": lang},
        language=lang,
    )


def not_found(lang: Language, notes: list[str]) -> Reply:
    text = "\n\n".join([msg("ask.not_found", lang), *notes])
    return Reply(
        title=msg("ask.not_found.title", lang),
        sections=[Section(text=text)],
        actions=[Action(action_id=name, label=name, value="") for name in SUGGESTED],
        data={"found": False, "answer": text, "sources": [], "language": lang},
        language=lang,
    )
