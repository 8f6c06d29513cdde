"""UI texts (headings, labels) in both languages, kept in messages.yaml rather than in code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, RootModel

from knowledge import Language

MESSAGES_FILE = Path(__file__).with_name("messages.yaml")


class Message(BaseModel):
    en: str
    ko: str


class Messages(RootModel[dict[str, Message]]):
    pass


@cache
def _messages() -> dict[str, Message]:
    return Messages.model_validate(yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))).root


def msg(key: str, language: Language, **fields: Any) -> str:
    """The UI text `key` in `language`, with `{field}` placeholders filled."""
    text = getattr(_messages()[key], language)
    return text.format(**fields) if fields else text
