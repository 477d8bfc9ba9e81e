"""One client connection of the server: requests read, handled and answered in turn.

Parsing is RequestReader's and framing response_wire's (both sans-IO); this adapter moves bytes
and enforces the limits: idle/header/body timeouts against slowloris clients, a write timeout
against clients that stop reading, and client-disconnect detection that cancels the handler (so
a client that goes away cancels its upstream request).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from typing import Final

import trio

from shunt.http.exchange import (
    MIB,
    STATUS_ERROR_TYPES,
    AbortConnection,
    Handler,
    Request,
    Response,
    ServerLimits,
    StreamAborted,
    error_response,
)
from shunt.http.request_reader import ParsedRequest, ProtocolError, RequestHead, RequestReader
from shunt.http.response_wire import (
    LAST_CHUNK,
    NO_BODY_STATUSES,
    InvalidResponse,
    chunk,
    find_header,
    has_token,
    head_bytes,
)

logger = logging.getLogger("shunt.http.server")

LINGER_S: Final = 2.0  # after an early error, read (and drop) the unread body this long
LINGER_BYTES: Final = 16 * MIB
READ_SIZE: Final = 64 * 1024
SERVER_NAME: Final = b"shunt"
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class _ClientGone(Exception):
    """The peer closed or reset the connection."""


class Connection:
    def __init__(self, stream: trio.SocketStream, handler: Handler, limits: ServerLimits) -> None:
        self.stream = stream
        self.handler = handler
        self.limits = limits
        self.reader = RequestReader(
            max_header_bytes=limits.max_header_bytes, max_body_bytes=limits.max_body_bytes
        )
        self._write_scope: trio.CancelScope | None = None
        self._head_sent = False  # of the response under way
        self._gone = False  # the client closed or reset its side
        self._handler_scope: trio.CancelScope | None = None  # the request being handled
        self._progress = trio.lowlevel.ParkingLot()  # the serving loop waits here for input
        self._consumed = trio.lowlevel.ParkingLot()  # the reading task waits here for room
        self._held = bytearray()  # read while a parsed request waits: parsed once it is served
        self._watch_scope: trio.CancelScope | None = None  # a read made only to notice EOF
        self._discarded = 0  # bytes read after a protocol error (never parsed)
        self._handling = False  # a handler is running (so a queued request must be watched)
        try:
            peer = stream.socket.getpeername()
            self.client = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        except OSError:
            self.client = "?"

    def __repr__(self) -> str:
        return f"<Connection {self.client} {self.reader!r}>"

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_input)
                try:
                    await self._serve_requests()
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                try:
                    await self.stream.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass

    async def _serve_requests(self) -> None:
        # Caught here, inside the nursery: leaving it, they would arrive wrapped in an
        # ExceptionGroup and be logged as a crash of the connection.
        try:
            while await self._serve_one():
                pass
        except _ClientGone:
            pass
        except InvalidResponse as exc:
            # Our own answer was malformed (bad header value, body not its content-length):
            # this connection is beyond repair, the server is not.
            logger.error(
                "closing connection to %s: could not send a valid response: %s", self.client, exc
            )

    # --- reading ------------------------------------------------------------------------------
    async def _read_input(self) -> None:
        """The connection's one reader, for its whole life: parses what arrives, and notices at
        once when the client goes away, which cancels the request being handled (so a client
        that disconnects cancels its upstream request).

        While a parsed request waits to be served it goes on reading only to notice a
        disconnect, holding at most READ_SIZE bytes unparsed (a pipelining client is not read
        further ahead); after a protocol error it reads only to drop what the client still
        sends (see _linger). Nothing else reads the socket."""
        reader = self.reader
        while True:
            paused = reader.has_ready or reader.error is not None
            if paused and (
                # A request about to be taken (no handler running) needs no watch: waiting
                # here costs nothing, a read armed and cancelled costs two epoll_ctl calls.
                (reader.error is None and (not self._handling or len(self._held) >= READ_SIZE))
                or self._discarded >= LINGER_BYTES
            ):
                await self._consumed.park()
                continue
            if not paused and self._held:
                data = bytes(self._held)
                self._held.clear()
            else:
                with trio.CancelScope() as watch:
                    self._watch_scope = watch if paused else None
                    data = await self._recv(READ_SIZE - len(self._held) if paused else READ_SIZE)
                self._watch_scope = None
                if watch.cancelled_caught:
                    continue  # the waiting request was taken: parse what is held
                if not data:
                    self._client_went_away()
                    return
                if paused:
                    if reader.error is None:
                        self._held += data
                    else:
                        self._discarded += len(data)
                        self._progress.unpark_all()
                    continue
            reader.feed(data)
            self._progress.unpark_all()

    async def _recv(self, size: int) -> bytes:
        try:
            return await self.stream.receive_some(size)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""

    def _client_went_away(self) -> None:
        # Closed or half-closed: nobody will read an answer (as nginx's 499).
        self._gone = True
        if self._handler_scope is not None:
            self._handler_scope.cancel()
        self._progress.unpark_all()

    async def _receive(self) -> None:
        """Wait until the reading task has parsed more input."""
        if not self._gone:
            await self._progress.park()
        if self._gone and not self.reader.has_ready:
            raise _ClientGone  # closed before a whole request: nothing to answer

    async def _next_request(self) -> ParsedRequest | None:
        """The next whole request; None when the client closed or idled out between requests.
        Raises ProtocolError for a request that cannot be served, TooSlowError for a slow one.
        Requests already parsed (pipelined) are served before any error that follows them."""
        reader = self.reader

        def pending() -> bool:
            return reader.error is None and not reader.has_ready

        if pending() and reader.idle:
            with trio.move_on_after(self.limits.idle_timeout_s):
                while pending() and reader.idle:
                    try:
                        await self._receive()
                    except _ClientGone:
                        return None
            if pending() and reader.idle:
                return None  # idled out
        if pending() and reader.in_head:
            with trio.fail_after(self.limits.header_timeout_s):
                while pending() and reader.in_head:
                    await self._receive()
        if pending() and reader.current is not None:
            if reader.current.expect_continue:
                await self._send(CONTINUE)
            with trio.fail_after(self.limits.body_timeout_s):
                while pending() and reader.current is not None:
                    await self._receive()
        ready = reader.next_request()
        self._consumed.unpark_all()
        if self._watch_scope is not None and not reader.has_ready:
            self._watch_scope.cancel()  # what it holds may be the next request: parse it now
        if ready is None and reader.error is not None:
            raise reader.error
        return ready

    async def _serve_one(self) -> bool:
        """Serve one request; whether the connection stays open for the next."""
        try:
            parsed = await self._next_request()
        except ProtocolError as exc:
            await self._send_error_and_close(exc.status, exc.message, linger=exc.status == 413)
            return False
        except trio.TooSlowError:
            await self._send_error_and_close(408, "request not received in time")
            return False
        if parsed is None:
            return False
        head = parsed.head
        if not head.target.startswith(b"/"):
            # Absolute-form targets would make a proxy reach any host: only paths are served.
            await self._send_error_and_close(400, "the request target must be a path")
            return False
        request = Request(
            method=head.method.decode("ascii", "replace"),
            target=head.target.decode("latin-1"),
            headers=head.headers,
            body=parsed.body,
            client=self.client,
        )
        return await self._handle(head, request)

    async def _linger(self) -> None:
        """Let the client finish sending before closing: closing a socket with unread input
        sends a reset, and the client may then never read our error. The reading task drops
        what arrives (up to LINGER_BYTES); this waits for the client's end, up to LINGER_S."""
        with trio.move_on_after(LINGER_S):
            try:
                await self.stream.send_eof()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                return
            while not self._gone and self._discarded < LINGER_BYTES:
                await self._progress.park()

    # --- handling -----------------------------------------------------------------------------
    async def _handle(self, head: RequestHead, request: Request) -> bool:
        """Run the handler and write its answer; a client that disconnects cancels both."""
        gone = False
        keep_alive = False
        with trio.CancelScope() as scope:
            self._handler_scope = scope
            self._handling = True
            if self.reader.has_ready:
                self._consumed.unpark_all()  # a pipelined request waits: watch for EOF meanwhile
            if self._gone:
                scope.cancel()
            response: Response | None
            try:
                response = await self.handler(request)
            except AbortConnection:
                response = None
            except Exception:
                logger.exception("handler failed for %s %s", request.method, request.path)
                response = error_response(500, "api_error", "internal error in shunt")
            if response is None:
                gone = True
            else:
                try:
                    keep_alive = await self._write_response(head, response)
                except _ClientGone:
                    gone = True
                except InvalidResponse as exc:
                    logger.error("could not send a valid response to %s: %s", self.client, exc)
                    gone = True
        self._handler_scope = None
        self._handling = False
        if gone or self._gone:
            raise _ClientGone
        return keep_alive

    # --- writing ------------------------------------------------------------------------------
    async def _send(self, data: bytes) -> None:
        """Write with the response's write deadline (one cancel scope per response, armed only
        while a write is under way: a stream may wait on its upstream as long as it likes)."""
        scope = self._write_scope
        try:
            if scope is None:
                with trio.fail_after(self.limits.write_timeout_s):
                    await self.stream.send_all(data)
                return
            scope.deadline = trio.current_time() + self.limits.write_timeout_s
            try:
                await self.stream.send_all(data)
            finally:
                scope.deadline = math.inf
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise _ClientGone from exc
        except trio.TooSlowError:
            self._log_write_timeout()
            raise _ClientGone from None

    def _log_write_timeout(self) -> None:
        logger.warning(
            "client %s read nothing for %.0fs; closing its connection",
            self.client,
            self.limits.write_timeout_s,
        )

    async def _write_response(self, head: RequestHead, response: Response) -> bool:
        """Write `response`, then run its cleanup whatever happened; whether to keep alive."""
        try:
            with trio.CancelScope() as scope:
                self._write_scope = scope
                self._head_sent = False
                try:
                    keep_alive = await self._write_framed(head, response)
                finally:
                    self._write_scope = None
            if scope.cancelled_caught:
                self._log_write_timeout()
                raise _ClientGone
            return keep_alive
        finally:
            with trio.CancelScope(shield=True):
                if response.stream is not None:
                    await _aclose_iterator(response.stream)
                if response.on_close is not None:
                    await response.on_close()

    async def _write_framed(self, request: RequestHead, response: Response) -> bool:
        headers = [(k, v) for k, v in response.headers if k.lower() != b"transfer-encoding"]
        if find_header(headers, b"server") is None:
            headers.insert(0, (b"server", SERVER_NAME))
        closing = not request.keep_alive
        if has_token(find_header(headers, b"connection"), b"close"):
            closing = True
        elif closing:
            headers.append((b"connection", b"close"))
        elif request.http_version == "1.0":
            headers.append((b"connection", b"keep-alive"))  # 1.0 closes unless told otherwise
        status = response.status
        bodiless = request.method == b"HEAD" or status in NO_BODY_STATUSES or status < 200
        declared_text = find_header(headers, b"content-length")
        declared = _declared_length(declared_text)
        stream = response.stream
        if stream is None:
            body = response.body
            if declared_text is None and status not in NO_BODY_STATUSES:
                headers.append((b"content-length", b"%d" % len(body)))
            elif declared is not None and declared != len(body) and request.method != b"HEAD":
                raise InvalidResponse(f"content-length {declared} for a body of {len(body)} bytes")
            await self._send(head_bytes(status, headers) + (b"" if bodiless else body))
            self._head_sent = True
            return not closing
        if bodiless:
            await self._send(head_bytes(status, headers))
            self._head_sent = True
            return not closing
        chunked = declared is None and request.http_version == "1.1"
        if chunked:
            headers.append((b"transfer-encoding", b"chunked"))
        elif declared is None and not closing:  # HTTP/1.0: the body ends when we close
            closing = True
            headers = [(k, v) for k, v in headers if k != b"connection"]
            headers.append((b"connection", b"close"))
        try:
            sent = await self._write_stream(stream, headers, status, chunked, declared)
        except StreamAborted as exc:
            if not self._head_sent:
                # Nothing written yet (the head waits for the first chunk): the client can still
                # get a whole error answer instead of a connection closed on it.
                logger.info("response to %s failed before its body: %s", self.client, exc)
                failed = error_response(502, "api_error", f"shunt: {exc}")
                return await self._write_framed(request, failed)
            logger.info("response to %s cut short: %s", self.client, exc)
            raise _ClientGone from exc
        except (_ClientGone, InvalidResponse):
            raise
        except Exception as exc:
            logger.exception("response stream failed")
            raise _ClientGone from exc
        if declared is not None and sent != declared:
            raise InvalidResponse(f"content-length {declared} for a body of {sent} bytes")
        return not closing

    async def _write_stream(
        self,
        stream: AsyncIterator[bytes],
        headers: list[tuple[bytes, bytes]],
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
                await self._send(head + framed)
            else:
                await self._send(framed)
        if not self._head_sent:
            self._head_sent = True
            await self._send(head + LAST_CHUNK if chunked else head)
        elif chunked:
            await self._send(LAST_CHUNK)
        return sent

    async def _send_error_and_close(
        self, status: int, message: str, *, linger: bool = False
    ) -> None:
        response = error_response(
            status, STATUS_ERROR_TYPES.get(status, "invalid_request_error"), message
        )
        response.headers.append((b"connection", b"close"))
        data = head_bytes(
            status,
            [
                (b"server", SERVER_NAME),
                *response.headers,
                (b"content-length", b"%d" % len(response.body)),
            ],
        )
        try:
            await self._send(data + response.body)
        except _ClientGone:
            return
        if linger:
            await self._linger()


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


async def _aclose_iterator(iterator: AsyncIterator[bytes]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with trio.CancelScope(shield=True):
            await aclose()
