"""Cluster commands through Slack (HTTP mode, real HTTP) on dumps of the demo cluster.

Channel permissions, buttons (Explain, Plan), questions that name a namespace, hostile names from
the cluster, and a report too large for one message (summary + uploaded file).
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cluster_source import reader_for
from bot.config import Settings
from bot.slack.render import action_name
from bot.slack.routing import Asker, Router
from bot.slack.serve import Server
from cluster.demo import DEMO_PATH
from tests.slack_double import (
    BOT_USER,
    SIGNING_SECRET,
    Call,
    SlackDouble,
    block_action_form,
    block_action_payload,
    event_body,
    post_signed,
    slash_form,
)

HOSTILE = "lua-<!channel>-@here"
_ids = itertools.count(1)


def hostile_dump(target: Path) -> Path:
    """The demo cluster plus an EnvoyFilter in payments whose name tries to ping the channel."""
    shutil.copytree(DEMO_PATH, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    docs = list(yaml.safe_load_all((DEMO_PATH / "20-payments.yaml").read_text(encoding="utf-8")))
    envoy_filter = copy.deepcopy(next(d for d in docs if d and d["kind"] == "EnvoyFilter"))
    envoy_filter["metadata"]["name"] = HOSTILE
    (target / "90-hostile.yaml").write_text(yaml.safe_dump(envoy_filter), encoding="utf-8")
    return target


def big_dump(target: Path, namespaces: int = 200) -> Path:
    """Cluster-wide objects of the demo plus `namespaces` copies of payments (each blocked, with findings)."""
    target.mkdir()
    for name in ("00-nodes.yaml", "10-istio-system.yaml", "11-kube-system.yaml"):
        shutil.copy(DEMO_PATH / name, target / name)
    template = [d for d in yaml.safe_load_all((DEMO_PATH / "20-payments.yaml").read_text(encoding="utf-8")) if d]
    copies: list[dict[str, Any]] = []
    for i in range(namespaces):
        ns = f"pay-{i:03d}"
        for doc in template:
            clone = copy.deepcopy(doc)
            meta = clone["metadata"]
            if clone["kind"] == "Namespace":
                meta["name"] = ns
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = ns
            else:
                meta["namespace"] = ns
            copies.append(clone)
    # JSON (a `v1 List`, as `kubectl get -o json` prints): writing 7,000 objects as YAML takes seconds.
    (target / "20-many.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": copies}))
    return target


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


def start(slack: SlackDouble, dump: Path) -> Server:
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        from_file=dump,
        cluster_channels=["CALLOWED"],
    )
    server = Server(settings, "http", read_cluster=reader_for(settings), host="127.0.0.1", port=0)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(slack: SlackDouble, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(slack, hostile_dump(tmp_path_factory.mktemp("hostile") / "dump"))
    yield srv
    srv.stop(grace=2)


@pytest.fixture(scope="module")
def big_server(slack: SlackDouble, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(slack, big_dump(tmp_path_factory.mktemp("big") / "dump"))
    yield srv
    srv.stop(grace=2)


def url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/slack/events"


def slash(server: Server, slack: SlackDouble, text: str, channel: str = "CALLOWED") -> dict[str, Any]:
    """Send `/mesh text`; the answer posted to its response_url (the final one, not the "working" ack)."""
    name = f"c{next(_ids)}"
    status, _ = post_signed(url(server), slash_form(slack, text, channel=channel, response=name))
    assert status == 200
    call: Call = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "response_url" and c.body["_to"] == name), None),
        timeout=20,
    )
    return call.body


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in message["blocks"]:
        if "accessory" in block:
            found.append(block["accessory"])
        found.extend(block.get("elements", []) if block["type"] == "actions" else [])
    return found


def dump_text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def test_a_channel_not_allowed_gets_a_polite_refusal(server: Server, slack: SlackDouble) -> None:
    answer = dump_text(slash(server, slack, "status payments", channel="CRANDOM"))
    assert "not enabled in this channel" in answer and "`CALLOWED`" in answer
    assert '"actions"' not in answer  # no Plan button on a refusal
    assert "sidecar" not in answer  # nothing of the cluster leaked
    korean = dump_text(slash(server, slack, "precheck payments --lang ko", channel="CRANDOM"))
    assert "이 채널에서는 클러스터 명령을 쓸 수 없습니다" in korean


def test_knowledge_commands_work_in_any_channel(server: Server, slack: SlackDouble) -> None:
    answer = dump_text(slash(server, slack, "compare", channel="CRANDOM"))
    assert "ambient" in answer.lower() and "not enabled" not in answer


def test_status_answers_with_a_plan_button(server: Server, slack: SlackDouble) -> None:
    answer = slash(server, slack, "status payments")
    assert "payments" in dump_text(answer) and "sidecar" in dump_text(answer)
    plan = [b for b in buttons(answer) if action_name(b["action_id"]) == "plan"]
    assert plan and plan[0]["value"] == "payments"


def test_precheck_escapes_cluster_names_and_offers_explain(server: Server, slack: SlackDouble) -> None:
    answer = slash(server, slack, "precheck payments")
    text = dump_text(answer)
    assert "lua-filter" in text
    assert "<!channel>" not in text and "@here" not in text
    assert "lua-&lt;!channel&gt;-@\u2060here" in text  # the hostile EnvoyFilter is shown, defused
    explains = [b for b in buttons(answer) if action_name(b["action_id"]) == "explain"]
    assert explains and all(json.loads(b["value"])["kb"] for b in explains)


def test_explain_and_plan_buttons_answer_in_the_thread(server: Server, slack: SlackDouble) -> None:
    form = slash_form(slack, "precheck payments --public", channel="CALLOWED", response=f"c{next(_ids)}")
    status, ack = post_signed(url(server), form)  # public: posted with chat.postMessage, not the response_url
    assert status == 200 and "Reading the cluster" in ack.decode()
    posted = slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and "lua-filter" in c.text()]
    )[-1]
    ts = posted.result["ts"]
    explain = next(b for b in buttons(posted.body) if action_name(b["action_id"]) == "explain" and "lua" in b["value"])
    kb_id = json.loads(explain["value"])["kb"]
    before = len(slack.of("chat.postMessage"))
    payload = block_action_payload(slack, explain["action_id"], explain["value"], message_ts=ts)
    assert post_signed(url(server), block_action_form(payload))[0] == 200
    reply = slack.wait_method("chat.postMessage", before + 1)[before]
    assert reply.body["thread_ts"] == ts
    from knowledge import default

    assert default().entry(kb_id).title.en.split()[0] in reply.text()
    plan_button = next(b for b in buttons(posted.body) if action_name(b["action_id"]) == "plan")
    payload = block_action_payload(slack, plan_button["action_id"], plan_button["value"], message_ts=ts)
    post_signed(url(server), block_action_form(payload))
    plan = slack.wait_method("chat.postMessage", before + 2)[before + 1]
    assert plan.body["thread_ts"] == ts and "kubectl" in plan.text()


@pytest.mark.parametrize(
    ("question", "expected", "korean"),
    [
        ("payments 네임스페이스 ambient로 옮겨도 돼?", "lua-filter", True),
        # The policy that decides orders' mode comes only from the cluster, never from the question.
        ("is orders on STRICT mTLS?", "PeerAuthentication orders/default", False),
    ],
)
def test_a_question_naming_a_namespace_is_answered_from_the_cluster(
    server: Server, slack: SlackDouble, question: str, expected: str, korean: bool
) -> None:
    before = len(slack.of("chat.postMessage"))
    event = {
        "type": "app_mention",
        "channel": "CALLOWED",
        "user": "UALICE",
        "ts": f"1800001000.{before:06d}",
        "text": f"<@{BOT_USER}> {question}",
    }
    post_signed(url(server), event_body(event), content_type="application/json")
    answer = slack.wait_method("chat.postMessage", before + 1)[before]
    text = answer.text()
    assert expected in text
    assert ("설명" if korean else "What it means") in text  # the knowledge that explains the cluster's answer
    if korean:
        assert "차단" in text or "판정" in text or "네임스페이스" in text


def test_the_same_question_in_a_channel_without_cluster_access_gets_knowledge_only(
    server: Server, slack: SlackDouble
) -> None:
    before = len(slack.of("chat.postMessage"))
    event = {
        "type": "app_mention",
        "channel": "CRANDOM",
        "user": "UALICE",
        "ts": "1800002000.000001",
        "text": f"<@{BOT_USER}> payments 네임스페이스 ambient로 옮겨도 돼?",
    }
    post_signed(url(server), event_body(event), content_type="application/json")
    answer = slack.wait_method("chat.postMessage", before + 1)[before]
    assert "lua-filter" not in answer.text() and "payments-api" not in answer.text()


def test_namespace_permissions_limit_what_slack_may_read() -> None:
    settings = Settings(from_file=DEMO_PATH, cluster_namespaces=["payments"])
    router = Router(settings, reader_for(settings))
    asker = Asker(user="U1", channel="C1")
    assert "payments" in router.run("status", ["payments"], asker, "en").model_dump_json()
    refused = router.run("status", ["orders"], asker, "en")
    assert "only look at these namespaces" in refused.sections[0].text and "orders" not in refused.model_dump_json()
    whole = router.run("precheck", [], asker, "en")
    assert "name one of them" in whole.sections[0].text
    question = router.question("is orders on STRICT mTLS?", asker)
    assert "orders" not in json.dumps(question.reply.data.get("cluster", {}))


def test_a_report_too_large_for_one_message_is_summarised_and_uploaded(big_server: Server, slack: SlackDouble) -> None:
    uploads_before = len(slack.of("files.completeUploadExternal"))
    answer = slash(big_server, slack, "precheck")
    blocks = answer["blocks"]
    assert len(blocks) <= 50
    text = dump_text(answer)
    assert "too large for one message" in text and "direct messages" in text
    opened = slack.of("conversations.open")[-1]
    assert opened.body["users"] == "UALICE"
    done = slack.wait_method("files.completeUploadExternal", uploads_before + 1)[uploads_before]
    assert done.body["channel_id"] == "DUALICE"  # ephemeral stays private: the file goes to the asker's DM
    file_id = done.body["files"][0]["id"]
    report = slack.uploads[file_id].decode("utf-8")
    assert "pay-000" in report and "pay-199" in report and report.count("lua-filter") >= 200


def test_a_public_large_report_puts_the_file_in_the_summary_thread(big_server: Server, slack: SlackDouble) -> None:
    uploads_before = len(slack.of("files.completeUploadExternal"))
    name = f"c{next(_ids)}"
    post_signed(url(big_server), slash_form(slack, "precheck --public", channel="CALLOWED", response=name))
    done = slack.wait_method("files.completeUploadExternal", uploads_before + 1, timeout=20)[uploads_before]
    summary = next(
        c for c in reversed(slack.of("chat.postMessage")) if c.body.get("channel") == "CALLOWED" and "blocks" in c.body
    )
    assert done.body["channel_id"] == "CALLOWED" and done.body["thread_ts"] == summary.result["ts"]
    assert len(summary.body["blocks"]) <= 50


def test_a_channel_can_be_limited_to_some_namespaces() -> None:
    settings = Settings(from_file=DEMO_PATH, cluster_channels=["CALL", "CPAY:payments|catalog"])
    router = Router(settings, reader_for(settings))
    assert router.grant("CALL") == (True, None)
    assert router.grant("CPAY") == (True, ["payments", "catalog"])
    assert router.grant("COTHER") == (False, None)
    pay = Asker(user="U1", channel="CPAY")
    assert not router.run("status", ["catalog"], pay, "en").error
    assert "only look at these namespaces" in router.run("status", ["orders"], pay, "en").sections[0].text
    assert "orders" in router.run("status", ["orders"], Asker(user="U1", channel="CALL"), "en").model_dump_json()
    refused = router.run("status", ["orders"], Asker(user="U1", channel="COTHER"), "en")
    assert "`CALL`, `CPAY`" in refused.sections[0].text  # where it would work, without the namespace lists
