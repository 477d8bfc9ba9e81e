"""Writing one connection's answers: framing, the write deadline, and cleanup that always runs.

The bytes come from response_wire (pure); this adapter decides the framing per request
(content-length, chunked, or close-delimited for HTTP/1.0), sends a streamed answer's head
together with its first chunk, turns a stream that fails before its first byte into a whole 502,
and cuts off a client that reads nothing for `write_timeout_s`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from typing import Final

import trio

from shunt.http.exchange import Header, Refusal, Response, StreamAborted
from shunt.http.request_reader import RequestHead
from shunt.http.response_wire import (
    LAST_CHUNK,
    NO_BODY_STATUSES,
    InvalidResponse,
    chunk,
    has_token,
    head_bytes,
    read_framing,
)

logger = logging.getLogger("shunt.http.server")

SERVER_NAME: Final = b"shunt"
# What an error answered before (or instead of) a request is framed for: no body, then close.
_CLOSING: Final = RequestHead(b"GET", b"/", [], "1.1", keep_alive=False)


class ClientGone(Exception):
    """The peer closed or reset the connection, or stopped reading."""


class ResponseWriter:
    def __init__(
        self, stream: trio.SocketStream, *, write_timeout_s: float, client: str, refusal: Refusal
    ) -> None:
        self.stream = stream
        self.refusal = refusal
        self.write_timeout_s = write_timeout_s
        self.client = client
        self._scope: trio.CancelScope | None = None  # the write deadline of the answer under way
        self._head_sent = False  # of the answer under way

    async def send(self, data: bytes) -> None:
        """Write with the answer's write deadline (one cancel scope per answer, armed only
        while a write is under way: a stream may wait on its upstream as long as it likes)."""
        scope = self._scope
        try:
            if scope is None:
                with trio.fail_after(self.write_timeout_s):
                    await self.stream.send_all(data)
                return
            scope.deadline = trio.current_time() + self.write_timeout_s
            try:
                await self.stream.send_all(data)
            finally:
                scope.deadline = math.inf
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise ClientGone from exc
        except trio.TooSlowError:
            self._log_write_timeout()
            raise ClientGone from None

    def _log_write_timeout(self) -> None:
        logger.warning(
            "client %s read nothing for %.0fs; closing its connection",
            self.client,
            self.write_timeout_s,
        )

    async def write(self, request: RequestHead, response: Response) -> bool:
        """Write `response`, then run its cleanup whatever happened; whether to keep alive."""
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                self._head_sent = False
                try:
                    keep_alive = await self._write_framed(request, response)
                finally:
                    self._scope = None
            if scope.cancelled_caught:
                self._log_write_timeout()
                raise ClientGone
            return keep_alive
        finally:
            with trio.CancelScope(shield=True):
                if response.stream is not None:
                    aclose = getattr(response.stream, "aclose", None)
                    if aclose is not None:
                        await aclose()
                if response.on_close is not None:
                    await response.on_close()

    async def write_error(self, status: int, message: str) -> None:
        """shunt's own error for a request it will not serve; the connection closes after it."""
        await self._write_framed(_CLOSING, self.refusal(status, message))

    async def _write_framed(self, request: RequestHead, response: Response) -> bool:
        framing = read_framing(response.headers)
        headers = framing.kept
        if not framing.has_server:
            headers.insert(0, (b"server", SERVER_NAME))
        closing = not request.keep_alive
        if has_token(framing.connection, b"close"):
            closing = True
        elif closing:
            headers.append((b"connection", b"close"))
        elif request.http_version == "1.0":
            headers.append((b"connection", b"keep-alive"))  # 1.0 closes unless told otherwise
        status = response.status
        bodiless = request.method == b"HEAD" or status in NO_BODY_STATUSES or status < 200
        declared = _declared_length(framing.content_length)
        stream = response.stream
        if stream is None:
            body = response.body
            if framing.content_length is None and status not in NO_BODY_STATUSES:
                headers.append((b"content-length", b"%d" % len(body)))
            elif declared is not None and declared != len(body) and request.method != b"HEAD":
                raise InvalidResponse(f"content-length {declared} for a body of {len(body)} bytes")
            await self.send(head_bytes(status, headers) + (b"" if bodiless else body))
            return not closing
        if bodiless:
            await self.send(head_bytes(status, headers))
            return not closing
        chunked = declared is None and request.http_version == "1.1"
        if chunked:
            headers.append((b"transfer-encoding", b"chunked"))
        elif declared is None and not closing:  # HTTP/1.0: the body ends when we close
            closing = True
            headers = [(k, v) for k, v in headers if k.lower() != b"connection"]
            headers.append((b"connection", b"close"))
        try:
            sent = await self._write_stream(stream, headers, status, chunked, declared)
        except StreamAborted as exc:
            if not self._head_sent:
                # Nothing written yet (the head waits for the first chunk): the client can still
                # get a whole error answer instead of a connection closed on it.
                logger.info("response to %s failed before its body: %s", self.client, exc)
                failed = self.refusal(502, f"shunt: {exc}")
                return await self._write_framed(request, failed)
            logger.info("response to %s cut short: %s", self.client, exc)
            raise ClientGone from exc
        except (ClientGone, InvalidResponse):
            raise
        except Exception as exc:
            logger.exception("response stream failed")
            raise ClientGone from exc
        if declared is not None and sent != declared:
            raise InvalidResponse(f"content-length {declared} for a body of {sent} bytes")
        return not closing

    async def _write_stream(
        self,
        stream: AsyncIterator[bytes],
        headers: list[Header],
        status: int,
        chunked: bool,
        declared: int | None,
    ) -> int:
        """Send the head with the first chunk (one write, one client wake-up), then each chunk
        as it comes; the number of body bytes sent."""
        head = head_bytes(status, headers)
        sent = 0
        async for data in stream:
            if not data:
                continue
            sent += len(data)
            if declared is not None and sent > declared:
                raise InvalidResponse(f"a body longer than its content-length {declared}")
            framed = chunk(data) if chunked else data
            if not self._head_sent:
                self._head_sent = True
                await self.send(head + framed)
            else:
                await self.send(framed)
        if not self._head_sent:
            self._head_sent = True
            await self.send(head + LAST_CHUNK if chunked else head)
        elif chunked:
            await self.send(LAST_CHUNK)
        return sent


def _declared_length(text: bytes | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidResponse(f"content-length {text[:20]!r} is not a number") from None
    if value < 0:
        raise InvalidResponse(f"content-length {value} is negative")
    return value
