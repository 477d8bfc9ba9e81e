"""Conversation keys: session ids when sent, else a cache_control-blind prompt fingerprint."""

from __future__ import annotations

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.routing.conversation import MAX_SESSION_ID_CHARS, conversation_key

SESSION = "9f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
CACHE = {"type": "ephemeral"}


def request(**overrides):
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Project rules.", "cache_control": CACHE},
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "fix the bug"}]},
            {"role": "assistant", "content": "done"},
        ],
        "tools": [{"name": "Read", "input_schema": {}}, {"name": "Bash", "input_schema": {}}],
    }
    body.update(overrides)
    return body


def test_session_header_is_the_key():
    headers = [(b"content-type", b"application/json"), (b"x-claude-code-session-id", b"abc-123")]
    assert conversation_key(headers, request()) == "abc-123"


def test_session_header_works_without_a_body():
    assert conversation_key([(b"x-claude-code-session-id", b"abc")], None) == "abc"


def test_blank_session_header_is_ignored():
    key = conversation_key([(b"x-claude-code-session-id", b"  ")], request())
    assert key == conversation_key([], request())


def test_metadata_json_session():
    user_id = json.dumps({"device_id": "d" * 64, "account_uuid": "", "session_id": SESSION})
    assert conversation_key([], request(metadata={"user_id": user_id})) == SESSION


def test_metadata_legacy_session():
    user_id = f"user_{'ab' * 32}_account_1234abcd-0000-4000-8000-123456789abc_session_{SESSION}"
    assert conversation_key([], request(metadata={"user_id": user_id})) == SESSION


def test_metadata_legacy_session_with_empty_account():
    user_id = f"user_{'ab' * 32}_account__session_{SESSION}"
    assert conversation_key([], request(metadata={"user_id": user_id})) == SESSION


def test_header_wins_over_metadata():
    body = request(metadata={"user_id": f"user_x_account_y_session_{SESSION}"})
    assert conversation_key([(b"x-claude-code-session-id", b"from-header")], body) == "from-header"


def test_metadata_without_session_falls_back_to_the_fingerprint():
    for user_id in ["plain-user", '{"device_id": "d"}', "{not json", "[1, 2]", 42]:
        body = request(metadata={"user_id": user_id})
        assert conversation_key([], body) == conversation_key([], request()), user_id


def test_overlong_session_ids_are_hashed():
    def key_of(session_id: bytes) -> str | None:
        return conversation_key([(b"x-claude-code-session-id", session_id)], None)

    key = key_of(b"s" * 10_000)
    assert key is not None
    assert len(key) <= MAX_SESSION_ID_CHARS
    assert key_of(b"s" * 10_000) == key, "the same session keeps its key"
    assert key_of(b"s" * 9_999 + b"t") != key, "another session gets another key"
    assert key_of(b"t" + b"s" * 9_999) != key


def test_fingerprint_is_a_sha256_hex():
    key = conversation_key([], request())
    assert key is not None
    assert len(key) == 64
    int(key, 16)


def test_fingerprint_ignores_moved_cache_control():
    moved = request()
    del moved["system"][1]["cache_control"]
    moved["system"][0]["cache_control"] = CACHE
    moved["messages"][0]["content"][0]["cache_control"] = CACHE
    moved["tools"][0]["cache_control"] = CACHE
    assert conversation_key([], moved) == conversation_key([], request())


def test_fingerprint_ignores_later_turns_and_tool_order():
    later = request()
    later["messages"] += [{"role": "user", "content": "and another thing"}]
    later["tools"].reverse()
    assert conversation_key([], later) == conversation_key([], request())


def test_string_and_block_content_fingerprint_alike():
    as_string = request(system="S", messages=[{"role": "user", "content": "hi"}])
    as_blocks = request(
        system=[{"type": "text", "text": "S"}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    )
    assert conversation_key([], as_string) == conversation_key([], as_blocks)


def test_fingerprint_tells_conversations_apart():
    base = conversation_key([], request())
    assert conversation_key([], request(system="other")) != base
    assert conversation_key([], request(messages=[{"role": "user", "content": "x"}])) != base
    assert conversation_key([], request(tools=[{"name": "Read"}])) != base


def test_fingerprint_does_not_blur_text_boundaries():
    one = request(system=[{"type": "text", "text": "ab"}, {"type": "text", "text": "c"}])
    other = request(system=[{"type": "text", "text": "a"}, {"type": "text", "text": "bc"}])
    assert conversation_key([], one) != conversation_key([], other)


def test_unparseable_body_without_session_has_no_key():
    assert conversation_key([(b"content-type", b"application/json")], None) is None


def test_body_with_nothing_to_fingerprint_has_no_key():
    assert conversation_key([], {"model": "m", "messages": []}) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "text", "role", "content", "name", "user_id", "session_id"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
BODY_KEYS = st.sampled_from(["system", "messages", "tools", "metadata", "model"])


@settings(max_examples=200, deadline=None)
@given(body=st.dictionaries(BODY_KEYS, JSON, max_size=5))
def test_malformed_bodies_never_raise(body):
    key = conversation_key([], body)
    assert key is None or isinstance(key, str)
    assert conversation_key([], copy.deepcopy(body)) == key


def test_the_body_is_needed_only_without_a_session_header():
    from shunt.routing.conversation import needs_body

    assert needs_body([(b"content-type", b"application/json")])
    assert needs_body([(b"x-claude-code-session-id", b"  ")])  # blank counts as absent
    assert not needs_body([(b"x-claude-code-session-id", b"abc")])


@given(
    model=st.text(
        alphabet=st.characters(exclude_characters='"\\', exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=60,
    ),
    rest=st.dictionaries(st.sampled_from(["messages", "system", "tools", "metadata"]), st.text()),
)
def test_the_model_is_read_from_the_raw_body_as_json_would_read_it(model, rest):
    from shunt.routing.conversation import model_of

    raw = json.dumps({"model": model, **rest}, ensure_ascii=False).encode()
    assert model_of(raw) == json.loads(raw)["model"]
    # a "model" inside message text is escaped in the raw JSON, so it is never taken
    decoy = {"messages": [{"content": '"model": "decoy"'}], "model": model}
    decoy_raw = json.dumps(decoy, ensure_ascii=False).encode()
    assert model_of(decoy_raw) == model


def test_no_model_reads_as_empty():
    from shunt.routing.conversation import model_of

    assert model_of(b"") == ""
    assert model_of(b"not json at all") == ""
    assert model_of(b'{"model": 42}') == ""
