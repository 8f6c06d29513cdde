"""`meshbot COMMAND …`: every handler as a terminal command, plus serve and demo."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot import cli_conventions
from bot.audit import audit_log, store_at, store_sink
from bot.cli_state import with_store_note
from bot.config import Settings, SettingsError, load_settings
from bot.render_text import render_json, render_text
from handlers import COMMANDS, Command, Context, Pipeline, Reply
from handlers.cluster_common import NamespacesAction
from handlers.dispatch import AuditSink
from handlers.registry import ARG
from knowledge import KnowledgeError
from knowledge import default as default_knowledge
from knowledge.text import has_hangul

if TYPE_CHECKING:
    from bot.cluster_source import ClusterSet
    from cluster.snapshot import Snapshot

EXIT_USAGE = 2
EXIT_CONFIG = 3


def _output_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--output",
        "-o",
        choices=["text", "json", "markdown"],
        default="text",
        help="output format (markdown: a report for a pull-request comment)",
    )
    parent.add_argument("--lang", choices=["en", "ko"], default=None, help="answer language")
    return parent


def _declares(cmd: Command, flag: str) -> bool:
    return any(flag in getattr(f.metadata.get(ARG), "flags", ()) for f in dataclasses.fields(cmd.model))


def cluster_options(*, namespaces: bool = True) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    source = parent.add_argument_group(
        "cluster source (default: the kubeconfig as kubectl finds it, else in-cluster config)"
    )
    source.add_argument(
        "--from-file", metavar="DUMP", help="kubectl get -o yaml|json dump, a folder of them, or - for stdin"
    )
    source.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default $KUBECONFIG, ~/.kube/config)")
    source.add_argument(
        "--context", metavar="NAME", action="append", help="kubeconfig context; repeat it to read several clusters"
    )
    if namespaces:
        source.add_argument(
            "-n",
            "--namespace",
            metavar="NS",
            dest="namespace",
            action=NamespacesAction,
            default=None,
            help="a namespace to report (repeatable; also as positional arguments)",
        )
    source.add_argument(
        "-A", "--all-namespaces", action="store_true", help="every namespace (the default when none is named)"
    )
    source.add_argument(
        "--assume-absent",
        metavar="KIND,…",
        help="kinds the cluster has none of: their absence from a dump makes no verdict unknown",
    )
    source.add_argument("--root-namespace", metavar="NS", help="Istio root namespace (default istio-system)")
    traffic = parent.add_argument_group("observed traffic (default: MESHBOT_PROMETHEUS_URL, else off)")
    traffic.add_argument("--prometheus", metavar="URL", help="Prometheus base URL, e.g. http://prometheus:9090")
    traffic.add_argument("--window", metavar="DURATION", help="how far back to look (default 24h)")
    return parent


def build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser, and the command names it knows."""
    parser = argparse.ArgumentParser(
        prog="meshbot",
        description="Istio sidecar/ambient chat-ops bot: knowledge, cluster analysis and Slack.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    output, cluster = _output_options(), cluster_options()
    own_namespace = cluster_options(namespaces=False)  # for a command with its own -n (traffic: one destination)
    for cmd in COMMANDS.values():
        source = own_namespace if _declares(cmd, "-n") else cluster
        parents = [output, source] if cmd.reads_cluster or cmd.cluster_optional else [output]
        sub = commands.add_parser(cmd.name, parents=parents, help=cmd.summary_en, description=cmd.summary_en)
        cmd.configure(sub)
    from bot import extra_commands

    extra_commands.register(commands, output, cluster)
    cli_conventions.register(commands)
    cli_conventions.finish(parser)
    return parser, set(commands.choices)


def settings_from(args: argparse.Namespace, words: Sequence[str] = ()) -> Settings:
    """Settings with the flags applied; words typed in Korean ask for Korean unless --lang says otherwise."""
    typed_korean = any(has_hangul(word) for word in words)
    contexts: list[str] = getattr(args, "context", None) or []
    assumed = getattr(args, "assume_absent", None)
    return load_settings(
        from_file=getattr(args, "from_file", None),
        kubeconfig=getattr(args, "kubeconfig", None),
        # One --context picks a context; several read several clusters, each named after its context.
        context=contexts[0] if len(contexts) == 1 else None,
        clusters={c: c for c in contexts} if len(contexts) > 1 else None,
        assume_absent=[k for k in assumed.split(",") if k.strip()] if assumed else None,
        root_namespace=getattr(args, "root_namespace", None),
        prometheus_url=getattr(args, "prometheus", None),
        prometheus_window=getattr(args, "window", None),
        language=getattr(args, "lang", None) or ("ko" if typed_korean else None),
    )


def has_cluster_source(settings: Settings) -> bool:
    """A cluster source is configured (a dump, a kubeconfig, a context or several clusters): `ask` reads the
    cluster only then."""
    return bool(settings.from_file or settings.kubeconfig or settings.context or settings.clusters)


def context_for(
    settings: Settings,
    *,
    reads_cluster: bool,
    read_cluster: Callable[[], Snapshot] | None = None,
    language_pinned: bool = False,
) -> Context:
    traffic = None
    if reads_cluster:  # imported only then: the readers and their metrics cost a knowledge answer ~0.1 s
        from bot.cluster_source import reader_for, terminal_progress
        from bot.traffic_source import traffic_for

        if read_cluster is None:
            read_cluster = reader_for(settings, progress=terminal_progress())
        traffic = traffic_for(settings)
    else:
        read_cluster = None
    return Context(
        kb=default_knowledge(),
        read_cluster=read_cluster,
        language=settings.language,
        language_pinned=language_pinned,
        root_namespace=settings.root_namespace,
        kernel_min=settings.kernel_min,
        traffic=traffic,
        traffic_window=settings.prometheus_window,
        user=terminal_user(),
        surface="cli",
        min_digest_interval=settings.min_digest_interval,
    )


def terminal_user() -> str:
    """Who runs the terminal, for the audit trail (a container may have no name for its uid)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def run_command(
    cmd: Command, parsed: argparse.Namespace, settings: Settings, read_cluster: Callable[[], Snapshot] | None = None
) -> Reply:
    """The pipeline for the operator's own terminal: no Slack authorization, still audited.

    The audit row goes to the audit log line, and to the store when the command uses it or when
    MESHBOT_DATABASE_URL names one (a reading command does not create a database just to log itself).
    """
    reads = cmd.reads_cluster or (cmd.cluster_optional and has_cluster_source(settings))
    ctx = context_for(
        settings,
        reads_cluster=reads,
        read_cluster=read_cluster,
        language_pinned=getattr(parsed, "lang", None) is not None,
    )
    if cmd.uses_store:  # the bot's own store and Slack poster
        from bot import extra_commands

        ctx.state = extra_commands.state_for(settings)
    sinks: list[AuditSink] = [audit_log]
    if ctx.state is not None:
        sinks.append(store_sink(ctx.state))
    elif "database_url" in settings.model_fields_set:
        sinks.append(store_at(settings.database_url))
    return Pipeline(policy=None, audit_sinks=sinks).execute(cmd.name, cmd.model_from(parsed), ctx)


def emit(reply: Reply, output: str, args: argparse.Namespace | None = None) -> int:
    """Write the reply in the asked format; text goes to stderr when it is an error."""
    stream = sys.stderr if reply.error and output != "json" else sys.stdout
    if output == "json":
        from bot.cli_state import block_kit_json

        text = block_kit_json(reply) or render_json(reply)
    elif output == "markdown":
        from bot.render_markdown import render_markdown

        text = render_markdown(reply)
    else:
        from bot.terminal import source_args, terminal_for

        sources = source_args(args, cluster_options()) if args is not None else ()
        text = render_text(reply, terminal_for(stream, sources=sources))
    stream.write(text)
    return reply.exit_code


def run_on_clusters(cmd: Command, args: argparse.Namespace, settings: Settings, clusters: ClusterSet) -> int:
    """One command on several clusters (`--context a --context b`): one answer per cluster, each naming it;
    JSON is a list of the per-cluster documents. The exit code is the worst of them."""
    replies: list[Reply] = []
    for cluster in clusters:
        reply = run_command(cmd, args, settings, cluster)
        reply.data.setdefault("cluster", cluster.name)
        replies.append(reply)
    if args.output == "json":
        sys.stdout.write(json.dumps([r.data for r in replies], indent=2, ensure_ascii=False) + "\n")
    else:
        for reply in replies:
            emit(reply, args.output, args)
    return max(r.exit_code for r in replies)


def show_help(parser: argparse.ArgumentParser, args: argparse.Namespace, settings: Settings) -> int:
    """`help`: the command list with the terminal's own commands; `help TOPIC`: all of TOPIC's flags."""
    lang = settings.language
    if args.topic is None:
        reply = run_command(COMMANDS["help"], args, settings)
        return emit(cli_conventions.with_runtime_commands(reply, lang), args.output, args)
    if args.topic not in cli_conventions.subparsers(parser).choices:
        return emit(cli_conventions.unknown_topic(parser, args.topic, lang), args.output, args)
    sys.stdout.write(cli_conventions.command_help(parser, args.topic, lang))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, known = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-") and words[0] not in known:
        # An unknown command gets the whole help, not just argparse's one-line complaint.
        print(f"meshbot: unknown command {words[0]!r}\n", file=sys.stderr)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = settings_from(args, words)
        if args.command == "help":
            return show_help(parser, args, settings)
        if args.command in COMMANDS:
            cmd = COMMANDS[args.command]
            if getattr(args, "all_namespaces", False) and isinstance(getattr(args, "namespace", None), list):
                args.namespace = []  # -A: every namespace, as kubectl
            if cmd.reads_cluster:
                from bot.cluster_source import reader_for, terminal_progress

                clusters = reader_for(settings, progress=terminal_progress())
                if len(clusters) > 1:
                    return run_on_clusters(cmd, args, settings, clusters)
                reply = run_command(cmd, args, settings, clusters)
            else:
                reply = run_command(cmd, args, settings)
            return emit(with_store_note(args.command, args, reply, settings), args.output, args)
        code: int = args.run(args, settings)
        return code
    except (SettingsError, KnowledgeError) as exc:
        print(f"meshbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
