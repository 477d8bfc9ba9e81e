"""The worker's upstream client against real trio servers on 127.0.0.1 (plain and TLS).

The servers are scripted byte by byte rather than the simulator: these tests are about the
connection itself (the exact bytes sent, reuse, a socket closed while idle, answers cut short,
trickling heads, malformed heads, bytes after the answer), which a well-behaved HTTP server does
not produce on purpose. The simulator's own faults are met through shunt in tests/e2e."""

from __future__ import annotations

import functools
import itertools
import socket
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import trio
import trustme

from workers.upstream import (
    Origin,
    UpstreamBroke,
    UpstreamPool,
    UpstreamUnreachable,
)

Handler = Callable[[trio.abc.Stream, "Server"], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class Server:
    """A scripted HTTP/1.1 server: `handler` runs per connection; requests are recorded."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def read_request(self, stream: trio.abc.Stream, buffer: bytearray) -> bytes | None:
        """One whole request (head and content-length body) off `stream`; None at EOF."""
        while b"\r\n\r\n" not in buffer:
            data = await stream.receive_some(65536)
            if not data:
                return None
            buffer += data
        end = buffer.index(b"\r\n\r\n") + 4
        length = 0
        for line in bytes(buffer[:end]).split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(buffer) < end + length:
            data = await stream.receive_some(65536)
            if not data:
                return None
            buffer += data
        request = bytes(buffer[: end + length])
        del buffer[: end + length]
        self.requests.append(request)
        return request

    async def serve(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        try:
            await self.handler(stream, self)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


async def answer_every_request(stream: trio.abc.Stream, server: Server, answer: bytes = OK) -> None:
    buffer = bytearray()
    while await server.read_request(stream, buffer) is not None:
        await stream.send_all(answer)


@pytest.fixture
def start_server(nursery: trio.Nursery) -> Callable[[Handler], Awaitable[Server]]:
    async def start(handler: Handler) -> Server:
        server = Server(handler)
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, server.serve, 0, host="127.0.0.1")
        )
        server.port = listeners[0].socket.getsockname()[1]
        return server

    return start


async def _cancel_once(work: Coroutine[Any, Any, object], reached: trio.Event) -> BaseException:
    """Run `work` and cancel it as soon as the server says it got that far: no time window.

    Returns the Cancelled it raised: holding it keeps its traceback's frames, so a socket the
    code forgot to close stays open rather than being closed by the garbage collector."""
    caught: list[BaseException] = []

    async def run() -> None:
        try:
            await work
        except BaseException as exc:
            caught.append(exc)
            raise
        raise AssertionError("the request ended before it was cancelled")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run)
        await reached.wait()
        nursery.cancel_scope.cancel()
    (cancelled,) = caught
    return cancelled


def pool_for(server: Server, **kwargs: float) -> UpstreamPool:
    options = {"connect_timeout_s": 2.0, "read_timeout_s": 5.0, "head_timeout_s": 5.0, **kwargs}
    return UpstreamPool(
        f"http://127.0.0.1:{server.port}",
        connect_timeout_s=options.pop("connect_timeout_s"),
        read_timeout_s=options.pop("read_timeout_s"),
        head_timeout_s=options.pop("head_timeout_s"),
        **options,  # type: ignore[arg-type]
    )


async def fetch(pool: UpstreamPool, body: bytes = b"{}") -> tuple[int, bytes]:
    response = await pool.request("POST", "/v1/messages", [(b"x-a", b"1")], body)
    try:
        data = bytearray()
        while chunk := await response.next_chunk():
            data += chunk
        return response.status, bytes(data)
    finally:
        response.close()


async def test_keep_alive_reuses_one_connection_and_sends_the_request_framed(start_server):
    server = await start_server(answer_every_request)
    pool = pool_for(server)
    for _ in range(3):
        assert await fetch(pool, b'{"n":1}') == (200, b"{}")
    assert pool.connections_opened == 1
    assert server.connections == 1
    assert server.requests[0] == (
        b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:%d\r\nx-a: 1\r\n"
        b'content-length: 7\r\n\r\n{"n":1}' % server.port
    )
    pool.close()


async def test_base_url_path_is_prefixed_and_head_answers_have_no_body(start_server):
    async def head_then_ok(stream: trio.abc.Stream, server: Server) -> None:
        buffer = bytearray()
        await server.read_request(stream, buffer)
        await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n")
        await answer_every_request(stream, server)

    server = await start_server(head_then_ok)
    pool = UpstreamPool(
        f"http://127.0.0.1:{server.port}/prefix/",
        connect_timeout_s=2,
        read_timeout_s=5,
        head_timeout_s=5,
    )
    response = await pool.request("HEAD", "/v1/models", [], b"")
    assert response.status == 200
    assert await response.next_chunk() == b""
    response.close()
    assert await fetch(pool) == (200, b"{}")  # the same connection, still in step
    assert pool.connections_opened == 1
    assert server.requests[0].startswith(b"HEAD /prefix/v1/models HTTP/1.1\r\n")


async def test_a_burst_of_chunks_in_one_read_comes_out_as_one_piece(start_server):
    burst_read = trio.Event()  # the rest is sent only once the client has taken the burst

    async def chunked(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n"
        )
        await burst_read.wait()
        await stream.send_all(b"4\r\nfour\r\n0\r\n\r\n")

    server = await start_server(chunked)
    pool = pool_for(server)
    response = await pool.request("POST", "/", [], b"")
    assert await response.next_chunk() == b"onetwothree"
    burst_read.set()
    assert await response.next_chunk() == b"four"
    assert await response.next_chunk() == b""
    response.close()
    assert pool.idle_count == 1


async def test_a_connection_the_server_closed_while_idle_is_not_reused(start_server):
    async def one_answer_then_close(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(OK)

    server = await start_server(one_answer_then_close)
    pool = pool_for(server)
    assert await fetch(pool) == (200, b"{}")
    (idle,) = pool._idle
    with trio.fail_after(5):
        await trio.lowlevel.wait_readable(idle.socket)  # the server's FIN has arrived
    assert await fetch(pool) == (200, b"{}")
    assert pool.connections_opened == 2


async def test_a_request_written_to_a_reused_connection_is_never_sent_twice(start_server):
    """The server reads the second request and hangs up: it may have started on it, so the
    client reports the failure (the account machine then fails over) instead of re-sending."""

    async def close_on_the_second_request(stream: trio.abc.Stream, server: Server) -> None:
        buffer = bytearray()
        await server.read_request(stream, buffer)
        await stream.send_all(OK)
        await server.read_request(stream, buffer)  # read it, then hang up without answering

    server = await start_server(close_on_the_second_request)
    pool = pool_for(server)
    assert await fetch(pool) == (200, b"{}")
    with pytest.raises(UpstreamUnreachable):
        await fetch(pool)
    assert len(server.requests) == 2
    assert pool.connections_opened == 1


async def test_a_reused_connection_that_cannot_be_written_is_replaced(start_server):
    async def answer_then_stay(stream: trio.abc.Stream, server: Server) -> None:
        await answer_every_request(stream, server)
        await trio.sleep_forever()  # keep its end open: the idle socket never turns readable

    server = await start_server(answer_then_stay)
    pool = pool_for(server)
    assert await fetch(pool) == (200, b"{}")
    (idle,) = pool._idle
    idle.socket.shutdown(socket.SHUT_WR)  # the write fails; nothing reached the server
    assert await fetch(pool) == (200, b"{}")
    assert pool.connections_opened == 2
    assert len(server.requests) == 2


async def test_bytes_beyond_the_answer_keep_the_connection_out_of_the_pool(start_server):
    async def too_long(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(OK + b"XX")

    pool = pool_for(await start_server(too_long))
    assert await fetch(pool) == (200, b"{}")
    assert pool.idle_count == 0


async def test_cancelled_during_the_tls_handshake_closes_the_socket(nursery: trio.Nursery):
    saw_hello = trio.Event()
    saw_eof = trio.Event()

    async def mute(stream: trio.abc.Stream) -> None:
        while await stream.receive_some(65536):  # the ClientHello, never answered
            saw_hello.set()
        saw_eof.set()

    listeners = await nursery.start(functools.partial(trio.serve_tcp, mute, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    pool = UpstreamPool(
        f"https://127.0.0.1:{port}", connect_timeout_s=30, read_timeout_s=30, head_timeout_s=30
    )
    with trio.fail_after(5):
        cancelled = await _cancel_once(fetch(pool), saw_hello)
    with trio.move_on_after(5):
        await saw_eof.wait()
    assert isinstance(cancelled, trio.Cancelled)  # held until here (see _cancel_once)
    assert saw_eof.is_set(), "the cancelled handshake left its socket open"


async def test_a_fresh_connection_closed_before_an_answer_is_unreachable(start_server):
    async def hang_up(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())

    server = await start_server(hang_up)
    with pytest.raises(UpstreamUnreachable, match="connection closed before an answer"):
        await fetch(pool_for(server))


async def test_connection_refused_is_unreachable():
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    pool = UpstreamPool(
        f"http://127.0.0.1:{port}", connect_timeout_s=2, read_timeout_s=2, head_timeout_s=2
    )
    with pytest.raises(UpstreamUnreachable, match="connect failed"):
        await fetch(pool)


async def test_no_head_in_time_is_unreachable_and_a_stalled_body_is_broke(start_server):
    async def silent(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await trio.sleep_forever()

    async def stalls_mid_body(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await trio.sleep_forever()

    with pytest.raises(UpstreamUnreachable, match=r"no answer head within 0\.2 s"):
        await fetch(pool_for(await start_server(silent), head_timeout_s=0.2))
    pool = pool_for(await start_server(stalls_mid_body), read_timeout_s=0.2)
    with pytest.raises(UpstreamBroke, match=r"no data for 0\.2 s"):
        await fetch(pool)
    assert pool.idle_count == 0


async def trickle_a_head(stream: trio.abc.Stream, server: Server) -> None:
    """The status line, then one header line every 0.1 s, never the end of the head."""
    await server.read_request(stream, bytearray())
    await stream.send_all(b"HTTP/1.1 200 OK\r\n")
    for line in itertools.count():
        await trio.sleep(0.1)
        await stream.send_all(b"x-slow-%d: 1\r\n" % line)


async def test_a_head_that_trickles_in_is_unreachable_at_the_head_deadline(
    start_server, autojump_clock
):
    """Each line arrives well within read_timeout; only the head's own deadline ends it, long
    before the header count would (virtual time: the autojump clock)."""
    pool = pool_for(await start_server(trickle_a_head), read_timeout_s=5, head_timeout_s=10)
    with (
        trio.fail_after(100),
        pytest.raises(UpstreamUnreachable, match="no answer head within 10 s"),
    ):
        await fetch(pool)
    assert pool.idle_count == 0


async def test_too_many_header_lines_are_refused_as_they_trickle_in(start_server, autojump_clock):
    """With a head deadline longer than the trickle takes to pass MAX_HEADERS lines, the count
    ends it as line MAX_HEADERS + 1 arrives, not when (never) the head completes."""
    pool = pool_for(await start_server(trickle_a_head), read_timeout_s=5, head_timeout_s=3600)
    with (
        trio.fail_after(100),
        pytest.raises(UpstreamUnreachable, match="too many response headers"),
    ):
        await fetch(pool)


async def test_a_body_cut_short_is_broke_and_the_connection_is_dropped(start_server):
    async def cut(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")

    pool = pool_for(await start_server(cut))
    with pytest.raises(UpstreamBroke, match="closed in the length"):
        await fetch(pool)
    assert pool.idle_count == 0


async def test_a_malformed_head_is_unreachable(start_server):
    async def garbage(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        await stream.send_all(b"HTTP/1.1 200 OK\r\nx-evil: a\x00b\r\n\r\n")

    with pytest.raises(UpstreamUnreachable, match="bad answer"):
        await fetch(pool_for(await start_server(garbage)))


async def test_an_answer_left_unread_closes_its_connection(start_server):
    server = await start_server(answer_every_request)
    pool = pool_for(server)
    response = await pool.request("POST", "/", [], b"")
    response.close()  # body never read: the connection is not in step any more
    assert pool.idle_count == 0
    assert await fetch(pool) == (200, b"{}")
    assert pool.connections_opened == 2


async def test_idle_connections_expire_and_the_stack_is_capped(start_server):
    server = await start_server(answer_every_request)
    pool = pool_for(server, idle_expiry_s=0.0)
    await fetch(pool)
    await fetch(pool)
    assert pool.connections_opened == 2  # the first had expired
    capped = pool_for(server, max_idle=2)
    responses = [await capped.request("POST", "/", [], b"") for _ in range(4)]
    for response in responses:
        assert await response.next_chunk() == b"{}"
        assert await response.next_chunk() == b""
        response.close()
    assert capped.idle_count == 2


async def test_cancelling_a_request_closes_its_connection(start_server):
    asked = trio.Event()
    saw_eof = trio.Event()

    async def silent(stream: trio.abc.Stream, server: Server) -> None:
        await server.read_request(stream, bytearray())
        asked.set()
        if await stream.receive_some(10) == b"":
            saw_eof.set()

    pool = pool_for(await start_server(silent))
    with trio.fail_after(5):
        cancelled = await _cancel_once(fetch(pool), asked)
    with trio.move_on_after(5):
        await saw_eof.wait()
    assert isinstance(cancelled, trio.Cancelled)  # held until here (see _cancel_once)
    assert saw_eof.is_set(), "the cancelled request left its connection open"
    assert pool.idle_count == 0


async def test_tls_upstream_with_a_trusted_certificate(nursery: trio.Nursery):
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    server = Server(answer_every_request)

    async def tls_serve(stream: trio.abc.Stream) -> None:
        await server.serve(trio.SSLStream(stream, server_context, server_side=True))

    listeners = await nursery.start(
        functools.partial(trio.serve_tcp, tls_serve, 0, host="127.0.0.1")
    )
    port = listeners[0].socket.getsockname()[1]
    pool = UpstreamPool(
        f"https://localhost:{port}",
        connect_timeout_s=5,
        read_timeout_s=5,
        head_timeout_s=5,
        ssl_context=client_context,
    )
    assert await fetch(pool) == (200, b"{}")
    assert await fetch(pool) == (200, b"{}")
    assert pool.connections_opened == 1
    assert server.requests[0].startswith(b"POST /v1/messages HTTP/1.1\r\nhost: localhost:%d" % port)
    untrusting = UpstreamPool(
        f"https://localhost:{port}", connect_timeout_s=5, read_timeout_s=5, head_timeout_s=5
    )
    with pytest.raises(UpstreamUnreachable, match="connect failed"):
        await fetch(untrusting)  # certifi's roots do not include the test CA
    pool.close()


def test_origin_parsing():
    assert Origin.parse("https://api.anthropic.com") == Origin(True, "api.anthropic.com", 443, b"")
    assert Origin.parse("https://api.anthropic.com").host_header == b"api.anthropic.com"
    local = Origin.parse("http://127.0.0.1:8090/base/")
    assert (local.port, local.prefix, local.host_header) == (8090, b"/base", b"127.0.0.1:8090")
    assert Origin.parse("http://[::1]:9/").host_header == b"[::1]:9"
    for bad in ("ftp://x", "http://", "api.anthropic.com"):
        with pytest.raises(ValueError, match="http:// or https://"):
            Origin.parse(bad)
