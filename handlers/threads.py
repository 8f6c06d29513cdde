"""Commands asked inside a tracked migration's thread: the thread's namespace is filled in.

`status`, `mtls`, `precheck`, `plan`, `savings`… asked without a namespace in the thread of
`migrate start payments` run for `payments`; answers from the knowledge base (`ask`) have the
seed's example namespace in their commands replaced by the thread's one. The pipeline
(handlers.dispatch) applies both to every command.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.reply import Reply

# The seed writes its kubectl examples for a namespace called `production`.
EXAMPLE_NAMESPACE = re.compile(r"(?P<flag>(?:-n|--namespace|namespace)\s+`?)(?:production|<namespace>|NAMESPACE)\b")


def thread_namespace(ctx: Context) -> str | None:
    """The namespace of the tracked migration whose thread the command was asked in."""
    if ctx.state is None or not ctx.channel or not ctx.thread_ts:
        return None
    record = ctx.state.migration_for_thread(ctx.channel, ctx.thread_ts)
    return record.namespace if record else None


def localise(reply: Reply, namespace: str) -> Reply:
    """The answer with the example namespace in its commands replaced by `namespace`."""
    sections = [
        s.model_copy(update={"text": EXAMPLE_NAMESPACE.sub(lambda m: m.group("flag") + namespace, s.text)})
        for s in reply.sections
    ]
    return reply.model_copy(update={"sections": sections})
