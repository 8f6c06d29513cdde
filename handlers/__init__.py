"""One module per command: a typed argument model, call knowledge/cluster, return a renderer-neutral Reply.

Adding a command is adding its module here, named after the command (see handlers.registry), and
its texts in messages_data: `COMMANDS[name]` imports that module, which registers it, and iterating
`COMMANDS` imports every module of the package. Nothing is imported up front, so a terminal command
pays only for its own module.
"""

from handlers.context import Context, NoClusterError
from handlers.dispatch import AuditRecord, Pipeline, Refusal, run, run_text
from handlers.registry import COMMANDS, Args, Command, UsageError, parse
from handlers.reply import Action, FindingItem, Reply, Section, Table, error_reply

__all__ = [
    "COMMANDS",
    "Action",
    "Args",
    "AuditRecord",
    "Command",
    "Context",
    "FindingItem",
    "NoClusterError",
    "Pipeline",
    "Refusal",
    "Reply",
    "Section",
    "Table",
    "UsageError",
    "error_reply",
    "parse",
    "run",
    "run_text",
]
