"""The one pipeline every surface runs a command through: parse once → authorize → run → audit.

The CLI, Slack and the scheduler differ only in what they pass in: the CLI authorizes nothing (the
operator's own terminal), Slack passes its channel/operator policy, the scheduler runs as itself.
Rendering is the surface's: it receives the Reply.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cluster.errors import ClusterError
from handlers.context import Context, NoClusterError
from handlers.registry import COMMANDS, Args, Command, UsageError, parse
from handlers.reply import Action, Reply, error_reply
from handlers.threads import localise, thread_namespace

LOG = logging.getLogger("meshbot.pipeline")


@dataclass(frozen=True)
class AuditRecord:
    """One row of the audit trail: who ran what (with its arguments), where, for which channel, how it ended."""

    user: str
    channel: str
    command: str
    arguments: dict[str, Any]
    target_channel: str | None
    outcome: str
    """ok | error | refused | failed"""
    request_id: str
    surface: str
    reason: str = ""
    """Why it was refused (a policy's word), for the logs."""

    def row(self) -> dict[str, Any]:
        """The audit table's columns (the reason goes only to the log line)."""
        return {
            "user": self.user,
            "channel": self.channel,
            "command": self.command,
            "outcome": self.outcome,
            "arguments": self.arguments,
            "target_channel": self.target_channel,
            "request_id": self.request_id,
            "surface": self.surface,
        }


@dataclass(frozen=True)
class Refusal:
    reply: Reply
    reason: str
    """A short machine word for logs and metrics (`operator`, `channel`, `rate`…)."""


class Policy(Protocol):
    def authorize(self, command: Command, args: Args, ctx: Context) -> Refusal | None:
        """None when this invocation may run; otherwise the polite answer why not."""
        ...


AuditSink = Callable[[AuditRecord], None]


@dataclass
class Pipeline:
    """What one surface plugs in: its policy (None: allow all) and where audit rows go."""

    policy: Policy | None = None
    audit_sinks: list[AuditSink] = field(default_factory=list)

    def run_words(self, name: str, argv: Sequence[str], ctx: Context) -> Reply:
        """Parse then execute (surfaces that receive raw words: Slack, buttons)."""
        try:
            args = parse(name, argv)
        except UsageError as exc:
            self._audit(COMMANDS[name], None, ctx, "error", reason="usage", words=list(argv))
            return usage_reply(name, exc, ctx)
        return self.execute(name, args, ctx)

    def execute(self, name: str, args: Args, ctx: Context) -> Reply:
        """Authorize, run and audit one parsed invocation; never raises for what the user can act on."""
        cmd = COMMANDS[name]
        ctx.request_id = ctx.request_id or uuid.uuid4().hex[:16]
        thread = migration_thread(ctx)
        if thread is not None:
            # A migration thread is about the mesh, and about its namespace when the command names none.
            ctx.mesh_conversation = True
            args = args if args.namespaces() else args.with_namespace(thread)
        outcome, reason = "failed", ""
        try:
            refusal = self.policy.authorize(cmd, args, ctx) if self.policy is not None else None
            if refusal is not None:
                outcome, reason = "refused", refusal.reason
                return refusal.reply
            reply = run(name, args, ctx)
            outcome = "error" if reply.error else "ok"
            if thread is not None and not reply.error:
                reply = localise(reply, thread)
            return with_follow_ups(reply, cmd, args, ctx)
        finally:
            self._audit(cmd, args, ctx, outcome, reason=reason)

    def _audit(
        self,
        cmd: Command,
        args: Args | None,
        ctx: Context,
        outcome: str,
        *,
        reason: str = "",
        words: Sequence[str] = (),
    ) -> None:
        arguments = args.as_dict() if args is not None else {"words": list(words)}
        targets = args.channels() if args is not None else []
        self.record(ctx, cmd.name, outcome, arguments, target=targets[0] if targets else None, reason=reason)

    def record(
        self,
        ctx: Context,
        command: str,
        outcome: str,
        arguments: dict[str, Any],
        *,
        target: str | None = None,
        reason: str = "",
    ) -> None:
        """One audit row to every sink (also for what a surface answers without a command: a question)."""
        record = AuditRecord(
            user=ctx.user,
            channel=ctx.channel or "",
            command=command,
            arguments=arguments,
            target_channel=target,
            outcome=outcome,
            request_id=ctx.request_id or uuid.uuid4().hex[:16],
            surface=ctx.surface,
            reason=reason,
        )
        for sink in self.audit_sinks:
            try:
                sink(record)
            except Exception:  # an audit store that fails never fails the answer; it is logged
                LOG.exception("writing the audit entry failed")


def run(name: str, args: Args, ctx: Context) -> Reply:
    """Run a parsed command; a failure the user can act on becomes an error Reply, never a traceback."""
    try:
        return COMMANDS[name].run(args, ctx)
    except (NoClusterError, UsageError) as exc:
        return error_reply(str(exc), language=ctx.language)
    except ClusterError as exc:
        return error_reply(exc.explain(ctx.language), language=ctx.language, exit_code=3)


def usage_reply(name: str, exc: UsageError, ctx: Context) -> Reply:
    return error_reply(f"{exc}\nusage: {COMMANDS[name].usage}", language=ctx.language)


def run_text(name: str, argv: Sequence[str], ctx: Context) -> Reply:
    """Parse then run, without policy or audit (internal callers: a question answered by a command)."""
    try:
        args = parse(name, argv)
    except UsageError as exc:
        return usage_reply(name, exc, ctx)
    return run(name, args, ctx)


def migration_thread(ctx: Context) -> str | None:
    """The namespace of the migration thread asked in, if any (a failing store only loses the hint)."""
    try:
        return thread_namespace(ctx)
    except Exception:
        LOG.exception("looking up a migration thread failed")
        return None


def with_follow_ups(reply: Reply, cmd: Command, args: Args, ctx: Context) -> Reply:
    """An answer about one namespace offers the command's declared follow-ups (e.g. its migration plan)."""
    if reply.error or "notice" in reply.data:
        return reply
    named = args.namespaces()
    if len(named) != 1:
        return reply
    have = {a.action_id for a in reply.actions}
    extra = [
        Action(action_id=name, label=f"{name} {named[0]}", value=named[0])
        for name in cmd.follow_ups
        if name in COMMANDS and name not in have and name != cmd.name
    ]
    return reply.model_copy(update={"actions": [*reply.actions, *extra]}) if extra else reply
