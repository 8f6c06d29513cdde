"""Commands register here by decorator, each declaring everything a surface needs (errbot / Bolt style).

A command is one module. Its arguments are a frozen dataclass (a subclass of `Args`), one field per
argument; the decorator carries its help in both languages, an example and its policy traits; the
function takes by name what it needs (`args`: the parsed model; `ctx`: the request's Context; `kb`;
`language`), as Bolt listeners do:

    @dataclass(frozen=True)
    class StatusArgs(Args):
        namespace: str | None = positional(nargs="?", names="namespace", help="a namespace (default: all)")

    @command("status", usage="status [NAMESPACE]", en="…", ko="…", example="status payments",
             reads_cluster=True, follow_ups=("plan",))
    def status(args: StatusArgs, ctx: Context) -> Reply: ...

Adding an argument is one line in the model, e.g.
`fail_on: str | None = option("--fail-on", choices=["blocked"], help="…")`, or a repeatable
`only: list[str] = option("-n", "--only", action="append", names="namespace", help="…")` (the field
name is the value's name): the CLI, Slack and the scheduler parse it from that line (one parser,
`parse`), and `names="namespace"` / `names="channel"` on a field is all the authorization needs to
scope it. Options of a surface rather than of a command (the CLI's `--output`, cluster source
options) stay in that surface (`bot/cli.py`). A model whose words mean different things by
position overrides `namespaces()` / `channels()` / `scope()` (see `handlers.digest.DigestArgs`).

Traits on `@command`:
- `reads_cluster`: gets the cluster options on the CLI and a cluster reader everywhere.
- `changes_state`: True, or a predicate on the parsed model (`lambda a: a.action in {...}`): such
  invocations need an operator in Slack.
- `uses_store`: keeps state in the bot's store (subscriptions, migrations, the audit trail); the CLI
  opens the same store and Slack poster as the bot for it.
- `answers_unknown`: answers an empty or unknown command line (help), given the unknown word.
- `operators_only`: every invocation is an operator's (reading the audit trail).
- `free_text`: the whole rest of a Slack message is one argument ("what's ambient?" needs no quoting).
- `follow_ups`: commands offered as buttons on an answer about one namespace (`("plan",)`).
- `cluster_optional`: takes the cluster options on the CLI and reads the cluster only when a source
  is configured, and in Slack where the channel may (`ask`: a question naming a namespace).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from handlers.context import Context
from handlers.reply import Reply

Names = Literal["namespace", "channel"]
ARG = "meshbot.arg"


class UsageError(Exception):
    """The arguments do not fit the command; the message says how."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so Slack and the CLI can answer in their own way."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


@dataclass(frozen=True)
class ArgSpec:
    """How one model field is typed on a command line."""

    flags: tuple[str, ...]
    """`("--fail-on",)` for an option; empty for a positional (named after its field)."""
    options: dict[str, Any]
    names: Names | None = None
    """What the value names, for channel scoping and target checks."""


def positional(*, help: str, names: Names | None = None, default: Any = None, **options: Any) -> Any:
    """A positional argument field (`nargs`, `choices`… as argparse takes them)."""
    return _field((), help, names, default, options)


def option(*flags: str, help: str, names: Names | None = None, default: Any = None, **options: Any) -> Any:
    """An option field (`--channel`, `-n/--namespace`…)."""
    return _field(flags, help, names, default, options)


def _field(flags: tuple[str, ...], help_: str, names: Names | None, default: Any, options: dict[str, Any]) -> Any:
    if options.get("nargs") in ("*", "+") or options.get("action") == "append":
        default = list(default or [])
    spec = ArgSpec(flags, {"help": help_, "default": default, **options}, names)
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={ARG: spec})
    return field(default=default, metadata={ARG: spec})


@dataclass(frozen=True)
class Args:
    """A command's parsed arguments; subclasses add one field per argument."""

    def _named(self, kind: Names) -> list[str]:
        found: list[str] = []
        for f in dataclasses.fields(self):
            spec = f.metadata.get(ARG)
            value = getattr(self, f.name)
            if spec is None or spec.names != kind or value is None:
                continue
            found.extend(str(v) for v in value) if isinstance(value, list) else found.append(str(value))
        return found

    def namespaces(self) -> list[str]:
        """The namespaces this invocation names."""
        return self._named("namespace")

    def channels(self) -> list[str]:
        """Other channels this invocation acts on (a digest's target)."""
        return self._named("channel")

    def scope(self) -> list[str] | None:
        """The namespaces it reads from the cluster: None for the whole cluster (nothing named)."""
        return self.namespaces() or None

    def with_namespace(self, namespace: str) -> Args:
        """The same invocation aimed at `namespace` when it named none (asked in a migration thread)."""
        for f in dataclasses.fields(self):
            spec = f.metadata.get(ARG)
            if spec is not None and spec.names == "namespace" and not getattr(self, f.name):
                value: Any = [namespace] if isinstance(getattr(self, f.name), list) else namespace
                return dataclasses.replace(self, **{f.name: value})
        return self

    def takes_namespace(self) -> bool:
        return any(getattr(f.metadata.get(ARG), "names", None) == "namespace" for f in dataclasses.fields(self))

    def as_dict(self) -> dict[str, Any]:
        """For the audit trail and logs."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NoArgs(Args):
    pass


Runner = Callable[[Any, Context], Reply]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary_en: str
    summary_ko: str
    run: Runner
    model: type[Args] = NoArgs
    example: str = ""
    reads_cluster: bool = False
    changes_state: bool | Callable[[Any], bool] = False
    free_text: bool = False
    follow_ups: tuple[str, ...] = ()
    operators_only: bool = False
    uses_store: bool = False
    answers_unknown: bool = False
    cluster_optional: bool = False
    """Takes the cluster options and reads the cluster only when a source is configured (`ask`)."""

    def summary(self, language: str) -> str:
        return self.summary_ko if language == "ko" else self.summary_en

    def needs_operator(self, args: Args) -> bool:
        """Does this invocation change state, or read what only operators may (a Slack operator's business)?"""
        if self.operators_only:
            return True
        return self.changes_state(args) if callable(self.changes_state) else self.changes_state

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Declare the model's fields on `parser` (the CLI's subcommand, or Slack's own parser)."""
        for f in dataclasses.fields(self.model):
            spec: ArgSpec | None = f.metadata.get(ARG)
            if spec is None:
                continue
            if spec.flags:
                parser.add_argument(*spec.flags, dest=f.name, **spec.options)
            else:
                parser.add_argument(f.name, **spec.options)

    def model_from(self, parsed: argparse.Namespace) -> Args:
        """The typed model from what argparse parsed (the CLI parses its whole line once)."""
        values = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(self.model) if hasattr(parsed, f.name)}
        return self.model(**values)


COMMANDS: dict[str, Command] = {}


INJECTED: dict[str, Callable[[Args, Context], object]] = {
    "args": lambda args, ctx: args,
    "ctx": lambda args, ctx: ctx,
    "kb": lambda args, ctx: ctx.kb,
    "language": lambda args, ctx: ctx.language,
}
"""What a command function may ask for, by parameter name (as Bolt listeners ask for `ack`, `body`…)."""


def _model_of(fn: Callable[..., Reply]) -> type[Args]:
    hints = typing.get_type_hints(fn)
    model = hints.get("args", NoArgs)
    if not (isinstance(model, type) and issubclass(model, Args)):
        raise TypeError(f"{fn.__qualname__}: annotate `args` with the command's Args model")
    return model


def _injecting(fn: Callable[..., Reply]) -> Runner:
    """`fn` called with the values its parameters name; an unknown name fails at registration, not at run time."""
    names = list(inspect.signature(fn).parameters)
    unknown = [n for n in names if n not in INJECTED]
    if unknown:
        raise TypeError(f"{fn.__qualname__}: cannot inject {unknown}; a command may take {sorted(INJECTED)}")

    def run(args: Args, ctx: Context) -> Reply:
        return fn(**{n: INJECTED[n](args, ctx) for n in names})

    return run


def command(
    name: str,
    *,
    usage: str,
    en: str,
    ko: str,
    example: str = "",
    reads_cluster: bool = False,
    changes_state: bool | Callable[[Any], bool] = False,
    free_text: bool = False,
    follow_ups: Sequence[str] = (),
    operators_only: bool = False,
    uses_store: bool = False,
    answers_unknown: bool = False,
    cluster_optional: bool = False,
) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """Register `fn` as the command `name`; it takes by name what it needs of `args` (its model,
    from the annotation), `ctx`, `kb` and `language`."""

    def register(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(
            name,
            usage,
            en,
            ko,
            _injecting(fn),
            _model_of(fn),
            example or name,
            reads_cluster,
            changes_state,
            free_text,
            tuple(follow_ups),
            operators_only,
            uses_store,
            answers_unknown,
            cluster_optional,
        )
        return fn

    return register


def unknown_command() -> str:
    """The command that answers an empty or unknown command line (declared `answers_unknown`)."""
    return next(c.name for c in COMMANDS.values() if c.answers_unknown)


def free_text_command() -> str | None:
    """The command a sentence that is no command goes to (declared `free_text`), if one is installed."""
    return next((c.name for c in COMMANDS.values() if c.free_text), None)


def parse(name: str, argv: Sequence[str]) -> Args:
    """Parse a command's words into its model, the same way for every surface; raises UsageError."""
    cmd = COMMANDS[name]
    parser = ArgumentParser(prog=name, add_help=False)
    cmd.configure(parser)
    return cmd.model_from(parser.parse_args(list(argv)))
