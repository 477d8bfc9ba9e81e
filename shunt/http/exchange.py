"""What a server handler sees and returns: requests, responses, limits, how refusals look."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs

from shunt.units import KIB, MIB

Header = tuple[bytes, bytes]  # (name, value); names lowercased where a parser produced them


@attrs.frozen
class ServerLimits:
    max_body_bytes: int = 64 * MIB
    max_header_bytes: int = 64 * KIB
    max_header_count: int = 256  # header lines in a request head
    idle_timeout_s: float = 300.0  # keep-alive connection with no request under way
    header_timeout_s: float = 30.0  # from the first byte of a request to the end of its head
    body_timeout_s: float = 300.0  # whole request body
    write_timeout_s: float = 300.0  # a client that reads nothing this long is cut off


@attrs.define(slots=True)
class Request:
    method: str
    target: str  # path and query string as sent
    headers: list[Header]  # names lowercased by the parser
    body: bytes
    client: str  # peer host

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@attrs.define(slots=True)
class Response:
    """`stream`, when set, is sent chunk by chunk as it yields (each chunk flushed at once).

    The stream is pulled only after the previous chunk reached the socket, so a producer can
    treat "resumed after yield" as "written" (the front door returns flow-control credit there).
    """

    status: int
    headers: list[Header] = attrs.Factory(list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    # Runs exactly once after the response is finished, abandoned or never sent (HEAD, a client
    # that vanished before the head was written): resource cleanup must live here, not in a
    # generator's `finally`, which does not run for a generator that never started.
    on_close: Callable[[], Awaitable[None]] | None = None

    def chain_close(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Add `cleanup` after any on_close already set."""
        first = self.on_close

        async def both() -> None:
            try:
                if first is not None:
                    await first()
            finally:
                await cleanup()

        self.on_close = both


def is_event_stream(headers: list[Header]) -> bool:
    """Whether a response's headers say its body is an SSE stream."""
    return any(
        key == b"content-type" and value.startswith(b"text/event-stream") for key, value in headers
    )


Handler = Callable[[Request], Awaitable[Response]]

# How a listener shapes the answers the server itself makes (400/408/413/431/501/505 for a
# request it will not serve, 500 for a handler that crashed, 502 for a stream that failed before
# its first byte): status and message in, an answer in that listener's API's error shape out.
Refusal = Callable[[int, str], Response]


def json_response(status: int, payload: object, *, headers: list[Header] | None = None) -> Response:
    return Response(
        status,
        [(b"content-type", b"application/json"), *(headers or [])],
        json.dumps(payload).encode(),
    )


class AbortConnection(Exception):
    """Raised by a handler to close the connection at once without sending a byte
    (the simulator's `drop` fault; a server that wants to refuse silently)."""


RawWrite = Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None]]


class SendRaw(Exception):
    """Raised by a handler to write bytes of its own instead of a response, unframed, then close
    the connection: `write` is called with a send function (the simulator's `slow_head` fault,
    an upstream that breaks HTTP on purpose)."""

    def __init__(self, write: RawWrite) -> None:
        super().__init__("raw bytes instead of a response")
        self.write = write


class StreamAborted(Exception):
    """Raised by a response stream that cannot finish honestly (its source broke midway).

    The connection is closed without the terminating chunk, so the client sees an incomplete
    response instead of a silently truncated one."""
