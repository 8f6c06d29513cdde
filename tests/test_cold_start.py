"""A fresh terminal command imports only what it uses (DESIGN budget: `ask` under 0.5 s CPU in a fresh process).

Each check runs a new interpreter and reads its `sys.modules`: importing a module is the cost we
keep out, and only a fresh process shows whether something pulls it in.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from handlers import COMMANDS
from handlers.registry import Command, Commands
from knowledge import default
from knowledge.bm25 import BM25, K1, B
from knowledge.text import _any_pattern, _pattern, clean

ROOT = Path(__file__).resolve().parents[1]

VOCABULARY = default().vocabulary
UNUSED_BY_ASK = (
    "handlers.digest",
    "handlers.migrate",
    "handlers.traffic",
    "handlers.schedules",
    "handlers.mesh_facts",
    "cluster.analysis",
    "bot.store",
    "bot.slack",
    "sqlalchemy",
    "kubernetes",
    "matplotlib",
    "apscheduler",
    "slack_bolt",
    "prometheus_client",
)
"""What a knowledge answer on the terminal never needs: other commands, the store, the cluster, Slack."""


def fresh(code: str) -> Any:
    """Run `code` in a new interpreter (no cluster source or store configured); it prints one JSON object."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHBOT_") or k == "MESHBOT_CACHE_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def loaded_after(code: str) -> set[str]:
    return set(fresh(f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"))


def test_a_fresh_ask_imports_neither_other_commands_nor_the_store_nor_the_cluster() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from bot.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['ask', 'ambient에서 EnvoyFilter 써도 돼?'])\n"
        "print(json.dumps({'code': code, 'answer': out.getvalue(), 'modules': sorted(sys.modules)}))"
    )
    result = fresh(code)
    assert result["code"] == 0
    assert "EnvoyFilter" in str(result["answer"])  # it did answer, in full
    modules = set(result["modules"])
    assert "handlers.ask" in modules
    pulled_in = sorted(m for m in modules if any(m == name or m.startswith(f"{name}.") for name in UNUSED_BY_ASK))
    assert pulled_in == []


def test_looking_up_a_command_imports_its_module_alone() -> None:
    modules = loaded_after("from handlers import COMMANDS\nassert COMMANDS['status'].reads_cluster")
    assert "handlers.status" in modules
    assert not {f"handlers.{name}" for name in ("ask", "digest", "migrate", "help")} & modules


def test_listing_the_commands_imports_every_one_and_each_lives_in_the_module_of_its_name() -> None:
    names = fresh("import json\nfrom handlers import COMMANDS\nprint(json.dumps(sorted(COMMANDS)))")
    assert {"ask", "digest", "help", "migrate", "status"} <= set(names)
    declared = {n for n in COMMANDS if not n.endswith("-test")}  # tests may register their own
    assert declared == set(names)
    for name in names:
        assert COMMANDS[name].run.__module__ == "handlers.registry"  # registered through @command
        assert f"handlers.{name}" in sys.modules


@pytest.mark.parametrize("word", ["registry", "context", "digest_model", "../bot", "ask.x", "", "no-such"])
def test_a_word_that_is_no_command_is_no_command(word: str) -> None:
    assert word not in COMMANDS
    with pytest.raises(KeyError):
        COMMANDS[word]


def test_a_command_declared_outside_the_module_of_its_name_is_refused() -> None:
    commands = Commands("handlers")
    ask = COMMANDS["ask"]
    with pytest.raises(TypeError, match=r"declare it in handlers\.ask"):
        commands.register(ask, "handlers.cluster_question")
    commands.register(ask, "handlers.ask")
    with pytest.raises(ValueError, match="twice"):
        commands.register(ask, "handlers.ask")
    assert isinstance(commands["ask"], Command)


def test_the_terminal_builds_only_the_parser_of_the_command_it_runs() -> None:
    modules = loaded_after("from bot.cli import main\nassert main(['limits', '--output', 'json']) == 0")
    assert "handlers.limits" in modules
    assert "handlers.digest" not in modules
    modules = loaded_after("from bot.cli import main\nassert main(['no-such-command']) == 2")
    assert "handlers.digest" in modules  # the whole help, as before


def test_help_on_the_terminal_still_knows_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", "digest"]) == 0  # `help TOPIC` reads the topic's own parser
    assert "--channel" in capsys.readouterr().out


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from("abcdefg"), max_size=8), min_size=1, max_size=6),
    query=st.lists(st.sampled_from("abcdefgh"), max_size=5),
)
def test_bm25_scores_are_lucenes_formula_and_survive_the_cache(docs: list[list[str]], query: list[str]) -> None:
    """The postings are stored flat so the cached index unpickles fast; the scores must not change."""
    n, avg = len(docs), (sum(map(len, docs)) / len(docs)) or 1.0

    def expected(doc: list[str]) -> float:
        total = 0.0
        for token in query:
            tf, df = doc.count(token), sum(token in d for d in docs)
            if tf:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                total += idf * tf / (tf + K1 * (1 - B + B * len(doc) / avg))
        return total

    bm25 = BM25(docs)
    want = [expected(doc) for doc in docs]
    assert bm25.get_scores(query) == pytest.approx(want)
    assert pickle.loads(pickle.dumps(bm25)).get_scores(query) == pytest.approx(want)


OFF_TOPIC = sorted(
    {clean(w) for w in [*VOCABULARY.off_topic, *VOCABULARY.other_meshes]} if VOCABULARY else set(),
    key=len,
    reverse=True,
)
ONE_BY_ONE = re.compile("|".join(_pattern(w) for w in OFF_TOPIC))
PIECES = [*OFF_TOPIC, "s", "es", " ", "-", "_", "x", "1", "가", "을", ".", "ambient"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=5).map("".join))
def test_the_off_topic_regex_matches_what_its_words_one_by_one_match(text: str) -> None:
    """Its word edges are written once (it is recompiled in every fresh process), with the same answers."""
    assert OFF_TOPIC  # the bundled vocabulary names other products
    assert (re.search(_any_pattern(OFF_TOPIC), text) is None) == (ONE_BY_ONE.search(text) is None)
