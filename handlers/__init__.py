"""One module per command: a typed argument model, call knowledge/cluster, return a renderer-neutral Reply.

Adding a command is adding its module here (see handlers.registry) and its texts in messages_data:
every module of the package is imported below, and importing a command module registers it.
"""

import importlib
import pkgutil

from handlers.context import Context, NoClusterError
from handlers.dispatch import AuditRecord, Pipeline, Refusal, run, run_text
from handlers.registry import COMMANDS, Args, Command, UsageError, parse
from handlers.reply import Action, FindingItem, Reply, Section, Table, error_reply

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

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
