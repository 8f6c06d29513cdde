"""UI texts (headings, labels) in both languages, kept in messages_data/*.yaml rather than in code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from knowledge import Language
from knowledge.base import yaml_load

MESSAGES_DIR = Path(__file__).with_name("messages_data")


class Message(BaseModel):
    en: str
    ko: str


class Messages(RootModel[dict[str, Message]]):
    pass


@cache
def _messages() -> dict[str, Message]:
    merged: dict[str, Message] = {}
    for path in sorted(MESSAGES_DIR.glob("*.yaml")):
        for key, message in Messages.model_validate(yaml_load(path.read_text(encoding="utf-8"))).root.items():
            if key in merged:
                raise ValueError(f"{path}: message key {key!r} is defined twice")
            merged[key] = message
    return merged


def msg(key: str, language: Language, **fields: Any) -> str:
    """The UI text `key` in `language`, with `{field}` placeholders filled."""
    message = _messages()[key]
    text = message.ko if language == "ko" else message.en
    return text.format(**fields) if fields else text
