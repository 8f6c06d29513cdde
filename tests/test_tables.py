"""`compare`, `limits`, `checklist`: the seed's tables in both languages, text and JSON."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.render_text import width
from knowledge import KnowledgeBase
from knowledge import default as default_kb


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return default_kb()


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main([*argv, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def table_blocks(text: str) -> list[list[str]]:
    """Each rendered table: its header, the rule under it and its rows (the lines up to the next blank line)."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line and set(line) == {"─"} and i > 0:
            block = [lines[i - 1], line]
            for row in lines[i + 1 :]:
                if not row.strip():
                    break
                block.append(row)
            blocks.append(block)
    return blocks


def cell_index(line: str, position: int) -> int:
    return sum(width(ch) for ch in line[:position])


def assert_aligned(block: list[str]) -> None:
    """Every column starts at the same terminal cell on every line (Hangul counts two cells)."""
    header = block[0]
    starts = [cell_index(header, i) for i in range(2, len(header)) if header[i] != " " and header[i - 2 : i] == "  "]
    assert starts, header
    for line in block[2:]:
        for start in starts:
            cells = 0
            for n, ch in enumerate(line):
                if cells >= start:
                    assert line[n - 1] == " " and line[n - 2] == " ", (line, start)
                    break
                cells += width(ch)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide enough that the tables are tables (narrower, long prose becomes one record per row)."""
    monkeypatch.setenv("COLUMNS", "400")


def test_alignment_check_catches_a_shifted_column() -> None:
    good = ["항목   Sidecar", "──────────────", "abcd   x"]
    assert_aligned(good)
    with pytest.raises(AssertionError):
        assert_aligned(["항목   Sidecar", "──────────────", "abcdefgh x"])


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_compare_table_and_figures(kb: KnowledgeBase, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--lang", lang]) == 0
    out = capsys.readouterr().out
    blocks = table_blocks(out)
    assert len(blocks) == 2  # the comparison and the measured figures
    assert len(blocks[0]) == 2 + len(kb.comparison.rows) and len(blocks[1]) == 2 + len(kb.comparison.figures)
    for block in blocks:
        assert_aligned(block)
    first = kb.comparison.rows[0]
    assert (first.aspect.ko if lang == "ko" else first.aspect.en) in out
    assert ("실측" in out) == (lang == "ko")


def test_compare_json_mirrors_the_table(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "compare", "--lang", "ko")
    assert code == 0
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == len(kb.comparison.rows)
    assert rows[0] == {
        "aspect": kb.comparison.rows[0].aspect.ko,
        "sidecar": kb.comparison.rows[0].sidecar.ko,
        "ambient": kb.comparison.rows[0].ambient.ko,
        "kb": kb.comparison.rows[0].kb,
    }
    assert isinstance(data["figures"], list) and len(data["figures"]) == len(kb.comparison.figures)


def test_limits_table(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits"]) == 0
    blocks = table_blocks(capsys.readouterr().out)
    assert len(blocks) == 1 and len(blocks[0]) == 2 + len(kb.limitations)
    assert_aligned(blocks[0])
    code, data = run_json(capsys, "limits")
    assert code == 0 and [r["key"] for r in data["limitations"]] == [r.key for r in kb.limitations]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "key"), [("envoyfilter", "envoyfilter"), ("엔보이필터", "envoyfilter"), ("LUA", "lua")]
)
def test_limits_one_feature(name: str, key: str, kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "limits", name, "--lang", "ko")
    assert code == 0
    (row,) = data["limitations"]  # type: ignore[misc]
    expected = next(r for r in kb.limitations if r.key == key)
    assert row == {
        "key": key,
        "feature": expected.feature.ko,
        "status": expected.status.ko,
        "alternative": expected.alternative.ko,
        "kb": expected.kb,
    }


def test_limits_unknown_feature_lists_the_keys(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limits", "teleport"]) == 2
    err = capsys.readouterr().err
    assert "Unknown feature teleport" in err
    assert all(r.key in err for r in kb.limitations)


def test_checklist_list_and_actions(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "checklist")
    assert code == 0
    assert [c["key"] for c in data["checklists"]] == list(kb.checklists)  # type: ignore[attr-defined]
    assert {"sidecar", "ambient", "migration", "ambient-migration"} <= set(kb.checklists)


@pytest.mark.parametrize("key", ["sidecar", "ambient", "migration", "ambient-migration"])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_each_checklist(key: str, lang: str, kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "checklist", key, "--lang", lang)
    assert code == 0
    shown = data["checklist"]
    expected = kb.checklists[key]
    assert isinstance(shown, dict) and shown["key"] == key
    assert shown["title"] == expected.title.in_(lang)  # type: ignore[arg-type]
    items = [i["text"] for g in shown["groups"] for i in g["items"]]
    assert items == [i.text.in_(lang) for g in expected.groups for i in g.items]  # type: ignore[arg-type]
    assert main(["checklist", key, "--lang", lang]) == 0
    assert capsys.readouterr().out.count("• [ ] ") == len(items)  # a rendered Markdown list


def test_checklist_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checklist", "bogus", "--lang", "ko"]) == 2
    err = capsys.readouterr().err
    assert "알 수 없는 체크리스트 bogus" in err and "ambient-migration" in err
