"""Fast field codecs for the messages every request sends, derived from their attrs fields (PURE).

cattrs structures a tagged union by walking generated code for the union, then the class; for
the six messages that cross a channel on every request (Forward, ResponseHead, ResponseBody,
ResponseEnd, Credit, Cancel) that was 5-8 % of the front door's and the worker's CPU (py-spy,
docs/performance.md). These codecs build and read the same msgpack maps as the cattrs
converter (tests/ipc/test_hot_codec.py proves both directions equal), but check each field's
type exactly: a frame with a wrong type is a FrameError, never coerced. Each decoder is
compiled once at import from its class's fields, so it runs like hand-written code.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from shunt.errors import FrameError
from shunt.http.exchange import Header
from shunt.ipc.messages import (
    Cancel,
    Credit,
    Forward,
    Message,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
)

Raw = Mapping[str, Any]
TAG: Final = "type"  # the field naming the message class (codec.py uses it too)


def _field(raw: Raw, kind: str, key: str, expected: type) -> Any:
    try:
        value = raw[key]
    except KeyError:
        raise FrameError(f"{kind} frame has bad fields: {key} is missing") from None
    # `type(...) is`, not isinstance: a bool is not an int here, as on the sending side.
    if type(value) is not expected:
        raise FrameError(
            f"{kind} frame has bad fields: {key} is {type(value).__name__}, "
            f"expected {expected.__name__}"
        )
    return value


def _optional(raw: Raw, kind: str, key: str, expected: type, default: Any) -> Any:
    return default if key not in raw else _field(raw, kind, key, expected)


def _headers(raw: Raw, kind: str, key: str) -> list[Header]:
    pairs = _field(raw, kind, key, list)
    headers: list[Header] = []
    for pair in pairs:
        if (
            type(pair) not in (list, tuple)
            or len(pair) != 2
            or type(pair[0]) is not bytes
            or type(pair[1]) is not bytes
        ):
            raise FrameError(f"{kind} frame has bad fields: a header is not a pair of bytes")
        headers.append((pair[0], pair[1]))
    return headers


# The field types a hot message may have, by the name the generated code checks against.
_SCALARS: Final[Mapping[object, str]] = {t: t.__name__ for t in (int, str, bytes, bool)}


def _read(kind: str, field: attrs.Attribute[Any], hint: object) -> str:
    """The expression that reads and checks one field of a `kind` frame from `raw`."""
    if hint == list[Header]:
        return f"_headers(raw, {kind!r}, {field.name!r})"
    expected = _SCALARS.get(hint)
    if expected is None:
        raise TypeError(f"{kind}.{field.name}: a hot message field cannot be {hint}")
    if field.default is attrs.NOTHING:
        return f"_field(raw, {kind!r}, {field.name!r}, {expected})"
    if type(field.default) is not hint:  # a factory, or a default of another type
        raise TypeError(f"{kind}.{field.name}: a hot field's default must be a plain {expected}")
    return f"_optional(raw, {kind!r}, {field.name!r}, {expected}, {field.default!r})"


def _decoder(cls: type[Message]) -> Callable[[Raw], Message]:
    """Every attrs field read in order and checked as annotated, with its default if it has
    one, compiled once at import into one straight-line function (the way attrs writes
    __init__): `_decode_Credit(raw)` is `Credit(_field(raw, "Credit", "stream_id", int),
    _field(raw, "Credit", "nbytes", int))`, so a frame pays no loop over the fields."""
    kind = cls.__name__
    hints = typing.get_type_hints(cls)
    reads = ", ".join(_read(kind, field, hints[field.name]) for field in attrs.fields(cls))
    namespace: dict[str, Any] = {
        "cls": cls,
        "_field": _field,
        "_optional": _optional,
        "_headers": _headers,
    }
    exec(f"def _decode_{kind}(raw):\n    return cls({reads})\n", namespace)
    decode: Callable[[Raw], Message] = namespace[f"_decode_{kind}"]
    return decode


def _encoder(cls: type) -> Callable[[Any], dict[str, Any]]:
    """A map of every field (attrs' own order) plus the tag, with no per-call type dispatch."""
    names = tuple(field.name for field in attrs.fields(cls))
    tag = cls.__name__

    def encode(message: Any) -> dict[str, Any]:
        raw = {name: getattr(message, name) for name in names}
        raw[TAG] = tag
        return raw

    return encode


HOT_TYPES: Final = (Forward, ResponseHead, ResponseBody, ResponseEnd, Credit, Cancel)
DECODERS: Final[Mapping[str, Callable[[Raw], Message]]] = {
    cls.__name__: _decoder(cls) for cls in HOT_TYPES
}
ENCODERS: Final[Mapping[type, Callable[[Any], dict[str, Any]]]] = {
    cls: _encoder(cls) for cls in HOT_TYPES
}
