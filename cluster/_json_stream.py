"""Decoding a JSON `List` dump one item at a time.

`kubectl get pods -A -o json` on a large cluster prints one object holding every pod; decoding it whole
costs several times the file size in dicts. Here the top-level object's fields are decoded one by one and
the items of its `items` array are yielded as they are decoded, so one item at a time is alive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _expect(text: str, pos: int, char: str) -> int:
    if text[pos : pos + 1] != char:
        raise json.JSONDecodeError(f"Expecting '{char}'", text, pos)
    return _skip(text, pos + 1)


def _separator(text: str, pos: int, closer: str, container: str) -> int:
    """After a value: a comma (not trailing) moves to the next value; else the container must close here."""
    if text[pos : pos + 1] == ",":
        pos = _skip(text, pos + 1)
        if text[pos : pos + 1] == closer:
            raise json.JSONDecodeError(f"Illegal trailing comma before end of {container}", text, pos)
    elif text[pos : pos + 1] != closer:
        raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    return pos


def iter_json(text: str) -> Iterator[Any]:
    """Yield the documents of a JSON text: a List's items one by one (then the List's own fields, with the
    items that needed them, as a List), or the whole value when it is not an object with `items`.

    Items are yielded before the List's `kind` is known (kubectl prints keys sorted: `items` before `kind`);
    items lacking `kind` are held back and yielded at the end inside a List carrying the list's kind.
    """
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        yield _DECODER.decode(text)
        return
    pos = _skip(text, pos + 1)
    head: dict[str, Any] = {}
    held: list[Any] = []
    streamed = False
    while text[pos : pos + 1] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(key, str):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        pos = _expect(text, _skip(text, pos), ":")
        if key == "items" and text[pos : pos + 1] == "[":
            streamed = True
            pos = _skip(text, pos + 1)
            while text[pos : pos + 1] != "]":
                item, pos = _DECODER.raw_decode(text, pos)
                if isinstance(item, dict) and item.get("kind"):
                    yield item
                else:
                    held.append(item)
                pos = _separator(text, _skip(text, pos), "]", "array")
            pos = _skip(text, pos + 1)
        else:
            head[key], pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
        pos = _separator(text, pos, "}", "object")
    if _skip(text, pos + 1) != len(text):
        raise json.JSONDecodeError("Extra data", text, _skip(text, pos + 1))
    if streamed:
        head["items"] = held
    yield head
