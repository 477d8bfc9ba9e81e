"""The per-request codecs (derived from the attrs fields) match the cattrs converter exactly,
and refuse (never coerce) a field of the wrong type."""

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.errors import FrameError
from shunt.ipc.codec import CONVERTER, decode_payload, encode
from shunt.ipc.hot import DECODERS, ENCODERS
from shunt.ipc.messages import (
    Cancel,
    Credit,
    Forward,
    Message,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
)

ids = st.integers(min_value=0, max_value=2**63 - 1)
counts = st.integers(min_value=-(2**63), max_value=2**63 - 1)
headers = st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=40)), max_size=6)
hot_messages = st.one_of(
    st.builds(Forward, ids, st.text(), st.text(), st.text(), headers, st.binary(), counts),
    st.builds(ResponseHead, ids, counts, headers, st.text()),
    st.builds(ResponseBody, ids, st.binary()),
    st.builds(
        ResponseEnd, ids, st.booleans(), st.text(), counts, counts, st.text(), counts, counts
    ),
    st.builds(Credit, ids, counts),
    st.builds(Cancel, ids),
)


def test_every_hot_message_has_both_codecs():
    assert set(DECODERS) == {cls.__name__ for cls in ENCODERS}


def packed(raw: dict) -> bytes:
    return msgpack.packb(raw, use_bin_type=True)


@given(hot_messages)
def test_fast_frames_are_the_converters_frames_both_ways(message):
    frame = encode(message)
    raw = msgpack.unpackb(frame[4:], raw=False)
    assert raw == msgpack.unpackb(packed(CONVERTER.unstructure(message, Message)), raw=False)
    assert decode_payload(frame[4:]) == message
    assert CONVERTER.structure(raw, Message) == message  # the slow path reads fast frames too


def test_optional_end_fields_take_their_defaults_as_in_the_converter():
    raw = {"type": "ResponseEnd", "stream_id": 3, "ok": False}
    assert decode_payload(packed(raw)) == CONVERTER.structure(raw, Message)
    assert decode_payload(packed(raw)) == ResponseEnd(3, False)


def test_extra_fields_are_ignored_as_in_the_converter():
    raw = {"type": "Credit", "stream_id": 1, "nbytes": 5, "later_field": "x"}
    assert decode_payload(packed(raw)) == Credit(1, 5)


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ({"type": "Credit", "stream_id": "1", "nbytes": 2}, "stream_id is str, expected int"),
        ({"type": "Credit", "stream_id": True, "nbytes": 2}, "stream_id is bool, expected int"),
        ({"type": "Credit", "stream_id": 1.5, "nbytes": 2}, "stream_id is float"),
        ({"type": "Credit", "stream_id": 1}, "nbytes is missing"),
        ({"type": "Cancel"}, "stream_id is missing"),
        ({"type": "ResponseBody", "stream_id": 1, "data": "text"}, "data is str, expected bytes"),
        ({"type": "ResponseEnd", "stream_id": 1, "ok": 1}, "ok is int, expected bool"),
        (
            {
                "type": "ResponseHead",
                "stream_id": 1,
                "status": 200,
                "headers": [["a", "b"]],
                "account": "x",
            },
            "a header is not a pair of bytes",
        ),
        (
            {
                "type": "ResponseHead",
                "stream_id": 1,
                "status": 200,
                "headers": [[b"a", b"b", b"c"]],
                "account": "x",
            },
            "a header is not a pair of bytes",
        ),
        (
            {"type": "ResponseHead", "stream_id": 1, "status": 200, "headers": {}, "account": "x"},
            "headers is dict, expected list",
        ),
        (
            {
                "type": "Forward",
                "stream_id": 1,
                "account": "a",
                "method": "POST",
                "target": "/",
                "headers": [],
                "body": None,
                "window_bytes": 1,
            },
            "body is NoneType, expected bytes",
        ),
    ],
)
def test_a_field_of_the_wrong_type_is_a_frame_error_naming_it(raw, complaint):
    with pytest.raises(FrameError, match=f"{raw['type']} frame has bad fields: {complaint}"):
        decode_payload(packed(raw))
