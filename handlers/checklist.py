"""`checklist [KEY]`: the seed's checklists (sidecar, ambient, migration …), or the list of them."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.context import Context
from handlers.messages import msg
from handlers.registry import Args, command, positional
from handlers.reply import Action, Reply, Section, Table, error_reply
from knowledge import Language
from knowledge.schema import Checklist


@dataclass(frozen=True)
class ChecklistArgs(Args):
    name: str | None = positional(nargs="?", help="which checklist; none lists them")


@command(
    "checklist",
    usage="checklist [sidecar|ambient|migration|ambient-migration]",
    en="Checklists for sidecar mode, ambient mode and migration.",
    ko="sidecar 모드, ambient 모드, 마이그레이션 체크리스트를 보여줍니다.",
    example="checklist migration",
)
def checklist(args: ChecklistArgs, ctx: Context) -> Reply:
    lang = ctx.language
    lists = ctx.kb.checklists
    if not args.name:
        rows = [[c.key, c.title.in_(lang)] for c in lists.values()]
        return Reply(
            title=msg("checklist.list_title", lang),
            sections=[
                Section(table=Table(columns=[msg("checklist.key", lang), msg("checklist.name", lang)], rows=rows)),
                Section(text=msg("checklist.list_hint", lang)),
            ],
            actions=[Action(action_id="checklist", label=c.title.in_(lang), value=c.key) for c in lists.values()],
            data={"checklists": [{"key": c.key, "title": c.title.in_(lang)} for c in lists.values()]},
            language=lang,
        )
    found = lists.get(args.name.strip().lower())
    if found is None:
        known = ", ".join(lists)
        return error_reply(msg("checklist.unknown", lang, name=args.name[:80], known=known), language=lang)
    return show(found, lang)


def show(checklist: Checklist, lang: Language) -> Reply:
    sections = [
        Section(
            heading=group.title.in_(lang),
            text="\n".join(
                f"- [ ] {item.text.in_(lang)}" + (f"  (kb: {item.kb})" if item.kb else "") for item in group.items
            ),
        )
        for group in checklist.groups
    ]
    data = {
        "key": checklist.key,
        "title": checklist.title.in_(lang),
        "groups": [
            {
                "title": group.title.in_(lang),
                "items": [{"text": i.text.in_(lang), "kb": i.kb, "check": i.check} for i in group.items],
            }
            for group in checklist.groups
        ],
    }
    return Reply(title=checklist.title.in_(lang), sections=sections, data={"checklist": data}, language=lang)
