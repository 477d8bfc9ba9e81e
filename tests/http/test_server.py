"""The h11 adapter: cleanup always runs, bad answers cost one connection, limits hold."""

from __future__ import annotations

import http.client
import socket
from collections.abc import AsyncIterator

import httpx
import trio
import trio.testing

from shunt.anthropic.errors import refusal
from shunt.http.server import Request, Response, ServerLimits, StreamAborted, serve_http


async def start(nursery: trio.Nursery, handler, limits: ServerLimits | None = None) -> int:
    limits = limits or ServerLimits()

    async def run(task_status: trio.TaskStatus[int]) -> None:
        await serve_http(
            handler,
            refusal=refusal,
            host="127.0.0.1",
            port=0,
            limits=limits,
            task_status=task_status,
        )

    return await nursery.start(run)


class Tracker:
    def __init__(self) -> None:
        self.closed = 0
        self.closed_event = trio.Event()

    def response(self, chunks: list[bytes]) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        async def close() -> None:
            self.closed += 1
            self.closed_event.set()

        return Response(200, [(b"content-type", b"text/plain")], stream=stream(), on_close=close)


async def test_on_close_runs_for_head_and_normal_responses():
    tracker = Tracker()

    async def handler(request: Request) -> Response:
        return tracker.response([b"a", b"b"])

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get("/x")).text == "ab"
                for _ in range(3):
                    assert (await client.head("/x")).status_code == 200
            assert tracker.closed == 4, "HEAD never starts the stream; cleanup must still run"
            nursery.cancel_scope.cancel()


async def test_malformed_answer_costs_one_connection_not_the_server():
    async def handler(request: Request) -> Response:
        if request.path == "/bad":
            return Response(200, [(b"content-length", b"100")], b"short")
        return Response(200, [], b"fine")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                try:
                    await client.get("/bad")
                except httpx.HTTPError:
                    pass
                assert (await client.get("/ok")).text == "fine"
            nursery.cancel_scope.cancel()


async def test_absolute_form_target_is_refused():
    seen: list[str] = []

    async def handler(request: Request) -> Response:
        seen.append(request.target)
        return Response(200, [], b"proxied?")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(b"GET http://169.254.169.254/latest HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = await stream.receive_some(4096)
            assert answer.startswith(b"HTTP/1.1 400")
            assert seen == []
            await stream.aclose()
            nursery.cancel_scope.cancel()


def _post_big_body(port: int, size: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/v1/messages", body=b"x" * size)
    status = connection.getresponse().status
    connection.close()
    return status


async def test_413_reaches_a_client_still_sending_its_body():
    async def handler(request: Request) -> Response:
        return Response(200, [], b"")

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler, ServerLimits(max_body_bytes=1000))
            for _ in range(3):
                status = await trio.to_thread.run_sync(_post_big_body, port, 8 * 1024 * 1024)
                assert status == 413
            nursery.cancel_scope.cancel()


async def test_client_that_never_reads_is_cut_off_and_cleaned_up():
    tracker = Tracker()

    async def handler(request: Request) -> Response:
        return tracker.response([b"x" * 65536] * 2000)  # far more than socket buffers hold

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler, ServerLimits(write_timeout_s=0.5))
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
            await tracker.closed_event.wait()
            sock.close()
            nursery.cancel_scope.cancel()


async def _read_until(stream: trio.SocketStream, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        more = await stream.receive_some(65536)
        assert more, f"connection closed before {marker!r}"
        data += more
    return data


async def test_a_streamed_answer_sends_its_head_with_the_first_chunk():
    """One write and one client wake-up for head + first chunk; an empty stream still ends."""
    release = trio.Event()

    async def handler(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            if request.path == "/empty":
                return
            await release.wait()
            yield b"data: first\n\n"
            yield b"data: second\n\n"

        return Response(200, [(b"content-type", b"text/event-stream")], stream=stream())

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            await client.send_all(b"GET /events HTTP/1.1\r\nhost: x\r\n\r\n")
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)  # the server waits now
            assert not client.socket.is_readable(), "the head went out alone"
            release.set()
            answer = await _read_until(client, b"0\r\n\r\n")
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert b"transfer-encoding: chunked" in head.lower()
            assert body.index(b"data: first") < body.index(b"data: second")
            await client.send_all(b"GET /empty HTTP/1.1\r\nhost: x\r\n\r\n")
            empty = await _read_until(client, b"0\r\n\r\n")
            assert empty.startswith(b"HTTP/1.1 200 ")
            await client.aclose()
            nursery.cancel_scope.cancel()


async def test_a_stream_that_fails_before_its_first_chunk_gets_a_whole_502():
    async def handler(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            raise StreamAborted("upstream connection broke mid-response")
            yield b""  # pragma: no cover (makes this an async generator)

        return Response(200, [(b"content-type", b"application/json")], stream=stream())

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                failed = await client.post("/v1/messages", content=b"{}")
                assert failed.status_code == 502
                assert failed.json()["error"]["type"] == "api_error"
                assert "mid-response" in failed.json()["error"]["message"]
                again = await client.post("/v1/messages", content=b"{}")  # same connection
                assert again.status_code == 502
            nursery.cancel_scope.cancel()


class Waiter:
    """A handler that waits until cancelled, recording the paths it was given."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.started, self.cancelled = trio.Event(), trio.Event()

    async def __call__(self, request: Request) -> Response:
        self.seen.append(request.path)
        self.started.set()
        try:
            await trio.sleep_forever()
        finally:
            self.cancelled.set()
        raise AssertionError("unreachable")  # pragma: no cover


async def test_a_client_that_goes_away_cancels_its_handler_at_once():
    waiter = Waiter()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, waiter)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            await client.send_all(b"GET /wait HTTP/1.1\r\nhost: x\r\n\r\n")
            await waiter.started.wait()
            await client.aclose()
            await waiter.cancelled.wait()
            nursery.cancel_scope.cancel()


async def test_pipelined_requests_are_answered_in_order_then_the_bad_one_gets_400():
    async def handler(request: Request) -> Response:
        return Response(200, [], request.path.encode())

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            await client.send_all(
                b"GET /one HTTP/1.1\r\nhost: x\r\n\r\n"
                b"GET /two HTTP/1.1\r\nhost: x\r\n\r\n"
                b"GARBAGE\r\n\r\n"
            )
            answer = b""
            while (more := await client.receive_some(65536)) != b"":
                answer += more
            first, second, third = answer.split(b"HTTP/1.1 ")[1:]
            assert first.startswith(b"200 ")
            assert first.endswith(b"/one")
            assert second.endswith(b"/two")
            assert third.startswith(b"400 ")
            assert b'"invalid_request_error"' in third
            await client.aclose()
            nursery.cancel_scope.cancel()


async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(autojump_clock):
    async def handler(request: Request) -> Response:
        return Response(200, [], b"ok")

    async with trio.open_nursery() as nursery:
        port = await start(nursery, handler, ServerLimits(idle_timeout_s=30))
        client = await trio.open_tcp_stream("127.0.0.1", port)
        await client.send_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert (await client.receive_some(65536)).startswith(b"HTTP/1.1 200 ")
        with trio.fail_after(60):  # virtual time: the server closes at 30 s
            assert await client.receive_some(65536) == b""
        await client.aclose()
        nursery.cancel_scope.cancel()


async def test_a_client_leaving_mid_request_is_not_logged_as_a_failure(caplog):
    waiter = Waiter()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, waiter)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            await client.send_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
            await waiter.started.wait()
            await client.aclose()
            half = await trio.open_tcp_stream("127.0.0.1", port)  # EOF in the middle of a head
            await half.send_all(b"GET /half HTTP/1.1\r\nho")
            await half.aclose()
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)
            nursery.cancel_scope.cancel()
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []


async def test_a_client_leaving_with_a_pipelined_request_queued_cancels_at_once():
    waiter = Waiter()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, waiter)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            await client.send_all(
                b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\nGET /queued HTTP/1.1\r\nhost: x\r\n\r\n"
            )
            await waiter.started.wait()
            await client.aclose()
            await waiter.cancelled.wait()
            await trio.testing.wait_all_tasks_blocked(cushion=0.05)
            assert waiter.seen == ["/slow"], (
                "the queued request of a departed client is never handled"
            )
            nursery.cancel_scope.cancel()


async def _exchange(port: int, request: bytes) -> tuple[bytes, bool]:
    """(what the server sent, whether it then closed) for one request: read once the server
    (in this process) has done all it will do, so a connection kept open is not waited out."""
    client = await trio.open_tcp_stream("127.0.0.1", port)
    await client.send_all(request)
    await trio.testing.wait_all_tasks_blocked(cushion=0.05)
    answer = b""
    closed = False
    while not closed and client.socket.is_readable():
        more = await client.receive_some(65536)
        answer += more
        closed = not more
    await client.aclose()
    return answer, closed


async def test_http_1_0_keep_alive_is_said_and_kept():
    async def handler(request: Request) -> Response:
        return Response(200, [], b"ok")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            answer, closed = await _exchange(
                port, b"GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"
            )
            assert b"\r\nconnection: keep-alive\r\n" in answer.lower()
            assert not closed
            answer, closed = await _exchange(port, b"GET / HTTP/1.0\r\n\r\n")
            assert b"\r\nconnection: close\r\n" in answer.lower()
            assert closed
            nursery.cancel_scope.cancel()


async def test_a_stream_longer_than_its_content_length_never_sends_the_excess():
    async def handler(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            yield b"hello"
            yield b"WORLD"

        return Response(200, [(b"content-length", b"5")], stream=stream())

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            answer, closed = await _exchange(port, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            assert answer.endswith(b"\r\n\r\nhello")
            assert b"WORLD" not in answer
            assert closed
            nursery.cancel_scope.cancel()


async def test_a_head_with_more_header_lines_than_the_limit_gets_431_and_no_handler():
    """The default limit (256), over a real socket: 257 lines are refused, 256 served."""
    seen: list[int] = []

    async def handler(request: Request) -> Response:
        seen.append(len(request.headers))
        return Response(200, [], b"ok")

    async def ask(port: int, count: int) -> bytes:
        client = await trio.open_tcp_stream("127.0.0.1", port)
        await client.send_all(
            b"GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
            + b"x-h: 1\r\n" * (count - 2)
            + b"\r\n"
        )
        answer = b""
        while (more := await client.receive_some(65536)) != b"":
            answer += more
        await client.aclose()
        return answer

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await start(nursery, handler)
            refused = await ask(port, 257)
            assert refused.startswith(b"HTTP/1.1 431 ")
            assert b"([server] max_header_count)" in refused
            assert seen == []
            assert (await ask(port, 256)).startswith(b"HTTP/1.1 200 ")
            assert seen == [256]
            nursery.cancel_scope.cancel()
