"""Hand-written field codecs for the messages every request sends (PURE).

cattrs structures a tagged union by walking generated code for the union, then the class; for
the six messages that cross a channel on every request (Forward, ResponseHead, ResponseBody,
ResponseEnd, Credit, Cancel) that was 5-8 % of the front door's and the worker's CPU (py-spy,
docs/performance.md). These functions build and read the same msgpack maps as the cattrs
converter (tests/ipc/test_hot_codec.py proves both directions equal), but check each field's
type exactly: a frame with a wrong type is a FrameError, never coerced.
"""

from __future__ import annotations

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


def _headers(raw: Raw, kind: str) -> list[Header]:
    pairs = _field(raw, kind, "headers", list)
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


def _decode_forward(raw: Raw) -> Forward:
    k = "Forward"
    return Forward(
        _field(raw, k, "stream_id", int),
        _field(raw, k, "account", str),
        _field(raw, k, "method", str),
        _field(raw, k, "target", str),
        _headers(raw, k),
        _field(raw, k, "body", bytes),
        _field(raw, k, "window_bytes", int),
    )


def _decode_head(raw: Raw) -> ResponseHead:
    k = "ResponseHead"
    return ResponseHead(
        _field(raw, k, "stream_id", int),
        _field(raw, k, "status", int),
        _headers(raw, k),
        _field(raw, k, "account", str),
    )


def _decode_body(raw: Raw) -> ResponseBody:
    return ResponseBody(
        _field(raw, "ResponseBody", "stream_id", int), _field(raw, "ResponseBody", "data", bytes)
    )


def _decode_end(raw: Raw) -> ResponseEnd:
    k = "ResponseEnd"
    return ResponseEnd(
        _field(raw, k, "stream_id", int),
        _field(raw, k, "ok", bool),
        _optional(raw, k, "error", str, ""),
        _optional(raw, k, "input_tokens", int, 0),
        _optional(raw, k, "output_tokens", int, 0),
        _optional(raw, k, "model", str, ""),
    )


def _decode_credit(raw: Raw) -> Credit:
    return Credit(_field(raw, "Credit", "stream_id", int), _field(raw, "Credit", "nbytes", int))


def _decode_cancel(raw: Raw) -> Cancel:
    return Cancel(_field(raw, "Cancel", "stream_id", int))


DECODERS: Final[Mapping[str, Callable[[Raw], Message]]] = {
    "Forward": _decode_forward,
    "ResponseHead": _decode_head,
    "ResponseBody": _decode_body,
    "ResponseEnd": _decode_end,
    "Credit": _decode_credit,
    "Cancel": _decode_cancel,
}


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
ENCODERS: Final[Mapping[type, Callable[[Any], dict[str, Any]]]] = {
    cls: _encoder(cls) for cls in HOT_TYPES
}
