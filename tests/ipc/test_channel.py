"""The trio channel over a real socket pair: batching writer, garbage tolerance, credit."""

import struct

import pytest
import trio
import trio.testing

from shunt.ipc.channel import ChannelClosed, FrameChannel, SendWindow
from shunt.ipc.codec import encode
from shunt.ipc.messages import Ping, ResponseBody


async def _pair():
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


async def test_messages_cross_a_socket_in_order():
    left, right = await _pair()
    sender = FrameChannel(left, name="left")
    receiver = FrameChannel(right, name="right")
    got = []
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sender.run_writer)
            for i in range(500):
                sender.send_nowait(ResponseBody(1, bytes([i % 256]) * 1000))
            async for message in receiver.messages():
                got.append(message)
                if len(got) == 500:
                    break
            nursery.cancel_scope.cancel()
    assert [m.data[0] for m in got] == [i % 256 for i in range(500)]


async def test_garbage_frame_is_logged_and_skipped(caplog):
    left, right = await _pair()
    receiver = FrameChannel(right, name="right")
    garbage = struct.pack(">I", 3) + b"\xc1\xc1\xc1"
    await left.send_all(garbage + encode(Ping(1)))
    with trio.fail_after(5):
        message = await receiver.messages().__anext__()
    assert message == Ping(1)
    assert receiver.frames_dropped == 1
    assert "dropped a frame" in caplog.text


async def test_broken_length_prefix_closes_channel():
    left, right = await _pair()
    receiver = FrameChannel(right, name="right")
    await left.send_all(b"\xff\xff\xff\xff" + b"x" * 10)
    with trio.fail_after(5), pytest.raises(ChannelClosed, match="out of sync"):
        await receiver.messages().__anext__()


async def test_eof_ends_the_message_stream():
    left, right = await _pair()
    receiver = FrameChannel(right, name="right")
    await left.aclose()
    with trio.fail_after(5):
        assert [m async for m in receiver.messages()] == []
    assert receiver.closed


async def test_send_window_blocks_until_credit_arrives(autojump_clock):
    window = SendWindow(10)
    await window.wait_for_room()
    window.spend(15)
    assert window.available == -5
    woke = trio.Event()

    async def waiter():
        await window.wait_for_room()
        woke.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(1)
        assert not woke.is_set()
        window.grant(3)
        await trio.sleep(1)
        assert not woke.is_set(), "still overdrawn: -2"
        window.grant(3)
        await trio.sleep(1)
        assert woke.is_set()


async def test_writer_ends_quietly_when_the_channel_closes_mid_batch():
    """A worker killed just as a frame was queued: the supervisor closes the channel while the
    writer is gathering its batch. That once raised EndOfChannel through the supervisor's
    nursery and took the whole front door down."""
    front, _worker = trio.socket.socketpair()
    channel = FrameChannel(trio.SocketStream(front), name="t")
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(channel.run_writer)
            await trio.testing.wait_all_tasks_blocked()
            channel.send_nowait(Ping(1))  # wakes the writer...
            await channel.aclose()  # ...which then finds the queue closed while batching
    assert channel.closed


async def test_finish_writing_delivers_every_queued_frame_before_the_writer_is_cancelled():
    """A worker that drained queues its streams' last frames, then exits (its nursery is
    cancelled): finish_writing must have put every one of them on the socket by then."""
    left, right = await _pair()
    sender = FrameChannel(left, name="left")
    receiver = FrameChannel(right, name="right")
    frames = [ResponseBody(1, bytes([i % 256]) * 60_000) for i in range(40)]  # > a socket buffer
    got = []
    with trio.fail_after(5):
        async with trio.open_nursery() as reading:
            reading.start_soon(_collect, receiver, got, len(frames))
            async with trio.open_nursery() as worker:
                worker.start_soon(sender.run_writer)
                for frame in frames:
                    sender.send_nowait(frame)
                await sender.finish_writing(5)
                worker.cancel_scope.cancel()  # as the worker's exit does
    assert [m.data[0] for m in got] == [f.data[0] for f in frames]


async def _collect(receiver, got, count):
    async for message in receiver.messages():
        got.append(message)
        if len(got) == count:
            return
