"""`migrate start|status|check|phase N|done|rollback NAMESPACE`: one namespace's migration, tracked in one thread.

`start` posts a root message (precheck verdict, the plan, the phase and the checklist) and keeps
its thread; commands asked in that thread get the namespace filled in (handlers.threads);
progress checks (`check`, and the scheduler) post into the thread what moved in the cluster and
tick the checklist items the cluster shows done; phase timers remind there once when due.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from handlers.context import Context
from handlers.digest import NAMESPACE, state_of
from handlers.mesh_facts import Observation, analysis_of, observe
from handlers.messages import msg
from handlers.migration_effect import compare_after_switch, record_baseline
from handlers.migration_phases import due_reminder, phase, phases
from handlers.migration_progress import checklist_text, progress_lines, tick
from handlers.ports import DeliveryError, MigrationRecord, StatePort
from handlers.preview import preview
from handlers.registry import COMMANDS, Args, UsageError, command, option, parse, positional
from handlers.reply import Reply, Section
from knowledge import Language

ACTIONS = ["start", "status", "check", "phase", "done", "rollback"]
CHANGES_STATE = frozenset({"start", "phase", "done", "rollback"})
"""Actions that change a migration (an operator's, in Slack); status and check only read it."""


@dataclass(frozen=True)
class MigrateArgs(Args):
    action: str = positional(choices=ACTIONS, help="what to do")
    words: list[str] = positional(nargs="*", help="[N] NAMESPACE (filled in inside a migration thread)")
    channel: str | None = option(
        "--channel", names="channel", help="channel for the migration thread (default: where the command was asked)"
    )
    dry_run: bool = option(
        "--dry-run", action="store_true", default=False, help="start: show the thread's first message (no Slack)"
    )

    def phase_word(self) -> str | None:
        """`migrate phase N NAMESPACE`: the N."""
        return self.words[0] if self.action == "phase" and self.words else None

    def namespace(self) -> str | None:
        rest = self.words[1:] if self.action == "phase" else self.words
        return rest[0] if rest else None

    def namespaces(self) -> list[str]:
        namespace = self.namespace()
        return [namespace] if namespace else []

    def takes_namespace(self) -> bool:
        return True

    def with_namespace(self, namespace: str) -> MigrateArgs:
        return self if self.namespace() else dataclasses.replace(self, words=[*self.words, namespace])


def _phase_text(number: int, namespace: str, language: Language) -> str:
    p = phase(number)
    if p is None:
        return ""
    return msg(
        "migrate.root.phase",
        language,
        number=number,
        total=len(phases().phases),
        title=p.title.in_(language),
        todo=p.todo.in_(language).format(namespace=namespace),
    )


def _plan_sections(namespace: str, ctx: Context) -> list[Section]:
    """The `plan` command's answer, when that command is installed (found through the registry)."""
    plan = COMMANDS.get("plan")
    if plan is None:
        return []
    reply = plan.run(parse("plan", [namespace]), ctx)
    if reply.error:
        return []
    heading = msg("migrate.root.plan", ctx.language)
    return [Section(heading=heading), *reply.sections]


def root_message(
    namespace: str, observation: Observation, ticked: dict[str, bool], ctx: Context, *, baseline: str | None = None
) -> Reply:
    lang = ctx.language
    sections = [
        Section(text=msg("migrate.root.intro", lang, user=ctx.user or "meshbot", namespace=namespace)),
        Section(text=msg("migrate.root.verdict", lang, verdict=observation.verdict or "-")),
        *([Section(text=baseline)] if baseline else []),  # observed traffic before the switch (Prometheus)
        Section(text=_phase_text(1, namespace, lang)),
        *_plan_sections(namespace, ctx),
        Section(heading=msg("migrate.root.checklist", lang), text=checklist_text(ctx.kb, ticked, lang)),
    ]
    return Reply(title=msg("migrate.root.title", lang, namespace=namespace), sections=sections, language=lang)


def _resolve(args: MigrateArgs, ctx: Context, state: StatePort) -> tuple[str, int | None]:
    """The namespace (from the words, or the migration thread asked in) and the phase number for `phase`."""
    number: int | None = None
    if args.action == "phase":
        word = args.phase_word()
        if word is None or not word.isdigit() or phase(int(word)) is None:
            raise UsageError(msg("migrate.bad_phase", ctx.language, total=len(phases().phases)))
        number = int(word)
    namespace = args.namespace()
    if namespace is None and ctx.channel and ctx.thread_ts:
        record = state.migration_for_thread(ctx.channel, ctx.thread_ts)
        namespace = record.namespace if record else None
    if namespace is None:
        raise UsageError(msg("migrate.need_namespace", ctx.language, action=args.action))
    if not NAMESPACE.match(namespace):
        raise UsageError(msg("migrate.invalid_namespace", ctx.language, namespace=namespace[:80]))
    return namespace, number


def _tracked(state: StatePort, namespace: str, ctx: Context) -> MigrationRecord:
    record = state.migration(namespace)
    if record is None:
        raise UsageError(msg("migrate.not_tracked", ctx.language, namespace=namespace))
    return record


def start_preview(namespace: str, ctx: Context, channel: str | None) -> Reply:
    """`migrate start --dry-run`: the thread's first message as it would be posted; nothing posted or saved."""
    observation = observe(analysis_of(ctx.snapshot(), ctx.root_namespace), namespace)
    if not observation.exists:
        raise UsageError(msg("migrate.no_namespace", ctx.language, namespace=namespace))
    return preview(root_message(namespace, observation, tick(ctx.kb, observation), ctx), channel, ctx.language)


def start(namespace: str, ctx: Context, state: StatePort, channel: str) -> Reply:
    lang = ctx.language
    existing = state.migration(namespace)
    if existing is not None and existing.status == "active":
        text = msg("migrate.already", lang, namespace=namespace, channel=existing.channel, ts=existing.thread_ts or "-")
        return Reply(
            title=msg("migrate.root.title", lang, namespace=namespace),
            sections=[Section(text=text)],
            data={"migration": existing.model_dump(mode="json")},
            language=lang,
        )
    analysis = analysis_of(ctx.snapshot(), ctx.root_namespace)
    observation = observe(analysis, namespace)
    if not observation.exists:
        raise UsageError(msg("migrate.no_namespace", lang, namespace=namespace))
    ticked = tick(ctx.kb, observation)
    baseline = record_baseline(namespace, observation, ctx)
    root = root_message(namespace, observation, ticked, ctx, baseline=baseline)
    # Keyed: a re-run after a crash between this post and the save below finds the root instead of posting again.
    ts = state.post(channel, root, key=f"migration:{namespace}:root")
    record = state.save_migration(
        MigrationRecord(
            namespace=namespace,
            channel=channel,
            thread_ts=ts,
            phase=1,
            phase_started_at=state.now(),
            checklist=ticked,
            observed=observation.model_dump(mode="json"),
            started_by=ctx.user,
            language=ctx.language,
        )
    )
    text = msg("migrate.started", lang, namespace=namespace, channel=channel, ts=ts)
    return Reply(
        title=root.title,
        sections=[Section(text=text)],
        data={"migration": record.model_dump(mode="json")},
        language=lang,
    )


def _fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def check(record: MigrationRecord, ctx: Context, state: StatePort, *, post: bool = True) -> Reply:
    """Compare the namespace with the last check; post what moved (and any due phase reminder) into the thread."""
    lang = ctx.language
    namespace = record.namespace
    observation = observe(analysis_of(ctx.snapshot(), ctx.root_namespace), namespace)
    before = Observation.model_validate(record.observed) if record.observed else None
    ticked = tick(ctx.kb, observation)
    if observation.exists:
        lines = progress_lines(before, observation, lang)
    elif before is None or before.exists:
        lines = [msg("migrate.progress.gone", lang, namespace=namespace)]  # said once, not at every check
    else:
        lines = []
    newly = sorted(k for k, v in ticked.items() if v and not record.checklist.get(k))
    undone = sorted(k for k, v in ticked.items() if not v and record.checklist.get(k))
    if newly:
        lines.append(msg("migrate.progress.ticked", lang, items=", ".join(f"`{k}`" for k in newly)))
    if undone:
        lines.append(msg("migrate.progress.unticked", lang, items=", ".join(f"`{k}`" for k in undone)))
    title = msg("migrate.progress.title", lang, namespace=namespace)
    changed = bool(lines)
    sections = [
        Section(
            text="\n".join(f"• {x}" for x in lines)
            if lines
            else msg("migrate.progress.none", lang, namespace=namespace)
        )
    ]
    if changed and observation.exists:
        sections.append(Section(heading=msg("migrate.root.checklist", lang), text=checklist_text(ctx.kb, ticked, lang)))
    reply = Reply(
        title=title,
        sections=sections,
        language=lang,
        data={
            "namespace": namespace,
            "changed": changed,
            "ticked": ticked,
            "observation": observation.model_dump(mode="json"),
        },
    )
    posted: list[str] = []
    if post and changed and record.thread_ts:
        key = f"migration:{namespace}:{record.thread_ts}:{_fingerprint(lines)}"
        posted.append(state.post(record.channel, reply, thread_ts=record.thread_ts, key=key))
    days = due_reminder(record.phase, record.phase_started_at, state.now(), record.reminded_phase)
    reminder = phase(record.phase)
    if days is not None and reminder is not None and reminder.reminder is not None:
        text = reminder.reminder.in_(lang).format(namespace=namespace, days=days)
        note = Reply(
            title=msg("migrate.reminder.title", lang, namespace=namespace), sections=[Section(text=text)], language=lang
        )
        if post and record.thread_ts:
            key = f"migration:{namespace}:{record.thread_ts}:reminder-{record.phase}"
            posted.append(state.post(record.channel, note, thread_ts=record.thread_ts, key=key))
        record = record.model_copy(update={"reminded_phase": record.phase})
        reply.sections.append(Section(text=text))
    memo = before.traffic if before else {}
    effect, memo = compare_after_switch(namespace, memo, observation, ctx)
    if effect is not None:
        if post and record.thread_ts:
            key = f"migration:{namespace}:{record.thread_ts}:effect"
            posted.append(state.post(record.channel, effect, thread_ts=record.thread_ts, key=key))
        reply.sections += effect.sections
        reply.data["effect"] = effect.data
    observation.traffic = memo  # the baseline outlives every check until compared
    update: dict[str, object] = {"observed": observation.model_dump(mode="json")}
    if observation.exists:  # a namespace that went away keeps its last checklist
        update["checklist"] = ticked
    state.save_migration(record.model_copy(update=update))
    reply.data["posted"] = posted
    return reply


def status(record: MigrationRecord, ctx: Context, state: StatePort) -> Reply:
    lang = ctx.language
    p = phase(record.phase)
    days = max(0, (state.now() - record.phase_started_at).days)
    line = msg(
        "migrate.status.line",
        lang,
        number=record.phase,
        total=len(phases().phases),
        title=p.title.in_(lang) if p else "-",
        days=days,
        ts=record.thread_ts or "-",
        channel=record.channel,
    )
    return Reply(
        title=msg("migrate.status.title", lang, namespace=record.namespace, status=record.status),
        sections=[
            Section(text=line),
            Section(heading=msg("migrate.root.checklist", lang), text=checklist_text(ctx.kb, record.checklist, lang)),
        ],
        data={"migration": record.model_dump(mode="json"), "days_in_phase": days},
        language=lang,
    )


@command(
    "migrate",
    usage="migrate start|status|check|done|rollback NAMESPACE | migrate phase N NAMESPACE",
    en="Track one namespace's migration to ambient in a Slack thread: progress, checklist, phase timers.",
    ko="네임스페이스 하나의 ambient 마이그레이션을 Slack 스레드에서 추적합니다: 진행, 체크리스트, 단계 타이머.",
    example="migrate start payments",
    reads_cluster=True,
    changes_state=lambda args: args.action in CHANGES_STATE and not args.dry_run,
    uses_store=True,
)
def migrate(args: MigrateArgs, ctx: Context) -> Reply:
    try:
        return _migrate(args, ctx)
    except DeliveryError as exc:  # Slack kept failing after every retry: say so, never a traceback
        text = msg("migrate.failed", ctx.language, error=exc.explain(ctx.language))
        return Reply(
            title=msg("migrate.title", ctx.language),
            sections=[Section(text=text)],
            data={"error": str(exc)},
            language=ctx.language,
            error=True,
            exit_code=4,
        )


def _migrate(args: MigrateArgs, ctx: Context) -> Reply:
    lang = ctx.language
    state = state_of(ctx)
    namespace, number = _resolve(args, ctx, state)
    if args.action == "start":
        channel = args.channel or ctx.channel
        if args.dry_run:
            return start_preview(namespace, ctx, channel)
        if not channel:
            raise UsageError(msg("digest.need_channel", lang))
        return start(namespace, ctx, state, channel)
    record = _tracked(state, namespace, ctx)
    if args.action == "status":
        return status(record, ctx, state)
    if args.action == "check":
        return check(record, ctx, state)
    if args.action == "phase" and number is not None:
        record = state.save_migration(
            record.model_copy(
                update={"phase": number, "phase_started_at": state.now(), "reminded_phase": None, "status": "active"}
            )
        )
        p = phase(number)
        text = msg(
            "migrate.phase.set",
            lang,
            namespace=namespace,
            number=number,
            total=len(phases().phases),
            title=p.title.in_(lang) if p else "",
            todo=p.todo.in_(lang).format(namespace=namespace) if p else "",
        )
        if p is not None and p.remind_after_days:
            text += "\n" + msg("migrate.phase.timer", lang, days=p.remind_after_days)
    elif args.action == "done":
        record = state.save_migration(record.model_copy(update={"status": "done"}))
        text = msg("migrate.done", lang, namespace=namespace)
    else:  # rollback
        record = state.save_migration(record.model_copy(update={"status": "rolled-back"}))
        text = (
            msg("migrate.rollback", lang, namespace=namespace)
            + "\n```\n"
            + phases().rollback.in_(lang).format(namespace=namespace)
            + "\n```"
        )
    reply = Reply(
        title=msg("migrate.status.title", lang, namespace=namespace, status=record.status),
        sections=[Section(text=text)],
        data={"migration": record.model_dump(mode="json")},
        language=lang,
    )
    if record.thread_ts and not (ctx.thread_ts == record.thread_ts and ctx.channel == record.channel):
        # The thread keeps the whole story; keyed by what changed, so a re-run after a crash posts it once.
        key = f"migration:{namespace}:{record.status}:{record.phase}"
        state.post(record.channel, reply, thread_ts=record.thread_ts, key=key)
    return reply
