"""One module per command: parse arguments, call knowledge/cluster, return a renderer-neutral Reply."""

from handlers import help as _help  # noqa: F401  (importing a command module registers it)
from handlers.context import Context, NoClusterError
from handlers.dispatch import run, run_text
from handlers.registry import COMMANDS, Command, UsageError, parse
from handlers.reply import Action, FindingItem, Reply, Section, Table, error_reply

__all__ = [
    "COMMANDS",
    "Action",
    "Command",
    "Context",
    "FindingItem",
    "NoClusterError",
    "Reply",
    "Section",
    "Table",
    "UsageError",
    "error_reply",
    "parse",
    "run",
    "run_text",
]
