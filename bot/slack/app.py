"""The Bolt app: listeners for the slash command, mentions, DMs, thread replies and buttons.

Every listener acks at once and hands the answer to the work pool (process_before_response=False:
Bolt returns the HTTP response, or the Socket Mode ack, as soon as `ack()` is called).
"""

from __future__ import annotations

import logging
import re
import shlex
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

import handlers
from bot.config import Settings, SettingsError
from bot.conversations import conversations_for
from bot.slack import actions, snapshot_cache
from bot.slack.delivery import Delivery, payload_get
from bot.slack.render import render
from bot.slack.routing import Asker, Router
from bot.slack.threads import MemoryThreads, ThreadMemory
from bot.slack.work import Work
from cluster.snapshot import Snapshot
from handlers import COMMANDS
from handlers.messages import msg
from handlers.ports import StatePort

LOG = logging.getLogger("meshbot.slack")

# Bolt runs each listener's ack function on this pool, and the request thread (a waitress thread,
# or one of the Socket Mode client's 10 handler threads) polls until ack() was called. Listeners
# here only ack and enqueue, so each holds a thread for about a millisecond; 10 workers match the
# most request threads that can wait at once, so an ack never queues behind another.
ACK_WORKERS = 10


@dataclass
class SlackApp:
    app: App
    router: Router
    delivery: Delivery
    threads: ThreadMemory
    work: Work


def web_client(settings: Settings) -> WebClient:
    """The Web API client: base_url from settings (GovSlack, or the tests' double); 429s retried."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=3)],
    )


def check_token(settings: Settings) -> dict[str, Any]:
    """auth.test before anything starts, so a bad token or an unreachable API is one clear line.

    Its own client logs nothing: the failure is reported once, by the caller, as that line.
    """
    quiet = logging.getLogger("meshbot.slack.startup")
    quiet.setLevel(logging.CRITICAL)
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        logger=quiet,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )
    try:
        return dict(client.auth_test().data)  # type: ignore[arg-type]
    except SlackApiError as exc:
        raise SettingsError(
            f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}); copy the Bot User OAuth Token (xoxb-…)"
        ) from None
    except (URLError, OSError) as exc:
        raise SettingsError(f"cannot reach the Slack API at {settings.slack_api_url} ({exc})") from None


def build(
    settings: Settings,
    *,
    read_cluster: Callable[[], Snapshot] | None,
    threads: ThreadMemory | None = None,
    work: Work | None = None,
    state: StatePort | None = None,
) -> SlackApp:
    if not settings.slack_bot_token:
        raise SettingsError("serve needs SLACK_BOT_TOKEN (xoxb-…, OAuth & Permissions > Bot User OAuth Token)")
    check_token(settings)
    client = web_client(settings)
    try:
        app = App(
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            process_before_response=False,
            listener_executor=ThreadPoolExecutor(max_workers=ACK_WORKERS, thread_name_prefix="meshbot-ack"),
            logger=logging.getLogger("meshbot.bolt"),
            name="meshbot",
        )
    except BoltError as exc:
        raise SettingsError(f"Slack app: {exc}".splitlines()[0]) from None
    shared = snapshot_cache.shared(read_cluster, settings.snapshot_seconds) if read_cluster is not None else None
    threads = threads or MemoryThreads()
    slack = SlackApp(
        app=app,
        router=Router(
            settings,
            shared,
            state=state,
            members_of=GroupMembers(client, settings.operator_groups_seconds),
            conversations=conversations_for(state, settings.conversation_ttl),
        ),
        delivery=Delivery(client, threads, retries=settings.slack_retries, backoff=settings.slack_backoff),
        threads=threads,
        work=work or Work(),
    )
    _listen(slack, settings)
    warm_up(slack)
    return slack


class GroupMembers:
    """Who is in a Slack user group (`usergroups.users.list`), cached for `seconds`.

    A lookup that fails counts as "nobody" for that call (the operator check then refuses), and is
    logged; it is not cached, so the next command asks Slack again.
    """

    def __init__(self, client: WebClient, seconds: float) -> None:
        self.client = client
        self.seconds = seconds
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def __call__(self, group: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(group)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        try:
            users = self.client.usergroups_users_list(usergroup=group).get("users") or []
        except (SlackApiError, URLError, OSError) as exc:
            LOG.warning("cannot list the members of user group %s: %s", group, exc)
            return frozenset()
        members = frozenset(str(u) for u in users if isinstance(u, str))
        with self._lock:
            self._cache[group] = (now, members)
        return members


WARM_UP_QUESTION = "앰비언트 모드가 뭐야?"
"""Korean: the tokenizer loads its model on first use (~1.5 s)."""


def warm_up(slack: SlackApp) -> None:
    """Load the knowledge base and UI texts and render once before serving: the first commands after a
    (re)start would otherwise pay for it, and its CPU time would delay the acks arriving meanwhile."""
    ctx = slack.router.context(Asker(user="", channel=""), "en", reads_cluster=False)
    for cmd in COMMANDS.values():  # not router.run: no metrics or audit line for this
        if cmd.reads_cluster or cmd.uses_store:
            continue
        render(handlers.run_text(cmd.name, shlex.split(cmd.example)[1:], ctx))
        if cmd.free_text:
            render(handlers.run_text(cmd.name, [WARM_UP_QUESTION], ctx))


def _listen(slack: SlackApp, settings: Settings) -> None:
    app, router, delivery, work = slack.app, slack.router, slack.delivery, slack.work

    @app.command(settings.command)
    def slash(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        text = str(body.get("text") or "")
        asker = Asker(
            user=str(body.get("user_id") or ""),
            channel=str(body.get("channel_id") or ""),
            team=str(body.get("team_id") or "") or None,
        )
        first = text.split()[0].lower() if text.split() else ""
        slow = first in COMMANDS and COMMANDS[first].reads_cluster and router.cluster_allowed(asker.channel)
        language = router.command_language(text)
        ack(text=msg("slack.working", language) if slow else "")  # a visible "working" only where it takes time
        work.submit(answer_command, text, asker, respond)

    def answer_command(text: str, asker: Asker, respond: Respond) -> None:
        outcome = router.command(text, asker)
        try:
            delivery.answer_command(
                respond,
                render(outcome.reply),
                public=outcome.public,
                channel=asker.channel,
                user=asker.user,
                command=outcome.command,
                language=outcome.reply.language,
            )
            if outcome.reply.chart is not None and asker.channel:
                delivery.upload_chart(asker.channel, outcome.reply.chart, outcome.command, outcome.reply.language)
        except Exception:
            LOG.exception("delivering the answer to %s failed", outcome.command)
            delivery.respond(respond, text=msg("slack.failed", outcome.reply.language), response_type="ephemeral")

    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        channel = str(event.get("channel") or "")
        thread = str(event.get("thread_ts") or event.get("ts") or "") or None
        work.submit(answer_question, str(event.get("text") or ""), _with_team(event, body), channel, thread)

    @app.event("message")
    def message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, other bots (and our own posts): not questions
        text = str(event.get("text") or "")
        channel = str(event.get("channel") or "")
        thread_ts = event.get("thread_ts")
        event = _with_team(event, body)
        if event.get("channel_type") == "im":
            work.submit(answer_question, text, event, channel, thread_ts)
            return
        bot_user = context.bot_user_id or ""
        if bot_user and f"<@{bot_user}" in text:
            return  # app_mention answers it
        if thread_ts and thread_ts != event.get("ts"):
            work.submit(answer_thread_reply, text, event, channel, str(thread_ts))

    def answer_thread_reply(text: str, event: dict[str, Any], channel: str, thread_ts: str) -> None:
        """Only threads meshbot started or answered (looked up here, off the ack path: it may hit the store)."""
        if (
            slack.threads.knows(channel, thread_ts)
            or router.in_conversation(channel, thread_ts)
            or router.in_migration_thread(channel, thread_ts)
        ):
            answer_question(text, event, channel, thread_ts)

    def answer_question(text: str, event: dict[str, Any], channel: str, thread_ts: str | None) -> None:
        team = str(event.get("team") or "") or None
        asker = Asker(user=str(event.get("user") or ""), channel=channel, thread_ts=thread_ts, team=team)
        outcome = router.question(text, asker)
        ts = delivery.answer_in_thread(
            channel,
            render(outcome.reply),
            thread_ts=thread_ts,
            command=outcome.command,
            language=outcome.reply.language,
        )
        if outcome.reply.chart is not None:
            chart_thread = thread_ts or ts
            delivery.upload_chart(
                channel, outcome.reply.chart, outcome.command, outcome.reply.language, thread_ts=chart_thread
            )

    @app.action(re.compile(r".+"))
    def action(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        clicked = payload_get(body, "actions")
        if isinstance(clicked, list) and clicked and isinstance(clicked[0], dict):
            work.submit(actions.handle, slack, body, clicked[0], respond)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        LOG.error("Slack listener failed: %s", error, exc_info=error)


def _with_team(event: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The event with the workspace it came from: the envelope's team_id (Bolt's context names the bot's own)."""
    team = body.get("team_id") or event.get("team")
    return {**event, "team": team} if team else event
