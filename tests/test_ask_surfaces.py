"""`ask` is cluster-aware and conversational on every surface: the CLI, `/mesh ask`, mentions and threads.

Real parts: the CLI entry point, the Bolt app over real HTTP against the Slack Web API double, the
demo cluster's dump, a real SQLite store that outlives a server restart.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.cluster_source import reader_for
from bot.config import Settings
from bot.runtime import slack_render
from bot.slack.serve import Server
from bot.state import BotState
from bot.store import Store
from cluster.demo import DEMO_PATH
from tests.slack_double import BOT_USER, SIGNING_SECRET, Call, SlackDouble, event_body, post_signed, slash_form

PAYMENTS_QUESTION = "payments 네임스페이스 ambient로 옮겨도 돼?"
# The demo's payments namespace: an EnvoyFilter with a Lua filter blocks it (cluster/demo/20-payments.yaml).
PAYMENTS_BLOCKER = "EnvoyFilter payments/payments-api-request-id"
_ids = itertools.count(1)


def ask_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["ask", *argv, "--output", "json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_cli_ask_answers_a_namespace_question_from_its_precheck_in_korean(capsys: pytest.CaptureFixture[str]) -> None:
    data = ask_cli(capsys, PAYMENTS_QUESTION, "--from-file", str(DEMO_PATH))
    assert data["found"] is True and data["language"] == "ko"
    answer = str(data["answer"])
    assert answer.startswith("아니요")  # the verdict first: payments is blocked
    assert PAYMENTS_BLOCKER in answer and "lua-filter" in answer and "envoyfilter-unsupported" in answer
    assert data["cluster"]["namespace"] == "payments" and data["cluster"]["command"] == "precheck"
    assert data["cluster"]["reading"]["namespaces"][0]["verdict"] == "blocked"


def test_cli_ask_without_a_cluster_source_answers_from_the_knowledge(capsys: pytest.CaptureFixture[str]) -> None:
    data = ask_cli(capsys, PAYMENTS_QUESTION)
    assert data["found"] is True and "cluster" not in data
    assert PAYMENTS_BLOCKER not in str(data["answer"])


def test_cli_ask_about_a_ready_namespace_says_yes(capsys: pytest.CaptureFixture[str]) -> None:
    data = ask_cli(capsys, "can I move catalog to ambient?", "--from-file", str(DEMO_PATH))
    reading = {ns["name"]: ns for ns in data["cluster"]["reading"]["namespaces"]}
    verdict = reading["catalog"]["verdict"]
    first = str(data["answer"]).split("\n")[0]
    assert first.startswith("Yes") == (verdict in ("ready", "needs-waypoint")), first


def test_a_workload_named_in_the_question_brings_its_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    data = ask_cli(capsys, "can payments-api move to ambient?", "--from-file", str(DEMO_PATH))
    assert data["cluster"]["namespace"] == "payments" and PAYMENTS_BLOCKER in str(data["answer"])


def test_commands_in_answers_use_the_real_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    data = ask_cli(capsys, "how do I roll back payments?", "--from-file", str(DEMO_PATH))
    answer = str(data["answer"])
    assert "istio-injection=enabled" in answer and "namespace payments" in answer
    assert "<NAMESPACE>" not in answer and "production" not in answer
    assert answer.index("istio-injection") < answer.index("sidecar mode")  # how-to first, the status after


def test_cli_ask_when_the_cluster_cannot_be_read_still_answers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "dump.yaml"
    broken.write_text("kind: [unclosed\n", encoding="utf-8")
    code = main(["ask", PAYMENTS_QUESTION, "--from-file", str(broken), "--output", "json"])
    out = capsys.readouterr()
    assert code == 0 and "Traceback" not in out.err
    data = json.loads(out.out)
    assert data["found"] is True and "cluster" not in data  # the knowledge answer, never a cluster fault


def test_cli_ask_more_shows_the_whole_entry(capsys: pytest.CaptureFixture[str]) -> None:
    short = ask_cli(capsys, "ambient에서 EnvoyFilter 써도 돼?")
    assert main(["ask", "ambient에서 EnvoyFilter 써도 돼?", "--more"]) == 0
    text = capsys.readouterr().out
    assert short["answer"] in text or short["short"] in text
    assert len(text) > len(short["answer"]) + 200  # the detail page follows the answer


# --- Slack, over real HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


def settings_for(slack: SlackDouble, database: Path) -> Settings:
    return Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        from_file=DEMO_PATH,
        database_url=f"sqlite:///{database}",
    )


def start(settings: Settings) -> tuple[Server, Store]:
    store = Store(settings.database_url)
    state = BotState(store, None, slack_render)
    server = Server(settings, "http", read_cluster=reader_for(settings), host="127.0.0.1", port=0, state=state)
    server.start()
    return server, store


def url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/slack/events"


def post_event(server: Server, slack: SlackDouble, event: dict[str, Any]) -> Call:
    before = len(slack.of("chat.postMessage"))
    status, _ = post_signed(url(server), event_body(event), content_type="application/json")
    assert status == 200
    return slack.wait_method("chat.postMessage", before + 1, timeout=20)[before]


def test_slash_mesh_ask_reads_the_cluster(slack: SlackDouble, tmp_path: Path) -> None:
    server, store = start(settings_for(slack, tmp_path / "bot.db"))
    try:
        name = f"a{next(_ids)}"
        status, _ = post_signed(url(server), slash_form(slack, f"ask {PAYMENTS_QUESTION}", response=name))
        assert status == 200
        call: Call = slack.wait_for(
            lambda calls: next((c for c in calls if c.method == "response_url" and c.body["_to"] == name), None),
            timeout=20,
        )
        text = call.text()
        assert "아니요" in text and PAYMENTS_BLOCKER in text and "lua-filter" in text
        buttons = [e for b in call.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
        more = [b for b in buttons if b["action_id"].startswith("explain")]
        assert more and json.loads(more[0]["value"])["kb"]  # the whole entry, one click away
    finally:
        server.stop(grace=2)
        store.close()


def test_a_thread_follow_up_uses_the_earlier_namespace_even_after_a_restart(slack: SlackDouble, tmp_path: Path) -> None:
    settings = settings_for(slack, tmp_path / "bot.db")
    thread = f"1800100{next(_ids):03d}.000001"
    question = {"type": "app_mention", "channel": "CTEAM", "user": "UALICE", "ts": thread}
    server, store = start(settings)
    try:
        first = post_event(server, slack, {**question, "text": f"<@{BOT_USER}> {PAYMENTS_QUESTION}"})
        assert first.body.get("thread_ts") == thread and PAYMENTS_BLOCKER in first.text()
        reply = {"type": "message", "channel": "CTEAM", "channel_type": "channel", "user": "UALICE"}
        follow = post_event(
            server, slack, {**reply, "ts": f"{thread[:-1]}2", "thread_ts": thread, "text": "그럼 롤백은?"}
        )
        assert_rollback_for_payments(follow)
    finally:
        server.stop(grace=2)
        store.close()
    # A new process on the same database: the thread's context is still there.
    server, store = start(settings)
    try:
        again = post_event(
            server, slack, {**reply, "ts": f"{thread[:-1]}3", "thread_ts": thread, "text": "그럼 롤백은?"}
        )
        assert_rollback_for_payments(again)
    finally:
        server.stop(grace=2)
        store.close()


def assert_rollback_for_payments(call: Call) -> None:
    text = call.text()
    assert "롤백" in text or "rollback" in text.lower()
    assert "istio-injection=enabled" in text  # how a namespace goes back to sidecars …
    assert "namespace payments" in text and "namespace production" not in text  # … for this namespace


def test_a_thread_nobody_asked_the_bot_in_is_not_answered(slack: SlackDouble, tmp_path: Path) -> None:
    server, store = start(settings_for(slack, tmp_path / "bot.db"))
    try:
        before = len(slack.of("chat.postMessage"))
        event = {"type": "message", "channel": "CTEAM", "channel_type": "channel", "user": "UBOB"}
        event |= {"ts": "1800200000.000002", "thread_ts": "1800200000.000001", "text": "그럼 롤백은?"}
        status, _ = post_signed(url(server), event_body(event), content_type="application/json")
        assert status == 200
        deadline = time.monotonic() + 5
        while server.slack.work.inflight and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the event is queued before it is in flight
        assert server.slack.work.inflight == 0
        assert len(slack.of("chat.postMessage")) == before
    finally:
        server.stop(grace=2)
        store.close()


def test_and_for_another_namespace_repeats_the_earlier_reading() -> None:
    from handlers import Context, run_text
    from knowledge import default
    from tests.eval.scoring import MemoryConversations

    memory = MemoryConversations()
    read = reader_for(Settings(from_file=DEMO_PATH))

    def ask(question: str) -> dict[str, Any]:
        ctx = Context(kb=default(), read_cluster=read, channel="D1", conversation=memory)
        return run_text("ask", [question], ctx).data

    first = ask("can payments move to ambient?")
    assert first["cluster"]["command"] == "precheck" and str(first["answer"]).startswith("No")
    then = ask("and for orders?")
    assert then["cluster"]["namespace"] == "orders" and then["cluster"]["command"] == "precheck"
    verdict = then["cluster"]["reading"]["namespaces"][0]["verdict"]
    assert verdict != "blocked" and str(then["answer"]).startswith("Yes")  # orders needs only a waypoint


def test_a_dm_keeps_its_context_between_messages(slack: SlackDouble, tmp_path: Path) -> None:
    server, store = start(settings_for(slack, tmp_path / "bot.db"))
    try:
        dm = {"type": "message", "channel": "DALICE", "channel_type": "im", "user": "UALICE"}
        first = post_event(server, slack, {**dm, "ts": "1800300000.000001", "text": PAYMENTS_QUESTION})
        assert PAYMENTS_BLOCKER in first.text()
        follow = post_event(server, slack, {**dm, "ts": "1800300000.000002", "text": "그럼 롤백은?"})
        assert_rollback_for_payments(follow)
    finally:
        server.stop(grace=2)
        store.close()
