"""The worker's upstream client: HTTP/1.1 keep-alive connections to one origin, reused LIFO.

It replaced httpx on the request path (docs/performance.md): httpx and httpcore were ~60 % of a
worker's CPU, and httpcore walks every pooled connection for every request. Here a request is
one `send_all` of pre-framed bytes, the answer goes through the sans-IO parser in
`shunt.http.client_wire`, and an idle connection is popped off a stack in O(1). httpx stays for
the rare OAuth and usage calls.

Errors come in two kinds, because they mean different things to the account machine:
UpstreamUnreachable (no answer head: connect, TLS, write or head read failed or timed out; the
request can go to another account) and UpstreamBroke (the body failed after the head).

Three timeouts: `connect_timeout_s` for TCP and TLS; `head_timeout_s`, one deadline from the
first byte of the request written to the last byte of the answer's head (a non-streamed answer
sends its head only once generated, so this is long); `read_timeout_s`, the longest silence
between two reads of a body.
"""

from __future__ import annotations

import ssl
import time
import urllib.parse
from collections.abc import Sequence
from typing import Final

import attrs
import certifi
import trio

from shunt.http.client_wire import (
    NEED_DATA,
    Body,
    End,
    Head,
    ProtocolError,
    ResponseParser,
    encode_request,
)
from shunt.http.exchange import Header
from shunt.units import KIB

RECEIVE_BYTES: Final = 64 * KIB
DEFAULT_MAX_IDLE: Final = 64
# Below the usual server-side keep-alive timeouts (5 s for many), so an idle connection is
# dropped by us before the server drops it under a request.
DEFAULT_IDLE_EXPIRY_S: Final = 4.0


class UpstreamUnreachable(Exception):
    """No answer head arrived: the request was not answered and may go to another account."""


class UpstreamBroke(Exception):
    """The answer's body failed after its head (cut, timed out or malformed)."""


class _Stale(Exception):
    """A reused keep-alive connection was closed before the request could be written."""


@attrs.frozen
class Origin:
    tls: bool
    host: str
    port: int
    prefix: bytes  # path of the base URL, prepended to every target

    @classmethod
    def parse(cls, url: str) -> Origin:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream URL must be http:// or https:// with a host, got {url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        return cls(tls, parts.hostname, port, parts.path.rstrip("/").encode("ascii"))

    @property
    def host_header(self) -> bytes:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host.encode("idna").decode("ascii")
        text = host if self.port == default else f"{host}:{self.port}"
        return text.encode("ascii")


class _Connection:
    __slots__ = ("idle_since", "parser", "socket", "stream")

    def __init__(self, stream: trio.abc.Stream, socket: trio.socket.SocketType) -> None:
        self.stream = stream
        self.socket = socket  # the TCP socket under any TLS, to close and poll it directly
        self.parser = ResponseParser()
        self.idle_since = 0.0

    def close(self) -> None:
        # Closing the socket needs no await and works under cancellation; a TLS peer sees no
        # close_notify, which HTTP/1.1 clients may skip (it is what aclose_forcefully does).
        self.socket.close()


class UpstreamResponse:
    """An answer whose head has arrived. Read the body with `next_chunk`; always `close`."""

    def __init__(self, pool: UpstreamPool, connection: _Connection, head: Head) -> None:
        self.status = head.status
        self.headers = head.headers
        self._head = head
        self._pool = pool
        self._connection: _Connection | None = connection
        self._ended = False
        self._keep_alive = False

    def __repr__(self) -> str:
        return f"<UpstreamResponse {self.status} ended={self._ended}>"

    def header(self, name: bytes) -> bytes | None:
        return self._head.header(name)

    async def next_chunk(self) -> bytes:
        """The body bytes that are there (everything one read brought); b"" at the end."""
        connection = self._connection
        if self._ended or connection is None:
            return b""
        parser = connection.parser
        parts: list[bytes] = []
        while True:
            try:
                event = parser.next_event()
            except ProtocolError as exc:
                raise UpstreamBroke(str(exc)) from None
            if event is NEED_DATA:
                if parts:
                    return parts[0] if len(parts) == 1 else b"".join(parts)
                await self._receive(connection)
            elif isinstance(event, Body):
                parts.append(event.data)
            elif isinstance(event, End):
                self._ended = True
                self._keep_alive = event.keep_alive
                return b"".join(parts)

    async def read_capped(self, limit: int) -> bytes:
        """Up to about `limit` bytes of the body; what arrived before an error, on an error."""
        parts: list[bytes] = []
        size = 0
        try:
            while size < limit and (chunk := await self.next_chunk()):
                parts.append(chunk)
                size += len(chunk)
        except UpstreamBroke:
            pass
        return b"".join(parts)

    async def _receive(self, connection: _Connection) -> None:
        with trio.move_on_after(self._pool.read_timeout_s) as scope:
            try:
                data = await connection.stream.receive_some(RECEIVE_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise UpstreamBroke(f"connection broke: {_why(exc)}") from None
        if scope.cancelled_caught:
            raise UpstreamBroke(f"no data for {self._pool.read_timeout_s:g} s")
        connection.parser.feed(data)

    def close(self) -> None:
        """Give the connection back when the answer was read to its end, else close it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._ended and self._keep_alive and not connection.parser.leftover:
            self._pool.give_back(connection)
        else:
            connection.close()


class UpstreamPool:
    def __init__(
        self,
        url: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        head_timeout_s: float,
        max_idle: int = DEFAULT_MAX_IDLE,
        idle_expiry_s: float = DEFAULT_IDLE_EXPIRY_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.origin = Origin.parse(url)
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s  # the longest silence within a body
        self.head_timeout_s = head_timeout_s  # request written and answer head read, in all
        self.max_idle = max_idle
        self.idle_expiry_s = idle_expiry_s
        self._ssl_context = ssl_context
        self._idle: list[_Connection] = []  # a stack: the most recently used on top
        self.connections_opened = 0

    def __repr__(self) -> str:
        o = self.origin
        return f"<UpstreamPool {o.host}:{o.port} idle={len(self._idle)}>"

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    async def request(
        self, method: str, target: str, headers: Sequence[Header], body: bytes
    ) -> UpstreamResponse:
        """Send the request; return once the answer's head is in.

        Raises InvalidRequestHeader (nothing sent) or UpstreamUnreachable.
        """
        raw = encode_request(
            method.encode("latin-1"),  # both came off the client's request line as latin-1
            self.origin.prefix + target.encode("latin-1"),
            self.origin.host_header,
            headers,
            body,
        )
        no_body = method == "HEAD"
        connection = self._take_idle()
        if connection is not None:
            try:
                return await self._exchange(connection, raw, no_body)
            except _Stale:
                pass  # the server closed it while idle; a new connection is safe to try
        connection = await self._connect()
        try:
            return await self._exchange(connection, raw, no_body)
        except _Stale:
            raise UpstreamUnreachable("connection closed before an answer") from None

    def give_back(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.append(connection)
        if len(self._idle) > self.max_idle:
            self._idle.pop(0).close()

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    def _take_idle(self) -> _Connection | None:
        idle = self._idle
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since > self.idle_expiry_s:
                connection.close()
                self.close()  # the rest of the stack is older still
                return None
            # Readable while idle means the server closed it (or sent something unasked).
            if connection.socket.is_readable():
                connection.close()
                continue
            return connection
        return None

    async def _connect(self) -> _Connection:
        origin = self.origin
        tcp: trio.SocketStream | None = None
        try:
            with trio.fail_after(self.connect_timeout_s):
                tcp = await trio.open_tcp_stream(origin.host, origin.port)  # sets TCP_NODELAY
                stream: trio.abc.Stream = tcp
                if origin.tls:
                    tls = trio.SSLStream(
                        tcp, self._tls_context(), server_hostname=origin.host, https_compatible=True
                    )
                    await tls.do_handshake()
                    stream = tls
        except trio.TooSlowError:
            if tcp is not None:
                tcp.socket.close()
            raise UpstreamUnreachable(
                f"connect timed out after {self.connect_timeout_s:g} s"
            ) from None
        except (OSError, trio.BrokenResourceError) as exc:
            if tcp is not None:
                tcp.socket.close()
            raise UpstreamUnreachable(f"connect failed: {_why(exc)}") from None
        except BaseException:
            if tcp is not None:
                tcp.socket.close()  # cancelled mid-connect or mid-handshake
            raise
        self.connections_opened += 1
        return _Connection(stream, tcp.socket)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = ssl.create_default_context(cafile=certifi.where())
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def _exchange(
        self, connection: _Connection, raw: bytes, no_body: bool
    ) -> UpstreamResponse:
        reused = connection.idle_since != 0.0
        parser = connection.parser
        try:
            if reused:
                parser.next_response(no_body=no_body)
            elif no_body:
                connection.parser = parser = ResponseParser(no_body=True)
            # One deadline for writing the request and reading the whole head, however its
            # bytes trickle in (a per-read timeout would let a server that sends a header
            # line now and then hold the request forever); no scope per read.
            with trio.fail_after(self.head_timeout_s):
                try:
                    await connection.stream.send_all(raw)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    if reused:
                        # The server had closed it while idle; a failed write means it never
                        # got the request, so a new connection may send it.
                        connection.close()
                        raise _Stale from None
                    raise
                while True:
                    event = parser.next_event()
                    if isinstance(event, Head):
                        return UpstreamResponse(self, connection, event)
                    parser.feed(await connection.stream.receive_some(RECEIVE_BYTES))
        except _Stale:
            raise
        except trio.TooSlowError:
            connection.close()
            raise UpstreamUnreachable(
                f"no answer head within {self.head_timeout_s:g} s ([server] upstream_head_timeout)"
            ) from None
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            # Not retried once the request is written: the upstream may have read it and be
            # generating, and a second send would spend the account's quota twice.
            connection.close()
            raise UpstreamUnreachable(f"connection broke: {_why(exc)}") from None
        except ProtocolError as exc:
            connection.close()
            if parser.received_any:
                raise UpstreamUnreachable(f"bad answer: {exc}") from None
            raise UpstreamUnreachable("connection closed before an answer") from None
        except BaseException:
            connection.close()  # cancelled mid-exchange: the connection is in an unknown state
            raise


def _why(exc: BaseException) -> str:
    """A short reason for a log line and a Failover: the errno text, never any payload."""
    cause = exc.__cause__ if isinstance(exc, trio.BrokenResourceError) and exc.__cause__ else exc
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return type(cause).__name__
