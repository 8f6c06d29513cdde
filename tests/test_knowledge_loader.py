"""Broken knowledge files fail loudly with their file and field, in Python and through the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from knowledge import KnowledgeError, load
from knowledge.base import DIR_ENV, default

KB_MIN = Path(__file__).with_name("fixtures") / "kb_min"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(KB_MIN, target)
    return target


@pytest.fixture
def fresh_default() -> Iterator[None]:
    """`default()` caches one knowledge base per process; these tests point it elsewhere."""
    default.cache_clear()
    yield
    default.cache_clear()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_loads_with_its_vocabulary(kb_dir: Path) -> None:
    kb = load(kb_dir)
    assert set(kb.entries) == {"envoyfilter-ambient", "waypoint-deploy", "mtls-strict"}
    assert kb.vocabulary is not None and "envoyfilter" in {t.term for t in kb.vocabulary.terms}
    assert kb.advice is None  # optional: advise falls back to its default rule


def test_bundled_knowledge_has_vocabulary_and_advice(fresh_default: None) -> None:
    kb = default()
    assert kb.vocabulary is not None and len(kb.vocabulary.terms) > 50
    assert kb.advice is not None and kb.advice.waypoint_serves


def test_bad_yaml_names_the_file(kb_dir: Path) -> None:
    (kb_dir / "entries" / "core.yaml").write_text("entries: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path == kb_dir / "entries" / "core.yaml"
    assert "not valid YAML" in str(err.value)


def test_missing_field_names_file_and_field(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "core.yaml", '    source: {seed: "Waypoint 배포"}\n', "")
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path.name == "core.yaml"
    assert "entries.1.source" in err.value.problem and "required" in err.value.problem.lower()


def test_unknown_related_id(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "core.yaml", "related: [waypoint-deploy]", "related: [no-such-entry]")
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path.name == "core.yaml"
    assert "envoyfilter-ambient.related.0" in err.value.problem and "no-such-entry" in err.value.problem


def test_duplicate_id_across_files(kb_dir: Path) -> None:
    text = (kb_dir / "entries" / "core.yaml").read_text(encoding="utf-8")
    (kb_dir / "entries" / "z-copy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path.name == "z-copy.yaml"
    assert "envoyfilter-ambient" in err.value.problem and "core.yaml" in err.value.problem


def test_vocabulary_variant_claimed_by_two_terms(kb_dir: Path) -> None:
    edit(kb_dir / "synonyms.yaml", "variants: [layer 7]", "variants: [layer 7, 웨이포인트]")
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path.name == "synonyms.yaml"
    assert "웨이포인트" in err.value.problem and "terms" in err.value.problem


def test_advice_naming_an_unknown_need(kb_dir: Path) -> None:
    (kb_dir / "advice.yaml").write_text(
        "only_ambient: [legacy-no-injection]\nwaypoint_serves: [l7, telepathy]\nrule: {en: r, ko: r}\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as err:
        load(kb_dir)
    assert err.value.path.name == "advice.yaml"
    assert "waypoint_serves.1" in err.value.problem and "telepathy" in err.value.problem


def test_cli_reports_a_broken_knowledge_dir_in_one_line(
    kb_dir: Path, fresh_default: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(kb_dir / "entries" / "core.yaml", "related: [waypoint-deploy]", "related: [no-such-entry]")
    monkeypatch.setenv(DIR_ENV, str(kb_dir))
    code = main(["ask", "ambient EnvoyFilter?"])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "core.yaml" in lines[0] and "no-such-entry" in lines[0]
    assert "Traceback" not in err


def test_cli_uses_the_knowledge_dir_from_the_environment(
    kb_dir: Path, fresh_default: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DIR_ENV, str(kb_dir))
    assert main(["limits", "-o", "json"]) == 0
    assert '"key": "fault-injection"' in capsys.readouterr().out  # only the fixture has exactly these two rows


def test_subprocess_missing_knowledge_dir(tmp_path: Path) -> None:
    env = {**os.environ, DIR_ENV: str(tmp_path / "nowhere")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "compare"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "nowhere" in proc.stderr
