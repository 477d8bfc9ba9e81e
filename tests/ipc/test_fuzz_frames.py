"""Fuzz the frame decoder (hypothesis): valid frames mixed with garbage frames, split anywhere.

Whatever the garbage, the decoder yields exactly the valid messages, in order, and raises only
FrameError for a bad frame (never anything else, never a hang)."""

import itertools
import struct

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.errors import FatalFrameError, FrameError
from shunt.ipc.codec import NEED_DATA, FrameDecoder, encode
from shunt.ipc.messages import Credit, Ping, ResponseBody

valid = st.one_of(
    st.builds(Ping, st.integers(0, 2**31)),
    st.builds(Credit, st.integers(0, 2**31), st.integers(0, 2**31)),
    st.builds(ResponseBody, st.integers(0, 2**31), st.binary(max_size=300)),
)
garbage_payloads = st.one_of(
    st.binary(max_size=64),
    st.builds(
        lambda d: msgpack.packb(d),
        st.dictionaries(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), max_size=4),
    ),
    st.builds(
        lambda n: msgpack.packb({"type": "Credit", "stream_id": n}),
        st.integers(-(2**63), 2**63 - 1),
    ),
)


@settings(max_examples=200)
@given(
    items=st.lists(
        st.one_of(valid.map(lambda m: ("ok", m)), garbage_payloads.map(lambda g: ("bad", g))),
        max_size=20,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=25),
)
def test_decoder_yields_exactly_the_valid_frames(items, cuts):
    stream = b""
    expected = []
    for kind, item in items:
        if kind == "ok":
            stream += encode(item)
            expected.append(item)
        else:
            stream += struct.pack(">I", len(item)) + item
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    decoder = FrameDecoder()
    got = []
    for start, end in itertools.pairwise(points):
        decoder.feed(stream[start:end])
        while True:
            try:
                message = decoder.next_message()
            except FatalFrameError:
                raise
            except FrameError:
                continue
            if message is NEED_DATA:
                break
            got.append(message)
    assert got == expected
    assert decoder.buffered == 0
