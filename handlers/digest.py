"""`digest subscribe|unsubscribe|list|now`: scheduled mTLS/migration digests for a channel.

When nothing changed since the last digest, the last message is edited in place (the picture
plus "no changes since …, checked at …") instead of posting again: a channel that subscribed to
a daily digest only gets a new message when there is news, and the old one never goes stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from handlers.cluster_common import with_cluster
from handlers.context import Context
from handlers.digest_compose import compose
from handlers.digest_model import DigestState, diff
from handlers.mesh_facts import analysis_of, digest_state
from handlers.messages import msg
from handlers.ports import Delivery, DeliveryError, StatePort, Subscription
from handlers.preview import preview
from handlers.registry import Args, UsageError, command, option, positional
from handlers.reply import Reply, Section, Table
from handlers.schedules import ScheduleError, shortest_gap, split_schedule, trigger_for
from handlers.traffic_common import add_observed_shares, finish_observed, start_observed

DEFAULT_SCHEDULE = "@weekdays"
SLACK_CHANNEL = re.compile(r"^<#(?P<id>[CGD][A-Z0-9]+)(?:\|[^>]*)?>$")
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def state_of(ctx: Context) -> StatePort:
    if ctx.state is None:
        raise UsageError(msg("digest.no_state", ctx.language))
    return ctx.state


def channel_word(word: str) -> str | None:
    """`<#C123|name>` (Slack's escaped mention) -> C123; `#name` stays a name; anything else is not a channel."""
    match = SLACK_CHANNEL.match(word)
    if match:
        return match.group("id")
    return word if word.startswith("#") and len(word) > 1 else None


def namespaces_of(words: list[str], ctx: Context) -> list[str]:
    for word in words:
        if not NAMESPACE.match(word):
            raise UsageError(msg("migrate.invalid_namespace", ctx.language, namespace=word[:80]))
    return words


def compose_digest(ctx: Context, channel: str, namespaces: list[str]) -> tuple[Reply, DigestState, bool, bool]:
    """The digest for `channel` against its previous one: the message, its state, whether one was posted
    before, and whether anything changed since."""
    state = state_of(ctx)
    scope = ",".join(sorted(set(namespaces)))
    previous = state.last_digest(channel, scope)
    before: DigestState | None = None
    if previous is not None:
        try:
            before = DigestState.model_validate(previous.state)
        except ValidationError:
            before = None  # a digest from an incompatible version: start afresh rather than fail
    observing = start_observed(ctx)  # Prometheus answers while the manifests are read and analysed
    analysis = analysis_of(ctx.snapshot(), ctx.root_namespace)
    current = digest_state(
        analysis,
        taken_at=state.now(),
        namespaces=namespaces,
        migrations=state.migrations(),
    )
    add_observed_shares(current, finish_observed(observing, ctx))
    changes = diff(before, current, since=previous.posted_at if previous else None)
    reply = compose(current, changes, ctx.language, previous_posted_at=previous.posted_at if previous else None)
    reply = with_cluster(reply, analysis.snapshot.cluster, ctx)  # channels of several clusters tell them apart
    return reply, current, previous is not None, changes.any


def deliver_digest(ctx: Context, channel: str, namespaces: list[str]) -> tuple[Reply, Delivery]:
    """Compose the digest for `channel` against its previous one, and post it (or update the last in place)."""
    state_of(ctx).settle_digests(channel)  # first: the previous digest must be known before this one is compared
    reply, current, posted_before, changed = compose_digest(ctx, channel, namespaces)
    delivery = state_of(ctx).publish_digest(
        channel,
        reply,
        current.model_dump(mode="json"),
        replace_previous=posted_before and not changed,
        scope=",".join(sorted(set(namespaces))),
    )
    return reply, delivery


CHANGES_STATE = frozenset({"subscribe", "unsubscribe", "now"})
"""Actions that post or change subscriptions (an operator's, in Slack); `list` only reads."""


@dataclass(frozen=True)
class DigestArgs(Args):
    action: str = positional(choices=["subscribe", "unsubscribe", "list", "now"], help="what to do")
    words: list[str] = positional(nargs="*", help="channel, schedule (cron, @daily, every 6h) and namespaces")
    channel: str | None = option("--channel", help="channel id or #name (default: where the command was asked)")
    dry_run: bool = option(
        "--dry-run", action="store_true", default=False, help="now: show the digest instead of posting it (no Slack)"
    )

    def named_channel(self) -> tuple[str | None, list[str]]:
        """The channel the words or --channel name (a leading `<#C…>` or `#name`), and the words after it."""
        words = list(self.words)
        if words and channel_word(words[0]):
            return channel_word(words.pop(0)), words
        return self.channel, words

    def schedule(self) -> str | None:
        if self.action != "subscribe":
            return None
        return split_schedule(self.named_channel()[1])[0] or DEFAULT_SCHEDULE

    def namespaces(self) -> list[str]:
        rest = self.named_channel()[1]
        if self.action == "subscribe":
            return split_schedule(rest)[1]
        return rest if self.action == "now" else []

    def channels(self) -> list[str]:
        named = self.named_channel()[0]
        return [named] if named else []

    def scope(self) -> list[str] | None:
        if self.action in ("list", "unsubscribe"):
            return []  # reads subscriptions, not the cluster (and only those this channel may see)
        return self.namespaces() or None


@command(
    "digest",
    usage=(
        "digest subscribe [#channel] [CRON] [NAMESPACE…] | unsubscribe [ID|#channel] | list"
        " | now [--channel C] [NAMESPACE…]"
    ),
    en="Scheduled mTLS/migration digests for a channel: subscribe, unsubscribe, list, or post one now.",
    ko="채널에 mTLS/마이그레이션 다이제스트를 정기적으로 올립니다: 구독, 해지, 목록, 지금 올리기.",
    example="digest subscribe #mesh-ops @weekdays payments",
    reads_cluster=True,
    changes_state=lambda args: args.action in CHANGES_STATE and not args.dry_run,
    uses_store=True,
)
def digest(args: DigestArgs, ctx: Context) -> Reply:
    state = state_of(ctx)
    named, words = args.named_channel()  # a channel the user named (`list` then shows only its subscriptions)
    channel = named or ctx.channel
    if args.action == "list":
        return _list(state, named, ctx)
    if args.action == "unsubscribe":
        return _unsubscribe(state, words, channel, ctx)
    if args.action == "now" and args.dry_run:
        reply = compose_digest(ctx, channel or "", namespaces_of(args.namespaces(), ctx))[0]
        return preview(reply, channel, ctx.language)
    if not channel:
        raise UsageError(msg("digest.need_channel", ctx.language))
    if args.action == "subscribe":
        return _subscribe(state, args.schedule() or DEFAULT_SCHEDULE, args.namespaces(), channel, ctx)
    return _now(args.namespaces(), channel, ctx)


def visible(sub: Subscription, ctx: Context) -> bool:
    """What the asking channel may see: its own subscriptions, and those within its namespaces."""
    if ctx.visible is None or sub.channel == ctx.channel:
        return True
    return bool(sub.namespaces) and set(sub.namespaces) <= set(ctx.visible)


def _notice(text: str, ctx: Context, **data: object) -> Reply:
    return Reply(
        title=msg("digest.title", ctx.language), sections=[Section(text=text)], data=data, language=ctx.language
    )


def _list(state: StatePort, channel: str | None, ctx: Context) -> Reply:
    lang = ctx.language
    subs = [s for s in state.subscriptions(channel) if visible(s, ctx)]
    if not subs:
        return _notice(msg("digest.list.empty", lang), ctx, subscriptions=[])
    cols = [msg(f"digest.col.{c}", lang) for c in ("id", "channel", "schedule", "namespaces")]
    rows = [[str(s.id), s.channel, s.schedule, ", ".join(s.namespaces) or msg("digest.all", lang)] for s in subs]
    return Reply(
        title=msg("digest.list.title", lang),
        sections=[Section(table=Table(columns=cols, rows=rows))],
        data={"subscriptions": [s.model_dump(mode="json") for s in subs]},
        language=lang,
    )


def _unsubscribe(state: StatePort, words: list[str], channel: str | None, ctx: Context) -> Reply:
    lang = ctx.language
    if words and words[0].isdigit():
        chosen = [s for s in state.subscriptions() if s.id == int(words[0]) and visible(s, ctx)]
    elif channel:
        chosen = [s for s in state.subscriptions(channel) if visible(s, ctx)]
    else:
        raise UsageError(msg("digest.need_channel", lang))
    gone = [s for sub in chosen for s in state.unsubscribe(subscription_id=sub.id)]
    ids = ", ".join(str(s.id) for s in gone)
    text = msg("digest.unsubscribed", lang, ids=ids) if gone else msg("digest.none_to_remove", lang)
    return _notice(text, ctx, removed=[s.id for s in gone])


def _subscribe(state: StatePort, schedule: str, words: list[str], channel: str, ctx: Context) -> Reply:
    lang = ctx.language
    try:
        gap = shortest_gap(trigger_for(schedule))
    except ScheduleError as exc:
        raise UsageError(msg("digest.bad_schedule", lang, schedule=schedule, error=str(exc))) from None
    if gap.total_seconds() < ctx.min_digest_interval:
        minimum = f"{ctx.min_digest_interval:g}s"
        raise UsageError(msg("digest.too_often", lang, schedule=schedule, minimum=minimum))
    namespaces = namespaces_of(words, ctx)
    sub = state.subscribe(channel, schedule, namespaces, ctx.user, lang)
    scope = msg("digest.scope", lang, namespaces=", ".join(f"`{n}`" for n in namespaces)) if namespaces else ""
    text = msg("digest.subscribed", lang, channel=channel, id=sub.id, schedule=schedule, scope=scope)
    return _notice(text, ctx, subscription=sub.model_dump(mode="json"))


def _now(words: list[str], channel: str, ctx: Context) -> Reply:
    lang = ctx.language
    try:
        reply, delivery = deliver_digest(ctx, channel, namespaces_of(words, ctx))
    except DeliveryError as exc:  # Slack kept failing after every retry: say so, never a traceback
        failed = _notice(msg("digest.failed", lang, error=exc.explain(lang)), ctx, error=str(exc))
        return failed.model_copy(update={"error": True, "exit_code": 4})
    action = msg(f"digest.action.{delivery.action}", lang)
    text = msg("digest.posted", lang, action=action, channel=channel, ts=delivery.ts)
    return Reply(
        title=msg("digest.title", lang),
        sections=[Section(text=text), *reply.sections],
        data={"delivery": delivery.model_dump(mode="json"), **reply.data},
        language=lang,
    )
