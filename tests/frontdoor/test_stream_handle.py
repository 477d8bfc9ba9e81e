"""StreamHandle over a real socket pair: a whole answer taken in one piece, and the credit
window that opens only after the first chunk reached the client."""

from __future__ import annotations

import trio
import trio.testing

from shunt.frontdoor.link import WorkerLost
from shunt.ipc.channel import DEFAULT_WINDOW_BYTES, INITIAL_WINDOW_BYTES
from shunt.ipc.codec import NEED_DATA, FrameDecoder, encode
from shunt.ipc.messages import (
    Cancel,
    Credit,
    Failover,
    Forward,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
)
from tests.frontdoor.linked import running_link


async def _frames_from_front(worker: trio.SocketStream, count: int) -> list[object]:
    decoder = FrameDecoder()
    frames: list[object] = []
    while len(frames) < count:
        decoder.feed(await worker.receive_some(65536))
        while (message := decoder.next_message()) is not NEED_DATA:
            frames.append(message)
    return frames


async def _answer(worker: trio.SocketStream, *messages: object) -> None:
    await worker.send_all(b"".join(encode(m) for m in messages))  # type: ignore[arg-type]


async def test_a_whole_answer_is_taken_at_once_and_needs_no_cancel():
    async with running_link() as linked:
        link, worker = linked.link, linked.worker
        handle = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        sid = handle.stream_id
        await _answer(
            worker,
            ResponseHead(sid, 200, [], "a"),
            ResponseBody(sid, b'{"id":'),
            ResponseBody(sid, b'"msg_1"}'),
            ResponseEnd(sid, True, "", 7, 3),
        )
        assert isinstance(await handle.next_event(), ResponseHead)
        await trio.testing.wait_all_tasks_blocked()
        assert handle.take_finished_body() == b'{"id":"msg_1"}'
        assert handle.end is not None
        assert (handle.end.input_tokens, handle.end.output_tokens) == (7, 3)
        assert handle.finished
        assert link.in_flight == 0
        handle.abandon()
        assert link.buffered_bytes == 0
        (forward,) = await _frames_from_front(worker, 1)
        assert isinstance(forward, Forward)
        assert forward.window_bytes == INITIAL_WINDOW_BYTES
        await trio.testing.wait_all_tasks_blocked()  # the link has sent all it will send
        assert not worker.socket.is_readable(), "nothing more was expected (no Cancel)"


async def test_an_unfinished_or_failed_answer_is_left_in_order_for_streaming():
    async with running_link() as linked:
        link, worker = linked.link, linked.worker
        unfinished = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        failed = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        await _answer(
            worker,
            ResponseHead(unfinished.stream_id, 200, [], "a"),
            ResponseBody(unfinished.stream_id, b"one"),
            ResponseBody(unfinished.stream_id, b"two"),
            ResponseHead(failed.stream_id, 200, [], "a"),
            ResponseBody(failed.stream_id, b"part"),
            ResponseEnd(failed.stream_id, False, "upstream cut"),
        )
        await unfinished.next_event()
        await failed.next_event()
        await trio.testing.wait_all_tasks_blocked()
        assert unfinished.take_finished_body() is None
        assert failed.take_finished_body() is None
        assert not unfinished.finished
        await _answer(worker, ResponseEnd(unfinished.stream_id, True))
        seen = [e async for e in unfinished.body_events()]
        assert [type(e) for e in seen] == [ResponseBody, ResponseEnd]
        assert seen[0].data == b"onetwo"  # already-arrived chunks joined, order kept
        failed_seen = [e async for e in failed.body_events()]
        assert failed_seen[0].data == b"part"
        assert isinstance(failed_seen[-1], ResponseEnd)
        assert not failed_seen[-1].ok


async def test_the_first_write_opens_the_window_then_credit_is_batched():
    async with running_link() as linked:
        link, worker = linked.link, linked.worker
        handle = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        sid = handle.stream_id
        await _answer(worker, ResponseHead(sid, 200, [], "a"), ResponseBody(sid, b"x" * 500))
        await handle.next_event()
        await handle.next_event()
        handle.written(500)  # the first chunk reached the client
        handle.written(1000)  # below the batch: no frame yet
        forward, opened = await _frames_from_front(worker, 2)
        assert isinstance(forward, Forward)
        # The worker had 1 byte of credit and spent 500: this brings it to a full window.
        assert opened == Credit(sid, DEFAULT_WINDOW_BYTES - INITIAL_WINDOW_BYTES + 500)
        handle.written(DEFAULT_WINDOW_BYTES // 4)
        (batched,) = await _frames_from_front(worker, 1)
        assert batched == Credit(sid, 1000 + DEFAULT_WINDOW_BYTES // 4)
        handle.abandon()
        (cancel,) = await _frames_from_front(worker, 1)
        assert cancel == Cancel(sid)


async def test_a_dead_worker_counts_only_the_requests_it_had_not_finished():
    async with running_link() as linked:
        link, worker = linked.link, linked.worker
        mid = link.open_stream("mid", "POST", "/v1/messages", [], b"{}")
        done = link.open_stream("done", "POST", "/v1/messages", [], b"{}")
        failed = link.open_stream("failed", "POST", "/v1/messages", [], b"{}")
        waiting = link.open_stream("waiting", "POST", "/v1/messages", [], b"{}")
        gone = link.open_stream("gone", "POST", "/v1/messages", [], b"{}")
        await _answer(
            worker,
            ResponseHead(mid.stream_id, 200, [], "mid"),
            ResponseBody(mid.stream_id, b"part"),
            ResponseHead(done.stream_id, 200, [], "done"),
            ResponseEnd(done.stream_id, True),  # finished; its handler has not read it yet
            Failover(failed.stream_id, "failed", "529 overloaded", 529),  # counted by the worker
        )
        await trio.testing.wait_all_tasks_blocked()
        gone.abandon()  # the client went away: neither served nor an error
        await worker.aclose()  # the worker dies
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(linked.lost) == ["mid", "waiting"]
        assert isinstance(await mid.next_event(), ResponseHead)
        assert [type(e) for e in [e async for e in mid.body_events()]] == [ResponseBody, WorkerLost]
        assert isinstance(await waiting.next_event(), WorkerLost)  # not started: fails over
