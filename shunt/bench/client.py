"""A cheap load client: raw keep-alive HTTP/1.1 connections on trio.

Requests are pre-built bytes (one `send_all`), responses go through the small sans-IO parser
in `shunt.http.client_wire`, and nothing is allocated per request beyond the parser's slices,
so one client process can drive hundreds of connections without becoming the bottleneck. trio
sets TCP_NODELAY on every TCP SocketStream.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

import attrs
import trio

from shunt.http.client_wire import NEED_DATA, Body, End, Head, ProtocolError, ResponseParser
from shunt.units import KIB

RECEIVE_BYTES: Final = 256 * KIB


class ExchangeError(Exception):
    """The request got no complete answer (connection refused, reset or closed mid-response)."""


class BodySink(Protocol):
    """Receives body bytes as they arrive (called right after the socket read)."""

    def body(self, data: bytes) -> None: ...


@attrs.define
class Exchange:
    status: int
    account: bytes | None  # x-shunt-account, when the proxy answered
    latency_s: float  # request written → last byte read
    ttfb_s: float | None  # request written → first body byte read
    body: bytes  # only when asked to keep it


class Connection:
    """One keep-alive connection; reconnects by itself when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._stream: trio.SocketStream | None = None
        self._parser = ResponseParser()

    def __repr__(self) -> str:
        return f"<Connection {self.host}:{self.port} open={self._stream is not None}>"

    async def connect(self) -> None:
        if self._stream is None:
            try:
                self._stream = await trio.open_tcp_stream(self.host, self.port)
            except OSError as exc:
                raise ExchangeError(f"connect failed: {exc}") from None
            self._parser = ResponseParser()

    async def aclose(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with trio.CancelScope(shield=True):
                try:
                    await stream.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass

    async def exchange(
        self,
        request: bytes,
        *,
        sink: BodySink | None = None,
        keep_body: bool = False,
        first_body: trio.Event | None = None,
    ) -> Exchange:
        """Send `request` and read its whole answer. ExchangeError when there is none; the
        connection is then closed (the next exchange reconnects)."""
        await self.connect()
        stream = self._stream
        assert stream is not None
        parser = self._parser
        try:
            started = time.perf_counter()
            await stream.send_all(request)
            head: Head | None = None
            ttfb: float | None = None
            kept: list[bytes] = []
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    parser.feed(await stream.receive_some(RECEIVE_BYTES))
                elif isinstance(event, Body):
                    if ttfb is None:
                        ttfb = time.perf_counter() - started
                        if first_body is not None:
                            first_body.set()
                    if sink is not None:
                        sink.body(event.data)
                    if keep_body:
                        kept.append(event.data)
                elif isinstance(event, Head):
                    head = event
                elif isinstance(event, End):
                    latency = time.perf_counter() - started
                    assert head is not None
                    if event.keep_alive:
                        parser.next_response()
                    else:
                        await self.aclose()
                    return Exchange(
                        head.status, head.header(b"x-shunt-account"), latency, ttfb, b"".join(kept)
                    )
        except (ProtocolError, trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            await self.aclose()
            raise ExchangeError(str(exc) or type(exc).__name__) from None
        except BaseException:
            await self.aclose()  # cancelled mid-response: the connection is out of sync
            raise
