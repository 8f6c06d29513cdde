"""One module per command: parse arguments, call knowledge/cluster, return a renderer-neutral Reply."""

from handlers import advise as _advise  # noqa: F401
from handlers import ask as _ask  # noqa: F401
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
from handlers import traffic as _traffic  # noqa: F401  (observed traffic, issue 13)
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
