"""Framing: every message round-trips, frames split anywhere decode, garbage is rejected."""

import itertools
import struct

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.errors import FatalFrameError, FrameError
from shunt.ipc.codec import NEED_DATA, FrameDecoder, decode_payload, encode
from shunt.ipc.messages import (
    MESSAGE_TYPES,
    AccountReport,
    AssignAccount,
    Cancel,
    Configure,
    Credit,
    Failover,
    Forward,
    Ping,
    Pong,
    ReleaseAccount,
    ResetCooldown,
    ResponseBody,
    ResponseEnd,
    ResponseHead,
    Shutdown,
    TokensPersisted,
    TokensRefreshed,
    WorkerReady,
)
from shunt.model.credential import Credential
from shunt.model.durations import Durations
from shunt.model.quota import AccountSnapshot, AccountState, Counters, RateLimits, Window

SAMPLES = [
    Configure(
        "http://127.0.0.1:1",
        "http://127.0.0.1:1/v1/oauth/token",
        "cid",
        Durations(1, 2, 3, 4, 5, 6),
        head_timeout_s=1.5,
    ),
    AssignAccount("a", Credential("sk-ant-oat01-x", "sk-ant-ort01-y", 123)),
    AssignAccount("b", None),
    ReleaseAccount("a"),
    Forward(7, "a", "POST", "/v1/messages?beta=true", [(b"x-app", b"cli")], b"{}", 65536),
    Cancel(7),
    Credit(7, 4096),
    TokensPersisted("a", ok=False, error="disk full"),
    ResetCooldown("a"),
    Ping(3),
    Shutdown(2.5),
    WorkerReady(4242),
    ResponseHead(7, 200, [(b"content-type", b"text/event-stream")], "a"),
    ResponseBody(7, b"event: ping\ndata: {}\n\n"),
    ResponseEnd(7, False, "cut", 10, 20, "claude", 30, 40),
    Failover(7, "a", "429 rate limited", 429),
    AccountReport(
        AccountSnapshot(
            "a",
            AccountState.COOLING,
            99.5,
            "529",
            RateLimits(five_hour=Window(0.5, 1000.0, "allowed", 0.75), observed_at=5.0),
            Counters(1, 2, 3, 4, 5, 6, 7),
        )
    ),
    TokensRefreshed("a", Credential("n", "m", 1)),
    Pong(3, 9),
]


def test_samples_cover_every_message_type():
    assert {type(m) for m in SAMPLES} == set(MESSAGE_TYPES)


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(message):
    decoder = FrameDecoder()
    decoder.feed(encode(message))
    assert decoder.next_message() == message
    assert decoder.next_message() is NEED_DATA


@settings(max_examples=60)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_frames_split_at_arbitrary_boundaries(cuts):
    stream = b"".join(encode(m) for m in SAMPLES)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    decoder = FrameDecoder()
    out = []
    for start, end in itertools.pairwise(points):
        decoder.feed(stream[start:end])
        while (message := decoder.next_message()) is not NEED_DATA:
            out.append(message)
    assert out == SAMPLES


def _frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"\xc1\xc1\xc1", "undecodable msgpack"),
        (msgpack.packb([1, 2, 3]), "not a map"),
        (msgpack.packb({"type": "Nope"}), "unknown type"),
        (msgpack.packb({"type": "Credit", "stream_id": "x", "nbytes": 1}), "bad fields"),
        (msgpack.packb({"type": "Credit"}), "bad fields"),
    ],
)
def test_garbage_frame_is_rejected_and_decoder_carries_on(payload, why):
    decoder = FrameDecoder()
    decoder.feed(_frame(payload) + encode(Ping(1)))
    with pytest.raises(FrameError, match=why):
        decoder.next_message()
    assert decoder.next_message() == Ping(1)


def test_oversized_length_prefix_is_fatal():
    decoder = FrameDecoder(max_frame_bytes=100)
    decoder.feed(struct.pack(">I", 101) + b"x" * 10)
    with pytest.raises(FatalFrameError, match="out of sync"):
        decoder.next_message()
    with pytest.raises(FatalFrameError):
        decoder.next_message()


def test_partial_frame_needs_data():
    frame = encode(Ping(5))
    decoder = FrameDecoder()
    decoder.feed(frame[:3])
    assert decoder.next_message() is NEED_DATA
    decoder.feed(frame[3:-1])
    assert decoder.next_message() is NEED_DATA
    decoder.feed(frame[-1:])
    assert decoder.next_message() == Ping(5)


def test_credential_repr_hides_tokens():
    text = repr(AssignAccount("a", Credential("sk-ant-oat01-secret", "sk-ant-ort01-secret2", 1)))
    assert "secret" not in text


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_decode_payload_never_crashes_on_random_bytes(data):
    try:
        decode_payload(data)
    except FrameError:
        pass


def test_unencodable_values_raise_frame_error_not_crash():
    with pytest.raises(FrameError, match="cannot be encoded"):
        encode(ResponseEnd(1, True, "", 2**70, 0))
