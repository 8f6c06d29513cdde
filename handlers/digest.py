"""`digest subscribe|unsubscribe|list|now`: scheduled mTLS/migration digests for a channel.

When nothing changed since the last digest, the last message is edited in place (the picture
plus "no changes since …, checked at …") instead of posting again: a channel that subscribed to
a daily digest only gets a new message when there is news, and the old one never goes stale.
"""

from __future__ import annotations

import argparse
import re

from pydantic import ValidationError

from handlers.cluster_common import with_cluster
from handlers.context import Context
from handlers.digest_compose import compose
from handlers.digest_model import DigestState, diff
from handlers.mesh_facts import analysis_of, digest_state
from handlers.messages import msg
from handlers.ports import Delivery, DeliveryError, StatePort
from handlers.registry import UsageError, arg, command
from handlers.reply import Reply, Section, Table
from handlers.schedules import ScheduleError, split_schedule, trigger_for

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


def deliver_digest(ctx: Context, channel: str, namespaces: list[str]) -> tuple[Reply, Delivery]:
    """Compose the digest for `channel` against its previous one, and post it (or update the last in place)."""
    state = state_of(ctx)
    scope = ",".join(sorted(set(namespaces)))
    previous = state.last_digest(channel, scope)
    before: DigestState | None = None
    if previous is not None:
        try:
            before = DigestState.model_validate(previous.state)
        except ValidationError:
            before = None  # a digest from an incompatible version: start afresh rather than fail
    analysis = analysis_of(ctx.snapshot(), ctx.root_namespace)
    current = digest_state(
        analysis,
        taken_at=state.now(),
        namespaces=namespaces,
        migrations=state.migrations(),
    )
    changes = diff(before, current, since=previous.posted_at if previous else None)
    reply = compose(current, changes, ctx.language, previous_posted_at=previous.posted_at if previous else None)
    reply = with_cluster(reply, analysis.snapshot.cluster, ctx)  # channels of several clusters tell them apart
    delivery = state.publish_digest(
        channel,
        reply,
        current.model_dump(mode="json"),
        replace_previous=previous is not None and not changes.any,
        scope=scope,
    )
    return reply, delivery


@command(
    "digest",
    usage=(
        "digest subscribe [#channel] [CRON] [NAMESPACE…] | unsubscribe [ID|#channel] | list"
        " | now [--channel C] [NAMESPACE…]"
    ),
    en="Scheduled mTLS/migration digests for a channel: subscribe, unsubscribe, list, or post one now.",
    ko="채널에 mTLS/마이그레이션 다이제스트를 정기적으로 올립니다: 구독, 해지, 목록, 지금 올리기.",
    args=[
        arg("action", choices=["subscribe", "unsubscribe", "list", "now"], help="what to do"),
        arg("words", nargs="*", help="channel, schedule (cron, @daily, every 6h) and namespaces"),
        arg("--channel", help="channel id or #name (default: where the command was asked)"),
    ],
    reads_cluster=True,
)
def digest(args: argparse.Namespace, ctx: Context) -> Reply:
    state = state_of(ctx)
    words: list[str] = list(args.words)
    named: str | None = args.channel  # a channel the user named (`list` then shows only its subscriptions)
    if words and channel_word(words[0]):
        named = channel_word(words.pop(0))
    channel = named or ctx.channel
    if args.action == "list":
        return _list(state, named, ctx)
    if args.action == "unsubscribe":
        return _unsubscribe(state, words, channel, ctx)
    if not channel:
        raise UsageError(msg("digest.need_channel", ctx.language))
    if args.action == "subscribe":
        return _subscribe(state, words, channel, ctx)
    return _now(words, channel, ctx)


def _notice(text: str, ctx: Context, **data: object) -> Reply:
    return Reply(
        title=msg("digest.title", ctx.language), sections=[Section(text=text)], data=data, language=ctx.language
    )


def _list(state: StatePort, channel: str | None, ctx: Context) -> Reply:
    lang = ctx.language
    subs = state.subscriptions(channel)
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
        gone = state.unsubscribe(subscription_id=int(words[0]))
    elif channel:
        gone = state.unsubscribe(channel=channel)
    else:
        raise UsageError(msg("digest.need_channel", lang))
    ids = ", ".join(str(s.id) for s in gone)
    text = msg("digest.unsubscribed", lang, ids=ids) if gone else msg("digest.none_to_remove", lang)
    return _notice(text, ctx, removed=[s.id for s in gone])


def _subscribe(state: StatePort, words: list[str], channel: str, ctx: Context) -> Reply:
    lang = ctx.language
    schedule, rest = split_schedule(words)
    schedule = schedule or DEFAULT_SCHEDULE
    try:
        trigger_for(schedule)
    except ScheduleError as exc:
        raise UsageError(msg("digest.bad_schedule", lang, schedule=schedule, error=str(exc))) from None
    namespaces = namespaces_of(rest, ctx)
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
