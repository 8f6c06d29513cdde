"""From Slack words to a handler Reply: commands, questions, permissions, language, metrics and audit.

Nothing here knows Bolt: `app.py` receives the requests and delivers the replies; this module
decides what runs, for whom, where, and in which language.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

import handlers
from bot import logs, metrics
from bot.cluster_source import for_channel
from bot.config import Settings
from bot.slack.escape import truncate
from cluster.snapshot import Snapshot
from handlers import COMMANDS, Action, Context, Reply, Section, UsageError
from handlers.cluster_question import answer_cluster_question
from handlers.messages import msg
from handlers.ports import StatePort
from handlers.threads import run_in_thread
from knowledge import KnowledgeBase, Language
from knowledge import default as default_knowledge

LOG = logging.getLogger("meshbot.slack")

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
# Slack clients turn typed quotes into typographic ones; shlex only knows the ASCII ones.
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
PUBLIC_FLAG = re.compile(r"(?:^|\s)--public(?=\s|$)")
LANG_FLAG = re.compile(r"(?:^|\s)--lang(?:=|\s+)(ko|en)(?=\s|$)")
ADVISE_NEED = "advise.need"
PLAN = "plan"
QUESTION_MARK = "❓ "
MAX_QUOTE = 300
FREE_TEXT = {"ask"}
"""Commands whose whole argument is a sentence: taken verbatim, so "what's" needs no quoting."""


@dataclass(frozen=True)
class Asker:
    user: str
    channel: str
    thread_ts: str | None = None


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
    ) -> None:
        self.settings = settings
        self.read_cluster = read_cluster
        self.kb = kb
        self.state = state
        """The store behind `digest` and `migrate`; None where no store is configured."""

    # --- permissions -------------------------------------------------------------------------

    def grant(self, channel: str) -> tuple[bool, list[str] | None]:
        """May this channel run cluster commands, and on which namespaces (None: all)?

        MESHBOT_CLUSTER_CHANNELS lists channel ids, each optionally limited to namespaces:
        `C0123,C0456:payments|orders`. MESHBOT_CLUSTER_NAMESPACES limits every channel.
        """
        everywhere = self.settings.cluster_namespaces
        channels = self.settings.cluster_channels
        if channels is None:
            return True, everywhere
        for item in channels:
            channel_id, _, limited = item.partition(":")
            if channel_id != channel:
                continue
            names = [n for n in limited.split("|") if n] or None
            if names is None:
                return True, everywhere
            return True, names if everywhere is None else [n for n in names if n in everywhere]
        return False, None

    def cluster_allowed(self, channel: str) -> bool:
        return self.grant(channel)[0]

    def _refusal(self, asker: Asker, name: str, args: object, language: Language) -> Reply | None:
        """A polite refusal when this channel or namespace may not be read from Slack, else None."""
        allowed_here, namespaces = self.grant(asker.channel)
        if not allowed_here:
            channels = [c.partition(":")[0] for c in self.settings.cluster_channels or []]
            # Channel ids in code: the renderer escapes every text, so `<#C…>` links are not available here.
            where = ", ".join(f"`{c}`" for c in channels) or msg("slack.refused.nowhere", language)
            return notice(msg("slack.refused.channel", language, channels=where), language)
        if namespaces is None:
            return None
        namespace = getattr(args, "namespace", None)
        if namespace is None and name == "migrate":
            words = getattr(args, "words", None) or []
            namespace = words[-1] if words else None  # `migrate ACTION [N] NAMESPACE`
        listed = ", ".join(f"`{n}`" for n in namespaces) or "-"
        requested = [namespace] if isinstance(namespace, str) else list(namespace or [])  # several may be named
        if not requested:
            return notice(msg("slack.refused.whole_cluster", language, namespaces=listed), language)
        if any(n not in namespaces for n in requested):
            return notice(msg("slack.refused.namespace", language, namespaces=listed), language)
        return None

    # --- running -------------------------------------------------------------------------------

    def context(self, asker: Asker, language: Language, *, reads_cluster: bool) -> Context:
        # Where the command was asked: a tracked migration's thread fills in its namespace.
        return Context(
            kb=self.kb(),
            # A channel bound to a cluster (MESHBOT_CHANNEL_CLUSTERS) reads that one; others the default.
            read_cluster=for_channel(self.read_cluster, asker.channel) if reads_cluster else None,
            language=language,
            root_namespace=self.settings.root_namespace,
            kernel_min=self.settings.kernel_min,
            state=self.state,
            channel=asker.channel or None,
            thread_ts=asker.thread_ts,
            user=asker.user,
        )

    def in_migration_thread(self, channel: str, thread_ts: str) -> bool:
        """Threads of tracked migrations are the bot's too (it posts their progress there)."""
        if self.state is None:
            return False
        try:
            return self.state.migration_for_thread(channel, thread_ts) is not None
        except Exception:
            LOG.exception("looking up a migration thread failed")
            return False

    def run(self, name: str, argv: list[str], asker: Asker, language: Language) -> Reply:
        """Run one command with permission checks, metrics and an audit line; never raises."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            cmd = COMMANDS[name]
            if cmd.reads_cluster:
                try:
                    args: object = handlers.parse(name, argv)
                except UsageError:
                    args = None  # run_text answers the usage error itself
                refusal = self._refusal(asker, name, args, language) if args is not None else None
                if refusal is None and args is None and not self.cluster_allowed(asker.channel):
                    refusal = self._refusal(asker, name, None, language)
                if refusal is not None:
                    outcome = "refused"
                    return refusal
            ctx = self.context(asker, language, reads_cluster=cmd.reads_cluster)
            reply = run_in_thread(name, argv, ctx)
            outcome = "error" if reply.error else "ok"
            return reply
        except Exception:
            outcome = "failed"
            LOG.exception("command %s failed", name)
            return notice(msg("slack.failed", language), language, error=True)
        finally:
            metrics.observe_command(name, outcome, time.perf_counter() - started)
            logs.audit(user=asker.user, channel=asker.channel, command=name, outcome=outcome, surface="slack")
            self.audit_to_store(asker, name, outcome)

    def audit_to_store(self, asker: Asker, name: str, outcome: str) -> None:
        """The audit trail in the database too (who ran what, where, when); a store failure never fails a reply."""
        if self.state is None:
            return
        try:
            self.state.audit(user=asker.user, channel=asker.channel, command=name, outcome=outcome)
        except Exception:
            LOG.exception("writing the audit entry failed")

    def command_language(self, text: str) -> Language:
        """`--lang ko|en` if given, else Korean for Hangul, else the configured language."""
        flag = LANG_FLAG.search(text)
        if flag:
            return "ko" if flag.group(1) == "ko" else "en"
        return detect_language(text, self.settings.language)

    def command(self, text: str, asker: Asker) -> Outcome:
        """`/mesh <subcommand> [args] [--public] [--lang ko|en]`; nothing or an unknown name gets help."""
        text = unescape(text)
        language = self.command_language(text)
        public = bool(PUBLIC_FLAG.search(text))
        text = PUBLIC_FLAG.sub(" ", LANG_FLAG.sub(" ", text)).strip()
        name, _, rest = text.partition(" ")
        if name.lower() == "public":  # `/mesh public status` reads naturally too
            public = True
            name, _, rest = rest.strip().partition(" ")
        name = name.lower()
        if name not in COMMANDS:
            argv = [name] if name else []
            return Outcome(self.run("help", argv, asker, language), "help", public)
        if name in FREE_TEXT:
            argv = [rest.strip()] if rest.strip() else []
        else:
            try:
                argv = shlex.split(rest.translate(SMART_QUOTES))
            except ValueError as exc:
                return Outcome(notice(msg("slack.quoting", language, error=str(exc)), language, error=True), name)
        reply = self.run(name, argv, asker, language)
        if name in FREE_TEXT and argv:
            # An ephemeral answer does not show what was typed: quote the question (escaped like all text).
            quoted = Section(text=QUESTION_MARK + truncate(argv[0], MAX_QUOTE))
            reply = reply.model_copy(update={"sections": [quoted, *reply.sections]})
        if name == "advise" and not argv and not reply.error and not reply.actions:
            reply = self.with_need_buttons(reply, [], language)
        elif COMMANDS[name].reads_cluster and not reply.error:
            reply = with_plan_button(reply, name, argv, language)
        return Outcome(reply, " ".join([name, *argv])[:80], public)

    def question(self, text: str, asker: Asker) -> Outcome:
        """A mention, a DM or a thread reply: a command typed at the bot, a cluster question, or `ask`."""
        question = unescape(strip_mentions(text))
        language = detect_language(question, "en")
        if not question:
            return Outcome(self.run("help", [], asker, language), "help", public=True)
        first, _, rest = question.partition(" ")
        if first.lower() in COMMANDS and first.lower() not in FREE_TEXT and self._parses(first.lower(), rest):
            outcome = self.command(question, asker)
            outcome.public = True  # answered where it was asked, like any question
            return outcome
        reply = self.cluster_question(question, asker, language)
        if reply is None:
            if "ask" in COMMANDS:
                reply = self.run("ask", [question], asker, language)
            else:
                reply = notice(msg("slack.no_ask", language, command=self.settings.command), language)
        return Outcome(reply, "ask", public=True)

    def cluster_question(self, question: str, asker: Asker, language: Language) -> Reply | None:
        """The cluster's answer about a namespace the question names, when this channel may read it."""
        if self.read_cluster is None or not self.cluster_allowed(asker.channel):
            return None
        started = time.perf_counter()
        ctx = self.context(asker, language, reads_cluster=True)
        try:
            reply = answer_cluster_question(question, ctx, namespaces=self.grant(asker.channel)[1])
        except Exception:
            LOG.exception("cluster question failed")
            return None
        if reply is not None:
            namespace, command = reply.data.get("namespace"), reply.data.get("command")
            if isinstance(namespace, str) and isinstance(command, str) and not reply.error:
                reply = with_plan_button(reply, command, [namespace], language)
            metrics.observe_command("cluster-question", "error" if reply.error else "ok", time.perf_counter() - started)
            logs.audit(
                user=asker.user, channel=asker.channel, command="cluster-question", outcome="ok", surface="slack"
            )
        return reply

    def _parses(self, name: str, rest: str) -> bool:
        try:
            handlers.parse(name, shlex.split(rest.translate(SMART_QUOTES)))
        except (UsageError, ValueError):
            return False
        return True

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

    def advise(self, needs: list[str], asker: Asker, language: Language) -> Reply:
        reply = self.run("advise", need_argv(needs), asker, language)
        if reply.error:
            return reply
        return self.with_need_buttons(reply, needs, language)

    def with_need_buttons(self, reply: Reply, chosen: list[str], language: Language) -> Reply:
        """`advise` asks its deciding questions as buttons; each click adds a need and re-runs it."""
        buttons = [
            Action(
                action_id=ADVISE_NEED,
                label=need.question.in_(language),
                value=json.dumps({"needs": [*chosen, need.key], "lang": language}, separators=(",", ":")),
            )
            for need in self.kb().decision.needs
            if need.key not in chosen
        ]
        if not buttons or any(a.action_id == ADVISE_NEED for a in reply.actions):
            return reply  # nothing left to ask, or the handler asks itself
        sections = [*reply.sections, Section(text=msg("slack.advise.pick", language))]
        return reply.model_copy(update={"sections": sections, "actions": [*reply.actions, *buttons]})


def with_plan_button(reply: Reply, name: str, argv: list[str], language: Language) -> Reply:
    """A report about one namespace offers its migration plan, unless the handler already does."""
    if name == "plan" or "plan" not in COMMANDS or any(a.action_id == PLAN for a in reply.actions):
        return reply
    if "notice" in reply.data:
        return reply  # a refusal offers nothing to click
    try:
        namespace = getattr(handlers.parse(name, argv), "namespace", None)
    except UsageError:
        return reply
    if isinstance(namespace, list):  # positional namespaces are a list: a plan is for exactly one
        namespace = namespace[0] if len(namespace) == 1 else None
    if not namespace:
        return reply
    plan = Action(action_id=PLAN, label=msg("slack.plan", language), value=str(namespace))
    return reply.model_copy(update={"actions": [*reply.actions, plan]})


def need_argv(needs: list[str]) -> list[str]:
    """`--need` the way the advise command declares it: repeated (append) or once with many values."""
    spec = next((a for a in COMMANDS["advise"].args if "--need" in a.names), None) if "advise" in COMMANDS else None
    if not needs:
        return []
    if spec is not None and spec.options.get("nargs") in ("+", "*"):
        return ["--need", *needs]
    return [part for need in needs for part in ("--need", need)]


def notice(text: str, language: Language, *, error: bool = False) -> Reply:
    """A one-section reply for refusals and notices (text is trusted UI text; the renderer escapes)."""
    title = "meshbot"
    return Reply(title=title, sections=[Section(text=text)], data={"notice": text}, language=language, error=error)
