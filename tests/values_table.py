"""The README's table of chart values, made from values.schema.json and values.yaml (run it to refresh)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "helm" / "meshbot"
README = ROOT / "README.md"
START, END = "<!-- values:start -->", "<!-- values:end -->"


def _rows(properties: dict[str, Any], defaults: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for name, spec in properties.items():
        if name == "global":
            continue
        key = prefix + name
        default = defaults.get(name)
        # Objects whose parts are documented one by one get a row per part.
        if "properties" in spec and all("description" in sub for sub in spec["properties"].values()):
            rows += _rows(spec["properties"], default or {}, key + ".")
            continue
        shown = "—"
        if default not in ("", None, [], {}):
            text = json.dumps(default, ensure_ascii=False)
            shown = "`" + (text if len(text) <= 60 else text[:57] + "…") + "`"
        rows.append(f"| `{key}` | {shown} | {spec.get('description', '')} |")
    return rows


def table_from_schema() -> str:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    lines = ["| value | default | what it does |", "| --- | --- | --- |", *_rows(schema["properties"], defaults)]
    return "\n".join(lines)


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    return found.group(1) if found else ""


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{table_from_schema()}\n{END}"
    if START in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
