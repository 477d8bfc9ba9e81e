"""The front door's end of a worker channel, over a real socket pair: garbage and truncated
frames from a (misbehaving) worker are logged and dropped; streams keep working; a broken length
prefix fails the open streams (so their requests fail over) instead of hanging them."""

from __future__ import annotations

import struct

from shunt.frontdoor.link import WorkerLost
from shunt.ipc.codec import encode
from shunt.ipc.messages import ResponseBody, ResponseEnd, ResponseHead
from tests.frontdoor.linked import running_link


async def test_garbage_frames_are_dropped_and_the_stream_still_completes(caplog):
    async with running_link() as linked:
        link, channel, worker = linked.link, linked.channel, linked.worker
        handle = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        garbage = struct.pack(">I", 5) + b"\xc1\xc1\xc1\xc1\xc1"
        truncated_map = struct.pack(">I", 3) + b"\x81\xa4t"  # a map cut short
        await worker.send_all(
            garbage
            + encode(ResponseHead(handle.stream_id, 200, [], "a"))
            + truncated_map
            + encode(ResponseBody(handle.stream_id, b"hello"))
            + encode(ResponseEnd(handle.stream_id, True))
        )
        events = [await handle.next_event() for _ in range(3)]
        assert [type(e) for e in events] == [ResponseHead, ResponseBody, ResponseEnd]
        assert channel.frames_dropped == 2
        assert "dropped a frame" in caplog.text


async def test_broken_length_prefix_fails_open_streams_instead_of_hanging():
    async with running_link() as linked:
        link, worker = linked.link, linked.worker
        handle = link.open_stream("a", "POST", "/v1/messages", [], b"{}")
        await worker.send_all(b"\xff\xff\xff\xff garbage that never ends")
        event = await handle.next_event()
        assert isinstance(event, WorkerLost)
        assert "out of sync" in event.reason
        assert link.closed
