"""One module per command: a typed argument model, call knowledge/cluster, return a renderer-neutral Reply.

Adding a command: a module here (see handlers.registry), its import below, its texts in messages_data.
"""

from handlers import advise as _advise  # noqa: F401
from handlers import ask as _ask  # noqa: F401
from handlers import audit as _audit  # noqa: F401
from handlers import checklist as _checklist  # noqa: F401
from handlers import compare as _compare  # noqa: F401
from handlers import digest as _digest  # noqa: F401
from handlers import help as _help  # noqa: F401  (importing a command module registers it)
from handlers import limits as _limits  # noqa: F401
from handlers import migrate as _migrate  # noqa: F401
from handlers import mtls as _mtls  # noqa: F401
from handlers import plan as _plan  # noqa: F401
from handlers import precheck as _precheck  # noqa: F401
from handlers import savings as _savings  # noqa: F401
from handlers import status as _status  # noqa: F401
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
