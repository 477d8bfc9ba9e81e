"""A small trio HTTP/1.1 server on h11, shared by the front door and the simulator.

h11 does all parsing and framing; this module only moves bytes and enforces limits:
idle/header/body timeouts against slowloris clients, a header size cap, a body size cap answered
with 413 before the body is read, and client-disconnect detection that cancels the handler (so a
client that goes away cancels its upstream request).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Final

import attrs
import h11
import trio

logger = logging.getLogger(__name__)

KIB: Final = 1024
MIB: Final = 1024 * KIB
LINGER_S: Final = 2.0  # after an early error, read (and drop) the unread body this long
LINGER_BYTES: Final = 16 * MIB
READ_SIZE: Final = 64 * KIB
SERVER_NAME: Final = b"shunt"
BACKLOG: Final = 1024


@attrs.frozen
class ServerLimits:
    max_body_bytes: int = 64 * MIB
    max_header_bytes: int = 64 * KIB
    idle_timeout_s: float = 300.0  # keep-alive connection with no request under way
    header_timeout_s: float = 30.0  # from the first byte of a request to the end of its head
    body_timeout_s: float = 300.0  # whole request body
    write_timeout_s: float = 300.0  # a client that reads nothing this long is cut off


@attrs.define(slots=True)
class Request:
    method: str
    target: str  # path and query string as sent
    headers: list[tuple[bytes, bytes]]  # names lowercased by h11
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
    headers: list[tuple[bytes, bytes]] = attrs.Factory(list)
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


Handler = Callable[[Request], Awaitable[Response]]


def error_response(
    status: int,
    error_type: str,
    message: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> Response:
    """shunt's own errors in Anthropic shape (SPEC §2)."""
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()
    return Response(
        status,
        [(b"content-type", b"application/json"), *(headers or [])],
        body,
    )


_STATUS_ERROR_TYPES: Final = {
    400: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    414: "invalid_request_error",
    431: "invalid_request_error",
    500: "api_error",
}


class AbortConnection(Exception):
    """Raised by a handler to close the connection at once without sending a byte
    (the simulator's `drop` fault; a server that wants to refuse silently)."""


class StreamAborted(Exception):
    """Raised by a response stream that cannot finish honestly (its source broke midway).

    The connection is closed without the terminating chunk, so the client sees an incomplete
    response instead of a silently truncated one."""


class _ClientGone(Exception):
    """The peer closed or reset the connection."""


class _Connection:
    """One client connection: an h11 state machine fed from a trio stream."""

    def __init__(self, stream: trio.SocketStream, handler: Handler, limits: ServerLimits) -> None:
        self.stream = stream
        self.handler = handler
        self.limits = limits
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self._write_scope: trio.CancelScope | None = None
        try:
            peer = stream.socket.getpeername()
            self.client = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        except OSError:
            self.client = "?"

    def __repr__(self) -> str:
        return f"<_Connection {self.client} {self.h11.their_state}/{self.h11.our_state}>"

    async def _receive(self) -> None:
        try:
            data = await self.stream.receive_some(READ_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise _ClientGone from exc
        if not data:
            self.h11.receive_data(b"")
            return
        self.h11.receive_data(data)

    async def _next_event(self) -> object:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                await self._receive()
                continue
            return event

    async def _send(self, *events: h11.Event) -> None:
        """Frame `events` and write them with one send_all (fewer syscalls and wake-ups).

        The write deadline lives on one cancel scope per response (`_write_scope`), armed only
        while a write is under way: a stream may wait on its upstream as long as it likes."""
        data = b"".join(self.h11.send(event) or b"" for event in events)
        if not data:
            return
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

    async def serve(self) -> None:
        try:
            while True:
                keep_going = await self._serve_one()
                if not keep_going or self.h11.our_state is not h11.DONE:
                    break
                if self.h11.their_state is not h11.DONE:
                    break
                self.h11.start_next_cycle()
        except _ClientGone:
            pass
        except h11.LocalProtocolError as exc:
            # Our own answer was malformed (bad header value, body shorter than its
            # content-length): this connection is beyond repair, the server is not.
            logger.error(
                "closing connection to %s: could not send a valid response: %s", self.client, exc
            )
        finally:
            await _close_quietly(self.stream)

    async def _read_head(self) -> h11.Request | None:
        """The next request head, or None when the peer closed or idled out between requests."""
        event = self.h11.next_event()
        if event is h11.NEED_DATA:
            with trio.move_on_after(self.limits.idle_timeout_s) as idle:
                await self._receive()
            if idle.cancelled_caught:
                return None
            event = self.h11.next_event()
        with trio.fail_after(self.limits.header_timeout_s):
            while event is h11.NEED_DATA:
                await self._receive()
                event = self.h11.next_event()
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}", 400)
        # h11 caps only an *incomplete* head; a whole head that arrived in one read is checked here.
        size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
        if size > self.limits.max_header_bytes:
            raise h11.RemoteProtocolError(
                f"request head of {size} bytes is over the limit of "
                f"{self.limits.max_header_bytes} bytes ([server] max_header_bytes)",
                431,
            )
        return event

    async def _read_body(self, head: h11.Request) -> bytes | Response:
        declared = _content_length(list(head.headers))
        if declared is not None and declared > self.limits.max_body_bytes:
            return _too_large(declared, self.limits.max_body_bytes)
        if self.h11.they_are_waiting_for_100_continue:
            await self._send(h11.InformationalResponse(status_code=100, headers=[]))
        chunks: list[bytes] = []
        size = 0
        with trio.fail_after(self.limits.body_timeout_s):
            while True:
                event = await self._next_event()
                if isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > self.limits.max_body_bytes:
                        return _too_large(size, self.limits.max_body_bytes)
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    return b"".join(chunks)
                elif isinstance(event, h11.ConnectionClosed):
                    raise _ClientGone
                else:
                    raise h11.RemoteProtocolError("unexpected event in body", 400)

    async def _serve_one(self) -> bool:
        try:
            head = await self._read_head()
            if head is None:
                return False
            body_or_error = await self._read_body(head)
        except h11.RemoteProtocolError as exc:
            await self._send_error_and_close(exc.error_status_hint, str(exc))
            return False
        except trio.TooSlowError:
            await self._send_error_and_close(408, "request not received in time")
            return False
        if isinstance(body_or_error, Response):
            body_or_error.headers = [*body_or_error.headers, (b"connection", b"close")]
            await self._write_response(head.method, body_or_error)
            await self._linger()
            return False
        if not head.target.startswith(b"/"):
            # Absolute-form targets would make a proxy reach any host: only paths are served.
            response = error_response(
                400, "invalid_request_error", "the request target must be a path"
            )
            response.headers.append((b"connection", b"close"))
            await self._write_response(head.method, response)
            return False
        request = Request(
            method=head.method.decode("ascii", "replace"),
            target=head.target.decode("latin-1"),
            headers=[(bytes(k), bytes(v)) for k, v in head.headers],
            body=body_or_error,
            client=self.client,
        )
        await self._handle(head.method, request)
        return True

    async def _linger(self) -> None:
        """Read and drop what the client is still sending before closing: closing a socket
        with unread input sends a reset, and the client may then never read our error."""
        with trio.move_on_after(LINGER_S):
            try:
                await self.stream.send_eof()
                drained = 0
                while drained < LINGER_BYTES:
                    data = await self.stream.receive_some(READ_SIZE)
                    if not data:
                        return
                    drained += len(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                return

    async def _handle(self, method: bytes, request: Request) -> None:
        """Run the handler and write its answer; a client that disconnects cancels both."""
        gone = False
        async with trio.open_nursery() as nursery:

            async def watch_for_disconnect() -> None:
                nonlocal gone
                try:
                    data = await self.stream.receive_some(READ_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if data:
                    # A pipelined next request: keep it for the next cycle, stop watching.
                    self.h11.receive_data(data)
                    return
                gone = True
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch_for_disconnect)
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
                    await self._write_response(method, response)
                except _ClientGone:
                    gone = True
                except h11.LocalProtocolError as exc:
                    # Our own answer was malformed: this connection is beyond repair.
                    logger.error("could not send a valid response to %s: %s", self.client, exc)
                    gone = True
            nursery.cancel_scope.cancel()
        if gone:
            raise _ClientGone

    async def _write_response(self, method: bytes, response: Response) -> None:
        try:
            await self._write_head_and_body(method, response)
        finally:
            with trio.CancelScope(shield=True):
                if response.stream is not None:
                    await _aclose_iterator(response.stream)
                if response.on_close is not None:
                    await response.on_close()

    async def _write_head_and_body(self, method: bytes, response: Response) -> None:
        with trio.CancelScope() as scope:
            self._write_scope = scope
            try:
                await self._write_events(method, response)
            finally:
                self._write_scope = None
        if scope.cancelled_caught:
            self._log_write_timeout()
            raise _ClientGone

    async def _write_events(self, method: bytes, response: Response) -> None:
        headers = list(response.headers)  # never grow the handler's own list
        if not _has_header(headers, b"server"):
            headers.insert(0, (b"server", SERVER_NAME))
        stream = response.stream
        if stream is None and not _has_header(headers, b"content-length"):
            headers.append((b"content-length", str(len(response.body)).encode()))
        head = h11.Response(
            status_code=response.status, headers=headers, reason=_reason(response.status)
        )
        if method == b"HEAD":
            await self._send(head, h11.EndOfMessage())
            return
        if stream is None:
            body = [h11.Data(data=response.body)] if response.body else []
            await self._send(head, *body, h11.EndOfMessage())
            return
        try:
            # The head goes out with the first chunk: one write, and the client is woken once.
            first = b""
            async for chunk in stream:
                if chunk:
                    first = chunk
                    break
            if not first:
                await self._send(head, h11.EndOfMessage())
                return
            await self._send(head, h11.Data(data=first))
            async for chunk in stream:
                if chunk:
                    await self._send(h11.Data(data=chunk))
        except StreamAborted as exc:
            if self.h11.our_state is h11.SEND_RESPONSE:
                # Nothing written yet (the head waits for the first chunk): the client can still
                # get a whole error answer instead of a connection closed on it.
                logger.info("response to %s failed before its body: %s", self.client, exc)
                await self._write_events(method, error_response(502, "api_error", f"shunt: {exc}"))
                return
            logger.info("response to %s cut short: %s", self.client, exc)
            raise _ClientGone from exc
        except _ClientGone:
            raise
        except Exception as exc:
            logger.exception("response stream failed")
            raise _ClientGone from exc
        await self._send(h11.EndOfMessage())

    async def _send_error_and_close(self, status: int, message: str) -> None:
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        response = error_response(
            status, _STATUS_ERROR_TYPES.get(status, "invalid_request_error"), message
        )
        response.headers.append((b"connection", b"close"))
        try:
            await self._write_response(b"GET", response)
        except (_ClientGone, h11.LocalProtocolError):
            pass


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_header(headers: list[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(key.lower() == name for key, _ in headers)


def _too_large(size: int, limit: int) -> Response:
    return error_response(
        413,
        "request_too_large",
        f"request body of {size} bytes is over the limit of {limit} bytes "
        "([server] max_body_bytes)",
    )


async def _aclose_iterator(iterator: AsyncIterator[bytes]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with trio.CancelScope(shield=True):
            await aclose()


async def _close_quietly(stream: trio.SocketStream) -> None:
    with trio.CancelScope(shield=True):
        try:
            await stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass


async def serve_http(
    handler: Handler,
    *,
    host: str,
    port: int,
    limits: ServerLimits = ServerLimits(),
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; `task_status.started(port)` reports the bound port (port 0 works)."""
    listeners = await trio.open_tcp_listeners(port, host=host, backlog=BACKLOG)
    bound_port = int(listeners[0].socket.getsockname()[1])
    task_status.started(bound_port)
    await _serve_listeners(handler, listeners, limits)


async def serve_http_unix(
    handler: Handler,
    *,
    path: Path,
    limits: ServerLimits = ServerLimits(),
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve HTTP on a Unix socket that only this user can open (mode 0600 from birth)."""
    _remove_socket_file(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window in which the socket is group/world accessible
    try:
        await sock.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(BACKLOG)
    listener = trio.SocketListener(sock)
    task_status.started()
    try:
        await _serve_listeners(handler, [listener], limits)
    finally:
        _remove_socket_file(path)


def _remove_socket_file(path: Path) -> None:
    """A stale socket from a killed server would make bind() fail; removing it is instant."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


async def _serve_listeners(
    handler: Handler, listeners: list[trio.SocketListener], limits: ServerLimits
) -> None:
    async def on_connection(stream: trio.SocketStream) -> None:
        try:
            await _Connection(stream, handler, limits).serve()
        except Exception:
            # The process boundary of one connection: log it, never take the listener down.
            logger.exception("connection handler failed")

    await trio.serve_listeners(on_connection, listeners)
