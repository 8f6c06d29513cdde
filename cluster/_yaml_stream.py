"""Decoding YAML dumps with libyaml's C parser, one object at a time.

`kubectl get … -A -o yaml` prints one document holding every object. PyYAML's loaders first compose the
whole document into a node graph (a Python object per scalar, with marks) and then construct it in Python:
for a 20k-pod dump that is minutes and gigabytes. Here libyaml's parser (`yaml.CSafeLoader`'s own C parser)
streams events, and objects are built straight from them with the safe loader's meaning of every scalar
(YAML 1.1 booleans, ints, floats, nulls; explicit tags through SafeConstructor); a List's `items` are
yielded one by one as they are built, so one item at a time is alive, as in `cluster._json_stream`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:omap"})
# Plain scalars starting with any other character are strings: the implicit resolvers are keyed by first character.
_IMPLICIT = Resolver.yaml_implicit_resolvers
PLAIN_CACHE = 50_000


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The C safe loader, used for its parser (events) and its resolver/constructor for non-string scalars."""


class _Builder:
    def __init__(self, stream: str | bytes | Readable, *, stream_sequences: bool = False) -> None:
        self.stream_sequences = stream_sequences
        self.loader = _Loader(stream)
        self.next = self.loader.get_event
        self.anchors: dict[str, Any] = {}
        self.constructor: SafeConstructor = self.loader
        self.plain: dict[str, Any] = {}  # plain scalars that resolve to non-strings repeat: 'true', '8080', …

    def close(self) -> None:
        self.loader.dispose()

    # -- values

    def value(self, event: Any) -> Any:
        kind = type(event)
        if kind is ScalarEvent:
            found = self.scalar(event)
        elif kind is MappingStartEvent:
            found = self.mapping(event)
        elif kind is SequenceStartEvent:
            found = self.sequence(event)
        elif kind is AliasEvent:
            if event.anchor not in self.anchors:
                raise ConstructorError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            return self.anchors[event.anchor]
        else:
            raise ConstructorError(None, None, f"unexpected {kind.__name__}", event.start_mark)
        if event.anchor is not None:
            self.anchors[event.anchor] = found
        return found

    def scalar(self, event: Any) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            if not event.implicit[0]:  # quoted (or `!`-tagged): a string
                return value
            if value and value[0] not in _IMPLICIT:
                return value
            try:
                return self.plain[value]
            except KeyError:
                pass
            tag = self.loader.resolve(ScalarNode, value, event.implicit)
            if tag == STR:
                found: Any = value
            else:
                found = self.constructor.construct_object(ScalarNode(tag, value, event.start_mark), deep=True)
            if len(self.plain) < PLAIN_CACHE and isinstance(found, str | int | float | bool | None):
                self.plain[value] = found  # immutable values only: a cached date or bytes could be shared
            return found
        if tag == STR:
            return value
        node = ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        return self.constructor.construct_object(node, deep=True)

    def mapping(self, start: Any) -> dict[Any, Any]:
        self._collection_tag(start)
        result: dict[Any, Any] = {}
        merges: list[Any] = []
        next_event, value_of = self.next, self.value
        while True:
            event = next_event()
            if type(event) is MappingEndEvent:
                break
            # Keys and most values are untagged plain or quoted strings: taken without a call (the hot path).
            if type(event) is ScalarEvent and event.tag is None and event.anchor is None:
                key = event.value
                if event.implicit[0] and (not key or key[0] in _IMPLICIT):
                    if key == "<<":
                        merges.append(value_of(next_event()))
                        continue
                    key = self.scalar(event)
            else:
                key = value_of(event)
            event = next_event()
            if type(event) is ScalarEvent and event.tag is None and event.anchor is None:
                value = event.value
                if event.implicit[0] and (not value or value[0] in _IMPLICIT):
                    value = self.scalar(event)
            else:
                value = value_of(event)
            try:
                result[key] = value
            except TypeError as exc:
                raise ConstructorError(
                    "while constructing a mapping", start.start_mark, "found unhashable key", event.start_mark
                ) from exc
        for merged in merges:  # YAML merge keys: the mapping's own keys win, then earlier merges
            for source in merged if isinstance(merged, list) else [merged]:
                if not isinstance(source, dict):
                    raise ConstructorError(
                        "while constructing a mapping", start.start_mark, "expected a mapping for merging", None
                    )
                for key, value in source.items():
                    result.setdefault(key, value)
        return result

    def sequence(self, start: Any) -> list[Any]:
        self._collection_tag(start)
        result: list[Any] = []
        next_event, value_of = self.next, self.value
        while True:
            event = next_event()
            kind = type(event)
            if kind is SequenceEndEvent:
                return result
            if kind is ScalarEvent and event.tag is None and event.anchor is None:
                value = event.value
                if event.implicit[0] and (not value or value[0] in _IMPLICIT):
                    value = self.scalar(event)
                result.append(value)
            else:
                result.append(value_of(event))

    @staticmethod
    def _collection_tag(event: Any) -> None:
        if event.tag not in _COLLECTION_TAGS:
            raise ConstructorError(
                None, None, f"could not determine a constructor for the tag {event.tag!r}", event.start_mark
            )

    # -- documents

    def documents(self) -> Iterator[Any]:
        """Each document's value; a top-level mapping's `items` sequence is yielded item by item, then the
        mapping without the items that carried their own `kind` (the rest stay in it, to be completed)."""
        while True:
            event = self.next()
            if type(event) is StreamEndEvent:
                return
            if type(event) is not DocumentStartEvent:
                continue  # StreamStartEvent
            self.anchors = {}
            first = self.next()
            if type(first) is MappingStartEvent and first.anchor is None:
                yield from self._top_mapping(first)
            elif self.stream_sequences and type(first) is SequenceStartEvent and first.anchor is None:
                self._collection_tag(first)
                while type(event := self.next()) is not SequenceEndEvent:
                    yield self.value(event)
            else:
                yield self.value(first)
            end = self.next()
            if type(end) is not DocumentEndEvent:  # pragma: no cover (libyaml guarantees it)
                raise ConstructorError(None, None, "expected the end of a document", end.start_mark)

    def _top_mapping(self, start: Any) -> Iterator[Any]:
        self._collection_tag(start)
        head: dict[Any, Any] = {}
        held: list[Any] = []
        streamed = False
        while True:
            event = self.next()
            if type(event) is MappingEndEvent:
                break
            key = self.value(event)
            value_event = self.next()
            if key == "items" and type(value_event) is SequenceStartEvent and value_event.anchor is None:
                streamed = True
                self._collection_tag(value_event)
                while type(event := self.next()) is not SequenceEndEvent:
                    item = self.value(event)
                    if isinstance(item, dict) and item.get("kind"):
                        yield item
                    else:
                        held.append(item)
                continue
            try:
                head[key] = self.value(value_event)
            except TypeError as exc:
                raise ConstructorError(None, None, "found unhashable key", event.start_mark) from exc
        if streamed:
            head["items"] = held
        yield head


def iter_yaml(stream: str | bytes | Readable, *, stream_sequences: bool = False) -> Iterator[Any]:
    """The documents of a YAML stream (a List's items one at a time; with `stream_sequences`, a top-level
    sequence's items too); yaml.YAMLError on malformed input."""
    builder = _Builder(stream, stream_sequences=stream_sequences)
    try:
        yield from builder.documents()
    finally:
        builder.close()
