"""The command pipeline: declarations, one parse, authorize -> run -> audit, and fuzzing what users type."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handlers
from bot.cli import build_parser, main
from bot.config import Settings
from bot.slack.routing import Asker, Router
from handlers import COMMANDS, Args, AuditRecord, Command, Context, Pipeline, Refusal, Reply, UsageError, parse
from handlers.digest import DigestArgs
from handlers.migrate import MigrateArgs
from handlers.registry import command, option, positional
from knowledge import default as default_knowledge


def test_every_command_declares_a_typed_model_help_in_both_languages_and_an_example() -> None:
    for cmd in COMMANDS.values():
        assert issubclass(cmd.model, Args) and dataclasses.is_dataclass(cmd.model), cmd.name
        assert cmd.summary_en and cmd.summary_ko and cmd.summary_en != cmd.summary_ko, cmd.name
        assert cmd.example.split()[0] == cmd.name, cmd.name
        example = parse(cmd.name, __import__("shlex").split(cmd.example)[1:])  # every example parses
        assert isinstance(example, cmd.model)
    assert sum(c.free_text for c in COMMANDS.values()) <= 1
    assert sum(c.answers_unknown for c in COMMANDS.values()) == 1


def test_traits_come_from_the_declarations() -> None:
    digest, migrate = COMMANDS["digest"], COMMANDS["migrate"]
    assert digest.needs_operator(DigestArgs(action="subscribe")) and not digest.needs_operator(
        DigestArgs(action="list")
    )
    assert all(migrate.needs_operator(MigrateArgs(action=a)) for a in ("start", "phase", "done", "rollback"))
    assert not migrate.needs_operator(MigrateArgs(action="status"))
    assert COMMANDS["audit"].needs_operator(COMMANDS["audit"].model())
    assert not COMMANDS["status"].needs_operator(COMMANDS["status"].model())


def test_arguments_name_namespaces_and_channels_by_position() -> None:
    sub = parse("digest", ["subscribe", "<#C0TEAM|team>", "0", "9", "*", "*", "1-5", "payments", "orders"])
    assert isinstance(sub, DigestArgs)
    assert sub.channels() == ["C0TEAM"] and sub.schedule() == "0 9 * * 1-5"
    assert sub.namespaces() == ["payments", "orders"] and sub.scope() == ["payments", "orders"]
    assert parse("digest", ["subscribe"]).scope() is None  # the whole cluster
    assert parse("digest", ["list"]).scope() == []  # reads subscriptions, not the cluster
    assert parse("digest", ["now", "payments", "--channel", "C1"]).channels() == ["C1"]
    phase = parse("migrate", ["phase", "2", "payments"])
    assert isinstance(phase, MigrateArgs) and phase.namespaces() == ["payments"] and phase.phase_word() == "2"
    assert parse("migrate", ["phase", "2"]).with_namespace("orders").namespaces() == ["orders"]
    status = parse("status", [])
    assert status.scope() is None and status.with_namespace("payments").namespaces() == ["payments"]
    assert parse("precheck", ["payments", "--fail-on", "blocked"]).as_dict() == {
        "namespace": ["payments"],  # reading commands take several namespaces (`precheck payments orders`)
        "fail_on": "blocked",
    }
    assert parse("precheck", ["payments", "orders"]).namespaces() == ["payments", "orders"]


@dataclass(frozen=True)
class EchoArgs(Args):
    word: str | None = positional(nargs="?", names="namespace", help="a word")
    loud: bool = option("--loud", action="store_true", default=False, help="shout it")


@pytest.fixture
def echo() -> Iterator[Command]:
    """A command added the way a module adds one; removed afterwards."""

    @command("echo-test", usage="echo-test [WORD] [--loud]", en="Echo.", ko="메아리.", changes_state=lambda a: a.loud)
    def echo_test(args: EchoArgs, ctx: Context) -> Reply:
        return Reply(title="echo", data={"word": args.word, "loud": args.loud})

    try:
        yield COMMANDS["echo-test"]
    finally:
        del COMMANDS["echo-test"]


def test_a_new_argument_is_one_field_and_every_surface_parses_it(
    echo: Command, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parse("echo-test", ["payments", "--loud"]) == EchoArgs(word="payments", loud=True)
    _, known = build_parser()
    assert "echo-test" in known
    assert main(["echo-test", "orders", "--loud", "--output", "json"]) == 0
    assert '"loud": true' in capsys.readouterr().out
    router = Router(Settings(operators=["UOPS"]), read_cluster=None)
    refused = router.command("echo-test payments --loud", Asker(user="UALICE", channel="C1")).reply
    assert refused.data.get("refused") == "operator"
    allowed = router.command("echo-test payments --loud", Asker(user="UOPS", channel="C1")).reply
    assert allowed.data == {"word": "payments", "loud": True}


class Deny:
    def authorize(self, cmd: Command, args: Args, ctx: Context) -> Refusal | None:
        return Refusal(reply=Reply(title="no", error=True, data={"refused": "test"}), reason="test")


def test_a_refusal_is_audited_and_the_command_never_runs(echo: Command) -> None:
    rows: list[AuditRecord] = []
    ran: list[Args] = []
    original = echo.run
    COMMANDS["echo-test"] = dataclasses.replace(echo, run=lambda a, c: ran.append(a) or original(a, c))
    ctx = Context(kb=default_knowledge(), user="UALICE", channel="C1", surface="slack")
    reply = Pipeline(policy=Deny(), audit_sinks=[rows.append]).run_words("echo-test", ["x", "--loud"], ctx)
    assert reply.data["refused"] == "test" and ran == []
    [row] = rows
    assert (row.user, row.channel, row.command, row.outcome, row.reason) == (
        "UALICE",
        "C1",
        "echo-test",
        "refused",
        "test",
    )
    assert row.arguments == {"word": "x", "loud": True} and row.request_id == ctx.request_id != ""
    Pipeline(audit_sinks=[rows.append]).run_words("echo-test", ["--bogus"], ctx)
    assert rows[-1].outcome == "error" and rows[-1].arguments == {"words": ["--bogus"]}


def test_a_failing_audit_store_never_fails_the_answer(echo: Command) -> None:
    def broken(_: AuditRecord) -> None:
        raise OSError("disk full")

    ctx = Context(kb=default_knowledge())
    assert Pipeline(audit_sinks=[broken]).run_words("echo-test", ["hi"], ctx).data["word"] == "hi"


WORDS = st.one_of(
    st.sampled_from([*COMMANDS, "public", "--public", "--lang", "ko", "--channel", "<#C1|x>", "every", "1s", '"', "'"]),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.text(max_size=12), max_size=6), name=st.sampled_from(sorted(COMMANDS)))
def test_parse_gives_the_model_or_a_usage_error(words: list[str], name: str) -> None:
    try:
        parsed = parse(name, words)
    except UsageError as exc:
        assert str(exc).startswith(name)
    else:
        assert isinstance(parsed, COMMANDS[name].model)


@pytest.fixture(scope="module")
def router() -> Router:
    policy = Settings(cluster_channels=["C1", "C2:payments"], operators=["UOPS"], rate_limit=100000)
    return Router(policy, read_cluster=None, state=None)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(WORDS, max_size=6),
    user=st.sampled_from(["UOPS", "UALICE", ""]),
    channel=st.sampled_from(["C1", "C2", "C3", ""]),
)
def test_whatever_is_typed_in_slack_gets_an_answer(router: Router, words: list[str], user: str, channel: str) -> None:
    outcome = router.command(" ".join(words), Asker(user=user, channel=channel))
    assert isinstance(outcome.reply, Reply) and outcome.reply.title
    assert "Traceback" not in str(outcome.reply.data)


def test_package_api_is_what_surfaces_use() -> None:
    assert {"Pipeline", "Args", "Refusal", "AuditRecord"} <= set(handlers.__all__)


def test_a_question_counts_once_against_the_rate(router: Router) -> None:
    limited = Router(Settings(rate_limit=2), read_cluster=None)
    asker = Asker(user="UQ", channel="C1")
    first = limited.question("what is ambient mode?", asker).reply
    second = limited.question("what is a waypoint?", asker).reply
    third = limited.question("what is ztunnel?", asker).reply
    assert "refused" not in first.data and "refused" not in second.data
    assert third.data.get("refused") == "rate"
    assert limited.policy._admitted == set()  # nothing left behind by answered questions


def test_a_command_takes_by_name_what_it_needs() -> None:
    assert COMMANDS["compare"].model is handlers.registry.NoArgs  # `compare(kb, language)`: no arguments
    ko = handlers.run_text("compare", [], Context(kb=default_knowledge(), language="ko"))
    assert ko.language == "ko" and ko.data["rows"]
    with pytest.raises(TypeError, match=r"cannot inject \['user'\]"):

        @command("inject-test", usage="x", en="x", ko="x")
        def wrong(user: str) -> Reply:
            return Reply(title=user)

    assert "inject-test" not in COMMANDS
