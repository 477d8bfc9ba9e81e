"""One client connection of the server: requests read, handled and answered in turn.

Parsing is RequestReader's and framing response_wire's (both sans-IO); this adapter moves bytes
and enforces the limits: idle/header/body timeouts against slowloris clients, a write timeout
against clients that stop reading, and client-disconnect detection that cancels the handler (so
a client that goes away cancels its upstream request).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Final

import trio

from shunt.http.exchange import (
    AbortConnection,
    Handler,
    Refusal,
    Request,
    Response,
    SendRaw,
    ServerLimits,
)
from shunt.http.request_reader import ParsedRequest, ProtocolError, RequestHead, RequestReader
from shunt.http.response_wire import InvalidResponse
from shunt.http.response_writer import ClientGone, ResponseWriter
from shunt.units import KIB, MIB

logger = logging.getLogger("shunt.http.server")

LINGER_S: Final = 2.0  # after an early error, read (and drop) the unread body this long
LINGER_BYTES: Final = 16 * MIB
READ_SIZE: Final = 64 * KIB
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class Connection:
    def __init__(
        self, stream: trio.SocketStream, handler: Handler, limits: ServerLimits, refusal: Refusal
    ) -> None:
        self.stream = stream
        self.handler = handler
        self.limits = limits
        self.refusal = refusal
        self.reader = RequestReader(
            max_header_bytes=limits.max_header_bytes,
            max_header_count=limits.max_header_count,
            max_body_bytes=limits.max_body_bytes,
        )
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
        self.writer = ResponseWriter(
            stream, write_timeout_s=limits.write_timeout_s, client=self.client, refusal=refusal
        )

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
        except ClientGone:
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
            if self._should_wait():
                await self._consumed.park()
                continue
            paused = reader.has_ready or reader.error is not None
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

    def _should_wait(self) -> bool:
        """Whether the reading task waits (reads nothing) until a request is taken."""
        if self.reader.error is not None:
            return self._discarded >= LINGER_BYTES
        if not self.reader.has_ready:
            return False
        # A request about to be taken (no handler running) needs no watch: waiting here costs
        # nothing, a read armed and then cancelled costs two epoll_ctl calls per request.
        return not self._handling or len(self._held) >= READ_SIZE

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

    async def _wait_for_input(self) -> None:
        """Wait until the reading task has parsed more input."""
        if not self._gone:
            await self._progress.park()
        if self._gone and not self.reader.has_ready:
            raise ClientGone  # closed before a whole request: nothing to answer

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
                        await self._wait_for_input()
                    except ClientGone:
                        return None
            if pending() and reader.idle:
                return None  # idled out
        if pending() and reader.in_head:
            with trio.fail_after(self.limits.header_timeout_s):
                while pending() and reader.in_head:
                    await self._wait_for_input()
        if pending() and reader.current is not None:
            if reader.current.expect_continue:
                await self.writer.send(CONTINUE)
            with trio.fail_after(self.limits.body_timeout_s):
                while pending() and reader.current is not None:
                    await self._wait_for_input()
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
            await self._refuse(exc.status, exc.message, linger=exc.status == 413)
            return False
        except trio.TooSlowError:
            await self._refuse(408, "request not received in time")
            return False
        if parsed is None:
            return False
        head = parsed.head
        if not head.target.startswith(b"/"):
            # Absolute-form targets would make a proxy reach any host: only paths are served.
            await self._refuse(400, "the request target must be a path")
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
            except SendRaw as raw:
                response = None  # the connection closes after the handler's own bytes
                with suppress(ClientGone, trio.TooSlowError):
                    await raw.write(self.writer.send)
            except Exception:
                logger.exception("handler failed for %s %s", request.method, request.path)
                response = self.refusal(500, "internal error in shunt")
            if response is None:
                gone = True
            else:
                try:
                    keep_alive = await self.writer.write(head, response)
                except ClientGone:
                    gone = True
                except InvalidResponse as exc:
                    logger.error("could not send a valid response to %s: %s", self.client, exc)
                    gone = True
        self._handler_scope = None
        self._handling = False
        if gone or self._gone:
            raise ClientGone
        return keep_alive

    async def _refuse(self, status: int, message: str, *, linger: bool = False) -> None:
        """Answer a request that will not be served; the connection closes after it."""
        try:
            await self.writer.write_error(status, message)
        except ClientGone:
            return
        if linger:
            await self._linger()
