"""Commands asked inside a tracked migration's thread: the thread's namespace is filled in.

`status`, `mtls`, `precheck`, `plan`, `savings`… asked without a namespace in the thread of
`migrate start payments` run for `payments`; answers from the knowledge base (`ask`) have the
seed's example namespace in their commands replaced by the thread's one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.context import Context
from handlers.dispatch import run_text
from handlers.registry import COMMANDS, UsageError, parse
from handlers.reply import Reply

# The seed writes its kubectl examples for a namespace called `production`.
EXAMPLE_NAMESPACE = re.compile(r"(?P<flag>(?:-n|--namespace|namespace)\s+`?)(?:production|<namespace>|NAMESPACE)\b")


def thread_namespace(ctx: Context) -> str | None:
    """The namespace of the tracked migration whose thread the command was asked in."""
    if ctx.state is None or not ctx.channel or not ctx.thread_ts:
        return None
    record = ctx.state.migration_for_thread(ctx.channel, ctx.thread_ts)
    return record.namespace if record else None


def takes_namespace(name: str) -> bool:
    cmd = COMMANDS.get(name)
    return cmd is not None and any(a.names == ("namespace",) for a in cmd.args)


def fill_namespace(name: str, argv: Sequence[str], ctx: Context) -> list[str]:
    """argv with the thread's namespace added when the command takes one and none was given."""
    words = list(argv)
    namespace = thread_namespace(ctx)
    if namespace is None or not takes_namespace(name):
        return words
    try:
        given = getattr(parse(name, words), "namespace", None)
    except UsageError:
        return words
    return words if given else [*words, namespace]


def localise(reply: Reply, namespace: str) -> Reply:
    """The answer with the example namespace in its commands replaced by `namespace`."""
    sections = [
        s.model_copy(update={"text": EXAMPLE_NAMESPACE.sub(lambda m: m.group("flag") + namespace, s.text)})
        for s in reply.sections
    ]
    return reply.model_copy(update={"sections": sections})


def run_in_thread(name: str, argv: Sequence[str], ctx: Context) -> Reply:
    """Run a command as asked in a Slack thread (any thread: only migration threads change anything)."""
    namespace = thread_namespace(ctx)
    # A migration thread is about the mesh even when a reply does not say so ("how do I roll back?").
    ctx.mesh_conversation = ctx.mesh_conversation or namespace is not None
    reply = run_text(name, fill_namespace(name, argv, ctx), ctx)
    return localise(reply, namespace) if namespace and not reply.error else reply
