"""From Slack words to a handler Reply: commands, questions, permissions, language, metrics and audit.

Nothing here knows Bolt: `app.py` receives the requests and delivers the replies; this module
decides what runs, for whom, where, and in which language; it knows no command by name (each
command's declaration says what it needs: `handlers.registry`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import handlers
from bot import metrics
from bot.audit import audit_log, store_sink
from bot.cluster_source import for_channel
from bot.config import Settings
from bot.slack.escape import truncate
from bot.slack.policy import MembersOf, SlackPolicy, notice
from bot.traffic_source import traffic_for
from cluster.snapshot import Snapshot
from handlers import COMMANDS, Args, Context, Pipeline, Reply, Section, UsageError
from handlers.dispatch import AuditSink, with_follow_ups
from handlers.messages import msg
from handlers.ports import ConversationPort, StatePort
from handlers.registry import free_text_command, unknown_command
from knowledge import KnowledgeBase, Language
from knowledge import default as default_knowledge

LOG = logging.getLogger("meshbot.slack")

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
# Slack clients turn typed quotes into typographic ones; shlex only knows the ASCII ones.
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
PUBLIC_FLAG = re.compile(r"(?:^|\s)--public(?=\s|$)")
LANG_FLAG = re.compile(r"(?:^|\s)--lang(?:=|\s+)(ko|en)(?=\s|$)")
QUESTION_MARK = "❓ "
MAX_QUOTE = 300


@dataclass(frozen=True)
class Asker:
    user: str
    channel: str
    thread_ts: str | None = None
    team: str | None = None
    """The workspace the request came from (MESHBOT_SLACK_TEAM_ID refuses others)."""


@dataclass(frozen=True)
class Typed:
    """A command line as typed: its first word (lower-cased), the rest, and what its flags asked for."""

    name: str
    rest: str
    language: Language
    public: bool


@dataclass
class Outcome:
    reply: Reply
    command: str
    """What ran, for the audit line and the report's file name (`precheck payments`)."""
    public: bool = False


def detect_language(text: str, default: Language = "en") -> Language:
    """Korean when the text has Hangul; otherwise the default."""
    return "ko" if HANGUL.search(text) else default


def unescape(text: str) -> str:
    """Slack sends `&`, `<`, `>` typed by people as entities; handlers want the characters (escaped again on output)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_mentions(text: str) -> str:
    return " ".join(MENTION.sub(" ", text).split())


class Router:
    def __init__(
        self,
        settings: Settings,
        read_cluster: Callable[[], Snapshot] | None,
        kb: Callable[[], KnowledgeBase] = default_knowledge,
        state: StatePort | None = None,
        members_of: MembersOf | None = None,
        conversations: ConversationPort | None = None,
    ) -> None:
        self.settings = settings
        self.read_cluster = read_cluster
        self.kb = kb
        self.state = state
        """The store behind `digest` and `migrate`; None where no store is configured."""
        self.conversations = conversations
        """Earlier turns of threads and DMs, for `ask` follow-ups; None: no memory."""
        self.policy = SlackPolicy(settings, members_of)
        sinks: list[AuditSink] = [audit_log] if state is None else [audit_log, store_sink(state)]
        self.pipeline = Pipeline(policy=self.policy, audit_sinks=sinks)

    # --- permissions -------------------------------------------------------------------------

    def grant(self, channel: str) -> tuple[bool, list[str] | None]:
        return self.policy.grant(channel)

    def cluster_allowed(self, channel: str) -> bool:
        return self.grant(channel)[0]

    # --- running -------------------------------------------------------------------------------

    def context(self, asker: Asker, language: Language, *, reads_cluster: bool) -> Context:
        # Where the command was asked: a tracked migration's thread fills in its namespace.
        return Context(
            kb=self.kb(),
            # A channel bound to a cluster (MESHBOT_CHANNEL_CLUSTERS) reads that one; others the default.
            read_cluster=for_channel(self.read_cluster, asker.channel) if reads_cluster else None,
            conversation=self.conversations,
            language=language,
            root_namespace=self.settings.root_namespace,
            kernel_min=self.settings.kernel_min,
            traffic=traffic_for(self.settings) if reads_cluster else None,
            traffic_window=self.settings.prometheus_window,
            state=self.state,
            channel=asker.channel or None,
            thread_ts=asker.thread_ts,
            user=asker.user,
            surface="slack",
            team=asker.team,
            request_id=uuid.uuid4().hex[:16],
            min_digest_interval=self.settings.min_digest_interval,
        )

    def reads_cluster(self, name: str, channel: str) -> bool:
        """Whether `name` gets the cluster here: always for cluster commands (the policy refuses them where
        not allowed); for `ask` only in channels that may read it (a question naming a namespace)."""
        cmd = COMMANDS[name]
        return cmd.reads_cluster or (cmd.cluster_optional and self.cluster_allowed(channel))

    def in_conversation(self, channel: str, thread_ts: str) -> bool:
        """A thread the bot answered before (kept in the store, so it is known after a restart too)."""
        if self.conversations is None:
            return False
        try:
            return bool(self.conversations.recall(f"{channel}:{thread_ts}"))
        except Exception:
            LOG.exception("looking up a conversation failed")
            return False

    def in_migration_thread(self, channel: str, thread_ts: str) -> bool:
        """Threads of tracked migrations are the bot's too (it posts their progress there)."""
        if self.state is None:
            return False
        try:
            return self.state.migration_for_thread(channel, thread_ts) is not None
        except Exception:
            LOG.exception("looking up a migration thread failed")
            return False

    def run(
        self, name: str, argv: list[str] | Args, asker: Asker, language: Language, ctx: Context | None = None
    ) -> Reply:
        """Run one command through the pipeline (parse once, authorize, run, audit), with metrics; never raises.

        `argv` is the typed words, or the arguments already parsed (a mention recognised as a command).
        """
        started = time.perf_counter()
        outcome = "failed"
        try:
            if ctx is None:
                ctx = self.context(asker, language, reads_cluster=self.reads_cluster(name, asker.channel))
            if isinstance(argv, Args):
                reply = self.pipeline.execute(name, argv, ctx)
            else:
                reply = self.pipeline.run_words(name, argv, ctx)
            outcome = "refused" if "refused" in reply.data else "error" if reply.error else "ok"
            return reply
        except Exception:
            LOG.exception("command %s failed", name)
            return notice(msg("slack.failed", language), language, error=True)
        finally:
            metrics.observe_command(name, outcome, time.perf_counter() - started)

    def command_language(self, text: str) -> Language:
        """`--lang ko|en` if given, else Korean for Hangul, else the configured language."""
        flag = LANG_FLAG.search(text)
        if flag:
            return "ko" if flag.group(1) == "ko" else "en"
        return detect_language(text, self.settings.language)

    def words(self, name: str, rest: str) -> list[str]:
        """A command's words: all the rest when it takes free text, else shell-like words (ValueError: quotes)."""
        if COMMANDS[name].free_text:
            return [rest.strip()] if rest.strip() else []
        return shlex.split(rest.translate(SMART_QUOTES))

    def typed(self, text: str) -> Typed:
        """A command line's name, the rest of its words, its language and `--public` (flags taken off)."""
        language = self.command_language(text)
        public = bool(PUBLIC_FLAG.search(text))
        text = PUBLIC_FLAG.sub(" ", LANG_FLAG.sub(" ", text)).strip()
        name, _, rest = text.partition(" ")
        if name.lower() == "public":  # `/mesh public status` reads naturally too
            public = True
            name, _, rest = rest.strip().partition(" ")
        return Typed(name.lower(), rest, language, public)

    def command(self, text: str, asker: Asker) -> Outcome:
        """`/mesh <subcommand> [args] [--public] [--lang ko|en]`; nothing or an unknown name gets help."""
        typed = self.typed(unescape(text))
        name, rest, language, public = typed.name, typed.rest, typed.language, typed.public
        if name not in COMMANDS:
            argv = [name] if name else []
            fallback = unknown_command()
            return Outcome(self.run(fallback, argv, asker, language), fallback, public)
        try:
            argv = self.words(name, rest)
        except ValueError as exc:
            return Outcome(notice(msg("slack.quoting", language, error=str(exc)), language, error=True), name)
        reply = self.run(name, argv, asker, language)
        if COMMANDS[name].cluster_optional:
            reply = with_cluster_follow_ups(reply, self.context(asker, language, reads_cluster=False))
        if COMMANDS[name].free_text and argv and "refused" not in reply.data:
            # An ephemeral answer does not show what was typed: quote the question (escaped like all text).
            quoted = Section(text=QUESTION_MARK + truncate(argv[0], MAX_QUOTE))
            reply = reply.model_copy(update={"sections": [quoted, *reply.sections]})
        return Outcome(reply, " ".join([name, *argv])[:80], public)

    def question(self, text: str, asker: Asker) -> Outcome:
        """A mention, a DM or a thread reply: a command typed at the bot, a cluster question, or free text."""
        question = unescape(strip_mentions(text))
        language = detect_language(question, "en")
        if not question:
            fallback = unknown_command()
            return Outcome(self.run(fallback, [], asker, language), fallback, public=True)
        typed = self.typed(question)
        parsed = self._command_in(typed)
        if parsed is not None:  # a command typed at the bot: answered where it was asked, like any question
            ran = self.run(typed.name, parsed, asker, typed.language)
            return Outcome(ran, f"{typed.name} {typed.rest}".strip()[:80], public=True)
        free_text = free_text_command()
        if free_text is None:
            return Outcome(notice(msg("slack.no_ask", language, command=self.settings.command), language), "question")
        # `ask` itself answers from the cluster when the question names a namespace this channel may read.
        ctx = self.context(asker, language, reads_cluster=self.reads_cluster(free_text, asker.channel))
        refused = self.policy.admit(ctx)  # a question counts against the rate like a command
        if refused is not None:
            self._audit_question(ctx, question, "refused", refused.reason)
            return Outcome(refused.reply, free_text, public=True)
        try:
            reply = self.run(free_text, [question], asker, language, ctx)
        finally:
            self.policy.forget(ctx)
        return Outcome(with_cluster_follow_ups(reply, ctx), free_text, public=True)

    def _audit_question(self, ctx: Context, question: str, outcome: str, reason: str = "") -> None:
        self.pipeline.record(ctx, "cluster-question", outcome, {"question": question[:MAX_QUOTE]}, reason=reason)

    def _command_in(self, typed: Typed) -> Args | None:
        """The arguments when a message is a whole command (parsed once, here), else None: it is a question."""
        if typed.name not in COMMANDS or COMMANDS[typed.name].free_text:
            return None
        try:
            return handlers.parse(typed.name, self.words(typed.name, typed.rest))
        except (UsageError, ValueError):
            return None

    # --- follow-ups (block actions) ------------------------------------------------------------

    def explain(self, kb_id: str, language: Language) -> Reply:
        """The knowledge entry behind a finding, in the user's language."""
        entry = self.kb().entries.get(kb_id)
        if entry is None:
            return notice(msg("slack.explain.missing", language, kb=kb_id), language, error=True)
        return Reply(
            title=entry.title.in_(language),
            sections=[Section(text=entry.body.in_(language))],
            data={"found": True, "answer": entry.body.in_(language), "sources": [kb_id], "language": language},
            language=language,
        )

    def button(self, name: str, value: str, asker: Asker, fallback: Language) -> tuple[Reply, bool] | None:
        """A command button clicked: its value is the command's words, or {"argv", "lang", "refine"}.

        Returns the answer and whether it refines the clicked message in place; None for a value
        that does not parse (logged, never a crash).
        """
        data = _json(value)
        words = data.get("argv")
        if isinstance(words, list):
            argv = [str(word) for word in words]
            lang = data.get("lang")
            language: Language = "ko" if lang == "ko" else "en" if lang == "en" else fallback
            return self.run(name, argv, asker, language), bool(data.get("refine"))
        try:
            argv = shlex.split(value)
        except ValueError:
            LOG.warning("button %s has an unreadable value", name)
            return None
        return self.run(name, argv, asker, detect_language(value, fallback)), False


def with_cluster_follow_ups(reply: Reply, ctx: Context) -> Reply:
    """An answer from a namespace's reading offers what that reading's command offers (its plan)."""
    cluster = reply.data.get("cluster")
    if reply.error or not isinstance(cluster, dict):
        return reply
    namespace, command = cluster.get("namespace"), cluster.get("command")
    if not isinstance(namespace, str) or not isinstance(command, str) or command not in COMMANDS:
        return reply
    with contextlib.suppress(UsageError):
        return with_follow_ups(reply, COMMANDS[command], handlers.parse(command, [namespace]), ctx)
    return reply


def _json(value: str) -> dict[str, object]:
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
