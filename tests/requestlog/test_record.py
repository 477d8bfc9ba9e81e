"""The record's pure parts: the client family, the hashed conversation key, the stored row."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.requestlog.record import (
    CONVERSATION_HASH_CHARS,
    MAX_CLIENT_CHARS,
    MAX_ERROR_CHARS,
    ROW_COLUMNS,
    RequestRecord,
    client_family,
    conversation_hash,
    row_of,
)


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (b"claude-cli/1.0.83 (external, cli)", "claude-cli"),
        (b"claude-cli/2.0.1 (external, sdk-ts)", "claude-cli"),
        (b"Anthropic/Python 0.49.0", "anthropic-python"),
        (b"Anthropic/JS 0.30.1", "anthropic-js"),
        (b"OpenAI/Python 1.54.3", "openai-python"),
        (b"OpenAI/JS 4.67.0", "openai-js"),
        (b"Anthropic/Rust 0.1", "anthropic-rust"),
        (b"python-httpx/0.27.2", "httpx"),
        (b"python-requests/2.32", "python-requests"),
        (b"curl/8.5.0", "curl"),
        (b"MyTool/2.0 (linux; secret-host-name)", "mytool"),
        (b"  Spaced/1  ", "spaced"),
        (b"", "unknown"),
        (b"   ", "unknown"),
        (b"/1.0", "other"),
        (b"(compatible)", "other"),
        (b"x" * 100 + b"/1", "x" * MAX_CLIENT_CHARS),
        ("claude-cli/1.0", "claude-cli"),  # str works as bytes do
    ],
)
def test_client_family(user_agent, family):
    assert client_family(user_agent) == family


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_a_client_family_is_a_short_plain_name_without_a_version(user_agent):
    family = client_family(user_agent)
    assert 0 < len(family) <= MAX_CLIENT_CHARS
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", family), family


def test_the_conversation_is_stored_hashed():
    session = "0b7f6e4c-5a1d-4a8e-9c3b-2f6d1e0a9b8c"
    stored = conversation_hash(session)
    assert re.fullmatch(rf"[0-9a-f]{{{CONVERSATION_HASH_CHARS}}}", stored)
    assert stored == conversation_hash(session)  # groups the same conversation together
    assert stored != conversation_hash(session + "x")
    assert conversation_hash(None) == ""


@settings(max_examples=200, deadline=None)
@given(session=st.text(min_size=1, max_size=80).map(lambda text: "session-" + text))
def test_a_row_never_holds_the_session_id_nor_the_user_agent(session):
    record = RequestRecord(
        started=1.0,
        method="POST",
        path="/v1/messages",
        model="m",
        user_agent=b"MyTool/2.0 (" + session.encode("utf-8", "surrogatepass") + b")",
        conversation_key=session,
    )
    row = row_of(record)
    for value in row:
        if isinstance(value, str):
            assert session not in value


def test_a_row_has_every_column_in_order():
    record = RequestRecord(
        started=1700000000.5,
        method="POST",
        path="/v1/messages",
        model="claude-sonnet-4-6",
        account="beta",
        model_sent="claude-sonnet-4-6",
        route="least-utilization",
        failovers=1,
        skipped=[("alpha", "429 rate limited (retry-after 12s)")],
        status=200,
        input_tokens=10,
        output_tokens=20,
        cache_read_tokens=30,
        cache_creation_tokens=40,
        duration_ms=12.5,
        ttfb_ms=3.25,
        error="",
        user_agent=b"Anthropic/Python 0.49.0",
        conversation_key="k",
    )
    row = dict(zip(ROW_COLUMNS, row_of(record), strict=True))
    assert row == {
        "started": 1700000000.5,
        "listener": "anthropic",
        "method": "POST",
        "path": "/v1/messages",
        "account": "beta",
        "provider": "",
        "model": "claude-sonnet-4-6",
        "model_sent": "claude-sonnet-4-6",
        "route": "least-utilization",
        "failovers": 1,
        "skipped": json.dumps([["alpha", "429 rate limited (retry-after 12s)"]]),
        "status": 200,
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_read_tokens": 30,
        "cache_creation_tokens": 40,
        "duration_ms": 12.5,
        "ttfb_ms": 3.25,
        "conversation": conversation_hash("k"),
        "client": "anthropic-python",
        "error": "",
    }


def test_a_long_error_is_cut():
    record = RequestRecord(started=0.0, method="POST", path="/", model="", error="e" * 10_000)
    error = dict(zip(ROW_COLUMNS, row_of(record), strict=True))["error"]
    assert error == "e" * MAX_ERROR_CHARS


def test_the_repr_shows_neither_the_conversation_key_nor_the_user_agent():
    record = RequestRecord(
        started=0.0,
        method="POST",
        path="/",
        model="",
        user_agent=b"agent-secret",
        conversation_key="session-secret",
    )
    assert "secret" not in repr(record)
