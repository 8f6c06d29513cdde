"""`--output markdown`: a report that a GitHub-like renderer (markdown-it-py, CommonMark + GFM tables) reads
as intended: a heading, the tables, no raw HTML, whatever the cluster's names hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ["--from-file", str(ROOT / "cluster" / "demo")]
GFM = MarkdownIt("commonmark").enable("table").enable("strikethrough")

HOSTILE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec:
  containers: [{name: api, image: api}, {name: istio-proxy, image: proxyv2}]
status: {phase: Running}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: "<script>alert(1)</script>", namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: "x|<b>y</b>|*z*", namespace: shop}
spec:
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
"""


def tokens(text: str) -> list[Token]:
    """Every token, inline children included."""
    flat: list[Token] = []
    for token in GFM.parse(text):
        flat.append(token)
        flat.extend(token.children or [])
    return flat


def tables(text: str) -> list[dict[str, Any]]:
    """Each table as its header cells and body rows (cell texts)."""
    found: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    row: list[str] = []
    for token in GFM.parse(text):
        if token.type == "table_open":
            current = {"header": [], "rows": []}
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and current is not None:
            row.append(token.content)
        elif token.type == "tr_close" and current is not None:
            (current["rows"].append(row) if current["header"] else current["header"].extend(row))
        elif token.type == "table_close" and current is not None:
            found.append(current)
            current = None
    return found


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*argv, "--output", "markdown"])
    return code, capsys.readouterr().out


def test_precheck_report_parses_into_heading_table_and_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = report(capsys, "precheck", *DEMO)
    assert code == 0
    parsed = GFM.parse(text)
    assert parsed[0].type == "heading_open" and parsed[0].tag == "h2"
    assert parsed[1].content == "Ambient migration precheck"
    assert not [t for t in tokens(text) if t.type in ("html_block", "html_inline")]
    assert main(["precheck", *DEMO, "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (verdicts,) = [t for t in tables(text) if "verdict" in t["header"]]
    column = verdicts["header"].index("verdict")
    assert {r[0]: r[column] for r in verdicts["rows"]} == {ns["name"]: ns["verdict"] for ns in data["namespaces"]}
    headings = [t.content for t in tokens(text) if t.type == "inline"]
    assert "Summary" in headings and any(h.startswith("Findings (") for h in headings)
    blockers = {f["code"] for ns in data["namespaces"] for f in ns["findings"] if f["severity"] == "blocker"}
    listed = {t.content for t in tokens(text) if t.type == "code_inline"}
    assert blockers <= listed  # every blocker is named in the report
    assert "<table>" in GFM.render(text)


@pytest.mark.parametrize(
    ("argv", "column"),
    [
        (["status"], "mode"),
        (["mtls"], "namespace"),
        (["plan", "orders"], None),
        (["savings"], "sidecar"),
    ],
)
def test_every_cluster_report_is_markdown(
    argv: list[str], column: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = report(capsys, *argv, *DEMO)
    assert code == 0
    parsed = GFM.parse(text)
    assert parsed[0].tag == "h2"
    assert not [t for t in tokens(text) if t.type in ("html_block", "html_inline")]
    if column is not None:
        assert any(column in t["header"] for t in tables(text))
    else:  # a plan is its commands, as code blocks that survive the renderer
        fences = [t for t in parsed if t.type == "fence"]
        assert fences and any("kubectl label namespace orders" in f.content for f in fences)


def test_cluster_text_cannot_inject_html_or_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "dump.yaml"
    dump.write_text(HOSTILE, encoding="utf-8")
    code, text = report(capsys, "precheck", "--from-file", str(dump))
    assert code == 0
    assert not [t for t in tokens(text) if t.type in ("html_block", "html_inline")]
    html = GFM.render(text)
    assert "<script>" not in html and "<b>" not in html and "<em>z</em>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    plain = " ".join(t.content for t in tokens(text) if t.type == "text")
    assert "x|<b>y</b>|*z*" in plain  # the name reads as it is


def test_the_gate_fails_and_still_reports(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = report(capsys, "precheck", *DEMO, "--fail-on", "blocked")
    assert code == 1
    assert GFM.parse(text)[0].tag == "h2" and "--fail-on blocked" in text


def test_a_long_table_keeps_the_rows_that_need_attention() -> None:
    from bot.render_markdown import render_markdown
    from handlers.reply import Reply, Section, Table

    rows = [[f"ns-{i}", "sidecar", "blocked" if i % 7 == 0 else "ready"] for i in range(300)]
    tones = ["blocker" if i % 7 == 0 else None for i in range(300)]
    text = render_markdown(
        Reply(
            title="t",
            sections=[Section(table=Table(columns=["namespace", "mode", "verdict"], rows=rows, row_severity=tones))],
        )  # type: ignore[arg-type]
    )
    (shown,) = tables(text)
    assert [r[0] for r in shown["rows"]] == [f"ns-{i}" for i in range(0, 300, 7)]
    assert "43 of 300 rows" in text and len(text) < 65_000
