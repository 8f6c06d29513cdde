"""The real Slack app in HTTP mode, over real HTTP, against the Slack Web API double.

Requests are signed the way Slack signs them; answers are observed where Slack would see them
(the response_url, chat.postMessage, file uploads) through the double's records.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.slack.serve import Server
from knowledge import default as default_knowledge
from tests.slack_double import (
    BOT_USER,
    SIGNING_SECRET,
    SlackDouble,
    block_action_form,
    block_action_payload,
    event_body,
    post_signed,
    slash_form,
)

_ids = itertools.count(1)


def rid() -> str:
    return f"r{next(_ids)}"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="module")
def server(slack: SlackDouble) -> Iterator[Server]:
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        cluster_channels=["CALLOWED"],
    )
    srv = Server(settings, "http", read_cluster=None, host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.stop(grace=2)


def events_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/slack/events"


def wait_response(slack: SlackDouble, name: str) -> dict[str, Any]:
    call = slack.wait_for(
        lambda calls: next((c for c in calls if c.method == "response_url" and c.body["_to"] == name), None)
    )
    return call.body  # type: ignore[no-any-return]


def slash(server: Server, slack: SlackDouble, text: str, **kw: str) -> tuple[int, bytes, str]:
    name = rid()
    status, body = post_signed(events_url(server), slash_form(slack, text, response=name, **kw))
    return status, body, name


def blob(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


# --- signatures and bad input -------------------------------------------------------------------


def test_forged_signature_is_401(server: Server, slack: SlackDouble) -> None:
    status, _ = post_signed(events_url(server), slash_form(slack, "help"), secret="not-the-secret")
    assert status == 401


def test_stale_signature_is_401_even_when_correctly_signed(server: Server, slack: SlackDouble) -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    status, _ = post_signed(events_url(server), slash_form(slack, "help"), timestamp=six_minutes_ago)
    assert status == 401


def test_non_numeric_timestamp_is_401(server: Server, slack: SlackDouble) -> None:
    status, _ = post_signed(events_url(server), slash_form(slack, "help"), timestamp="yesterday")
    assert status == 401


def test_missing_signature_is_401(server: Server) -> None:
    request = urllib.request.Request(events_url(server), data=b"command=%2Fmesh&text=help", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ('{"no": "type"}', "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ("text=help&user_id=U1", "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
    ],
)
def test_malformed_signed_body_is_4xx_never_5xx(server: Server, body: str | bytes, content_type: str) -> None:
    status, _ = post_signed(events_url(server), body, content_type=content_type)
    assert 400 <= status < 500


def test_signed_event_without_event_is_not_a_5xx(server: Server) -> None:
    body = json.dumps({"type": "event_callback", "team_id": "T0MESHBOT", "event": "not-an-object"})
    status, _ = post_signed(events_url(server), body, content_type="application/json")
    assert status < 500


def test_url_verification_challenge(server: Server) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"})
    status, answer = post_signed(events_url(server), body, content_type="application/json")
    assert status == 200 and b"c-123" in answer


# --- slash commands ------------------------------------------------------------------------------


def test_slash_command_acks_fast_and_answers_ephemerally(server: Server, slack: SlackDouble) -> None:
    started = time.perf_counter()
    status, _, name = slash(server, slack, "help")
    ack_seconds = time.perf_counter() - started
    assert status == 200
    assert ack_seconds < 1.0
    answer = wait_response(slack, name)
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["type"] == "header"
    assert "help [COMMAND]" in blob(answer)


@pytest.mark.parametrize("text", ["", "frobnicate the mesh"])
def test_no_or_unknown_subcommand_gets_help(server: Server, slack: SlackDouble, text: str) -> None:
    _, _, name = slash(server, slack, text)
    answer = blob(wait_response(slack, name))
    assert "help [COMMAND]" in answer
    if text:
        assert "frobnicate" in answer  # says which word it did not know


def test_bad_quoting_gets_a_clear_message(server: Server, slack: SlackDouble) -> None:
    _, _, name = slash(server, slack, 'help "unterminated')
    answer = blob(wait_response(slack, name))
    assert "No closing quotation" in answer and "quote" in answer.lower()


def test_lang_flag_and_hangul_answer_in_korean(server: Server, slack: SlackDouble) -> None:
    _, _, name = slash(server, slack, "help --lang ko")
    assert "meshbot 명령어" in blob(wait_response(slack, name))
    _, _, name = slash(server, slack, "도움말")
    assert "meshbot 명령어" in blob(wait_response(slack, name))
    _, _, name = slash(server, slack, "help")
    assert "meshbot commands" in blob(wait_response(slack, name))


def test_user_text_reaches_slack_escaped(server: Server, slack: SlackDouble) -> None:
    # Slack sends what people type with &, <, > as entities; a broadcast mention arrives as <!channel>.
    _, _, name = slash(server, slack, 'help "<!channel>&lt;!here&gt; @here @everyone"')
    answer = blob(wait_response(slack, name))
    assert "<!channel>" not in answer and "<!here>" not in answer
    assert "&lt;!channel&gt;" in answer
    for word in ("@here", "@everyone", "@channel"):
        assert word not in answer


def test_a_question_with_broadcast_mentions_reaches_slack_escaped(server: Server, slack: SlackDouble) -> None:
    _, _, name = slash(server, slack, "ask <!channel> is ambient ready for production? @here &lt;!everyone&gt;")
    answer = blob(wait_response(slack, name))
    assert "&lt;!channel&gt; is ambient ready for production? @\u2060here &lt;!everyone&gt;" in answer
    assert "<!channel>" not in answer and "<!everyone>" not in answer and "@here" not in answer


def test_advise_offers_its_questions_as_buttons_and_a_click_adds_a_need(server: Server, slack: SlackDouble) -> None:
    _, _, name = slash(server, slack, "advise")
    first = wait_response(slack, name)
    needs = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(needs) == len(default_knowledge().decision.needs)
    l7 = next(e for e in needs if json.loads(e["value"])["argv"] == ["--need", "l7"])
    clicked = rid()
    payload = block_action_payload(slack, l7["action_id"], l7["value"], ephemeral=True, response=clicked)
    assert post_signed(events_url(server), block_action_form(payload))[0] == 200
    refined = wait_response(slack, clicked)
    assert refined["replace_original"] is True
    assert "sidecar" in blob(refined).lower() or "waypoint" in blob(refined).lower()
    left = [json.loads(e["value"])["argv"] for b in refined["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert left and all(chosen[:2] == ["--need", "l7"] and len(chosen) == 4 for chosen in left)  # adds to l7


def test_public_posts_in_channel_and_its_thread_becomes_a_conversation(server: Server, slack: SlackDouble) -> None:
    before = len(slack.of("chat.postMessage"))
    status, _, name = slash(server, slack, "help --public", channel="CPUBLIC1")
    assert status == 200
    posted = slack.wait_method("chat.postMessage", before + 1)[before]
    assert posted.body["channel"] == "CPUBLIC1"
    assert not [c for c in slack.of("response_url") if c.body["_to"] == name]
    root_ts = posted.result["ts"]
    # A reply in that thread is a question for the bot, answered in the same thread.
    reply = {
        "type": "message",
        "channel": "CPUBLIC1",
        "channel_type": "channel",
        "user": "UBOB",
        "text": "what is a waypoint?",
        "ts": "1800000000.000200",
        "thread_ts": root_ts,
    }
    assert post_signed(events_url(server), event_body(reply), content_type="application/json")[0] == 200
    answer = slack.wait_method("chat.postMessage", before + 2)[before + 1]
    assert answer.body["channel"] == "CPUBLIC1" and answer.body["thread_ts"] == root_ts


def test_rate_limited_post_is_retried_after_retry_after(server: Server, slack: SlackDouble) -> None:
    slack.rate_limit_once("chat.postMessage", retry_after=1)
    before_ok = len(slack.of("chat.postMessage"))
    slash(server, slack, "help --public", channel="CRATE")
    posted = slack.wait_for(
        lambda calls: [c for c in calls if c.method == "chat.postMessage" and c.status == 200][before_ok:], timeout=15
    )
    limited = [c for c in slack.attempts("chat.postMessage") if c.status == 429]
    assert limited, "the double never answered 429"
    assert posted[0].body["channel"] == "CRATE"
    assert posted[0].at - limited[-1].at >= 0.9  # waited for Retry-After before retrying


# --- events ----------------------------------------------------------------------------------------


def test_mention_is_answered_in_its_thread(server: Server, slack: SlackDouble) -> None:
    before = len(slack.of("chat.postMessage"))
    event = {
        "type": "app_mention",
        "channel": "CMENTION",
        "user": "UALICE",
        "ts": "1800000001.000100",
        "text": f"<@{BOT_USER}> how do I roll back from ambient?",
    }
    assert post_signed(events_url(server), event_body(event), content_type="application/json")[0] == 200
    answer = slack.wait_method("chat.postMessage", before + 1)[before]
    assert answer.body["channel"] == "CMENTION"
    assert answer.body["thread_ts"] == "1800000001.000100"


def test_direct_message_is_answered_in_the_dm(server: Server, slack: SlackDouble) -> None:
    before = len(slack.of("chat.postMessage"))
    event = {
        "type": "message",
        "channel": "DALICE",
        "channel_type": "im",
        "user": "UALICE",
        "ts": "1800000002.000100",
        "text": "앰비언트 모드가 뭐야?",
    }
    post_signed(events_url(server), event_body(event), content_type="application/json")
    answer = slack.wait_method("chat.postMessage", before + 1)[before]
    assert answer.body["channel"] == "DALICE"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in answer.text())  # Korean question, Korean answer


def test_replies_in_other_threads_and_bot_messages_are_ignored(server: Server, slack: SlackDouble) -> None:
    before = len(slack.of("chat.postMessage"))
    stranger = {
        "type": "message",
        "channel": "COTHER",
        "channel_type": "channel",
        "user": "UBOB",
        "text": "unrelated chatter",
        "ts": "1800000003.000200",
        "thread_ts": "1700000999.000100",
    }
    own = {
        "type": "message",
        "channel": "DALICE",
        "channel_type": "im",
        "bot_id": "BBOTMESH",
        "text": "my own answer",
        "ts": "1800000003.000300",
    }
    for event in (stranger, own):
        post_signed(events_url(server), event_body(event), content_type="application/json")
    # A DM sent afterwards is answered: when it is, the two before it have been processed (same queue).
    marker = {
        "type": "message",
        "channel": "DMARK",
        "channel_type": "im",
        "user": "UALICE",
        "text": "what is ztunnel?",
        "ts": "1800000003.000400",
    }
    post_signed(events_url(server), event_body(marker), content_type="application/json")
    slack.wait_for(
        lambda calls: any(c.method == "chat.postMessage" and c.body.get("channel") == "DMARK" for c in calls)
    )
    time.sleep(0.3)
    channels = [c.body.get("channel") for c in slack.of("chat.postMessage")[before:]]
    assert channels == ["DMARK"]


# --- buttons ----------------------------------------------------------------------------------------


def test_explain_button_posts_the_knowledge_entry_in_the_thread(server: Server, slack: SlackDouble) -> None:
    kb = default_knowledge()
    entry_id = next(iter(kb.entries))
    before = len(slack.of("chat.postMessage"))
    value = json.dumps({"kb": entry_id, "lang": "ko"})
    payload = block_action_payload(slack, "explain#0", value, channel="CALLOWED", message_ts="1700000100.000100")
    assert post_signed(events_url(server), block_action_form(payload))[0] == 200
    answer = slack.wait_method("chat.postMessage", before + 1)[before]
    assert answer.body["thread_ts"] == "1700000100.000100"
    body_start = kb.entry(entry_id).body.ko.split("\n")[0][:20]
    assert (
        body_start.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in answer.text()
        or body_start in answer.text()
    )


def test_explain_on_an_ephemeral_message_answers_ephemerally(server: Server, slack: SlackDouble) -> None:
    kb = default_knowledge()
    entry_id = next(iter(kb.entries))
    name = rid()
    payload = block_action_payload(
        slack, "explain#3", json.dumps({"kb": entry_id, "lang": "en"}), ephemeral=True, response=name
    )
    post_signed(events_url(server), block_action_form(payload))
    answer = wait_response(slack, name)
    assert answer["response_type"] == "ephemeral"
    assert kb.entry(entry_id).title.en[:15] in blob(answer)


def test_button_with_garbage_value_is_acked_and_harmless(server: Server, slack: SlackDouble) -> None:
    payload = block_action_payload(slack, "explain#0", "}{ not json")
    status, _ = post_signed(events_url(server), block_action_form(payload))
    assert status == 200


# --- health ---------------------------------------------------------------------------------------------


def test_health_ready_and_metrics(server: Server, slack: SlackDouble) -> None:
    base = f"http://127.0.0.1:{server.port}"
    for path in ("/healthz", "/readyz"):
        with urllib.request.urlopen(base + path, timeout=5) as response:
            assert response.status == 200
    slash(server, slack, "help")
    time.sleep(0.2)
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert 'meshbot_commands_total{command="help"' in text
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(base + "/slack/events", timeout=5)
    assert caught.value.code == 405
