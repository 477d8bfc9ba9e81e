"""Sans-IO framing for the IPC channel: `feed(bytes)`, then `next_message()` until NEED_DATA.

A frame is a 4-byte big-endian length followed by that many bytes of msgpack: a map whose `type`
field names the message class. A frame that does not decode is dropped with FrameError and the
decoder carries on at the next frame; a length prefix over MAX_FRAME_BYTES means the byte stream
itself is broken, which is FatalFrameError (the channel cannot resync).
"""

from __future__ import annotations

import enum
import struct
from typing import Any, Final

import cattrs
import msgpack
from cattrs.preconf.msgpack import make_converter
from cattrs.strategies import configure_tagged_union

from shunt.errors import FatalFrameError, FrameError
from shunt.ipc.hot import DECODERS, ENCODERS, TAG
from shunt.ipc.messages import MESSAGE_TYPES, Message
from shunt.units import MIB

MAX_FRAME_BYTES: Final = 80 * MIB  # a 64 MiB request body plus headers
_LENGTH = struct.Struct(">I")


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = _NeedData.NEED_DATA


def _make_converter() -> cattrs.Converter:
    converter = make_converter()
    configure_tagged_union(
        Message,
        converter,
        tag_generator=lambda cls: cls.__name__,
        tag_name=TAG,
    )
    return converter


CONVERTER: Final = _make_converter()
_PACKER_OPTIONS: Final[dict[str, Any]] = {"use_bin_type": True}


def encode(message: Message) -> bytes:
    """One complete frame for `message`."""
    fast = ENCODERS.get(type(message))
    try:
        raw = fast(message) if fast is not None else CONVERTER.unstructure(message, Message)
        payload: bytes = msgpack.packb(raw, **_PACKER_OPTIONS)
    except (OverflowError, TypeError, ValueError) as exc:
        raise FrameError(f"{type(message).__name__} cannot be encoded: {exc}") from None
    if len(payload) > MAX_FRAME_BYTES:
        raise FrameError(f"{type(message).__name__} frame of {len(payload)} bytes is too large")
    return _LENGTH.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> Message:
    """Turn one frame's payload into a message, or raise FrameError saying why not."""
    try:
        raw = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException) as exc:
        raise FrameError(f"undecodable msgpack ({len(payload)} bytes): {exc}") from None
    if not isinstance(raw, dict):
        raise FrameError(f"frame is a {type(raw).__name__}, not a map")
    kind = raw.get(TAG)
    if not isinstance(kind, str) or kind not in _TYPE_NAMES:
        raise FrameError(f"frame has unknown {TAG}={kind!r}")
    fast = DECODERS.get(kind)
    if fast is not None:
        return fast(raw)
    try:
        message: Message = CONVERTER.structure(raw, Message)  # type: ignore[arg-type]
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as exc:
        raise FrameError(f"{kind} frame has bad fields: {_first_line(exc)}") from None
    return message


_TYPE_NAMES: Final = frozenset(cls.__name__ for cls in MESSAGE_TYPES)


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        inner = exc.exceptions
        return f"{exc.message}: {inner[0]!r}" if inner else exc.message
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class FrameDecoder:
    """Accumulates bytes and yields whole messages; survives frames split anywhere."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes
        self._broken = False

    def __repr__(self) -> str:
        return f"<FrameDecoder buffered={len(self._buffer)} broken={self._broken}>"

    def feed(self, data: bytes | bytearray) -> None:
        self._buffer += data

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next_message(self) -> Message | _NeedData:
        if self._broken:
            raise FatalFrameError("channel already broken by an invalid length prefix")
        if len(self._buffer) < _LENGTH.size:
            return NEED_DATA
        (length,) = _LENGTH.unpack_from(self._buffer)
        if length > self._max:
            self._broken = True
            raise FatalFrameError(
                f"frame length {length} is over the limit of {self._max} bytes: "
                "the channel is out of sync"
            )
        end = _LENGTH.size + length
        if len(self._buffer) < end:
            return NEED_DATA
        payload = bytes(self._buffer[_LENGTH.size : end])
        del self._buffer[:end]
        return decode_payload(payload)
