"""The cluster reader's error texts, kept in reader_messages.yaml rather than in code."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, RootModel

from cluster.errors import ClusterError

TEXTS_FILE = Path(__file__).with_name("reader_messages.yaml")


class _Text(BaseModel):
    en: str
    ko: str


class _Texts(RootModel[dict[str, _Text]]):
    pass


@cache
def _texts() -> dict[str, _Text]:
    return _Texts.model_validate(yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))).root


def text(key: str, language: str, **fields: Any) -> str:
    entry = _texts()[key]
    return (entry.ko if language == "ko" else entry.en).format(**fields)


def cluster_error(key: str, **fields: Any) -> ClusterError:
    """A ClusterError whose en/ko texts come from reader_messages.yaml."""
    return ClusterError(text(key, "en", **fields), text(key, "ko", **fields))
