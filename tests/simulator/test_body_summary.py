"""The content-free summary of each Messages API body in /_sim/state: what a translating proxy
sent upstream, in structure, never in text."""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator import Simulator
from shunt.simulator.body_summary import MAX_CHARS, MAX_ITEMS, MORE, summarize
from tests.simulator.support import MODEL, NET_TIMEOUT_S, auth_headers

SECRET = "SECRET-TEXT"  # stands in for whatever a conversation says
PIXEL = "iVBORw0KGgo" + SECRET
WEATHER = {
    "name": "get_weather",
    "description": f"The weather. {SECRET}",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
}
RICH: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 300,
    "stream": True,
    "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": SECRET}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": f"What is this? {SECRET}"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PIXEL},
                },
                {"type": "image", "source": {"type": "url", "url": f"https://x.test/{SECRET}"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"location": SECRET},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [
                        {"type": "text", "text": SECRET},
                        {"type": "image", "source": {"type": "base64", "data": PIXEL}},
                    ],
                },
            ],
        },
    ],
    "tools": [WEATHER, {"type": "web_search_20250305", "name": "web_search"}],
    "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    "stop_sequences": ["\n\nHuman:", "END"],
    "temperature": 0.5,
    "top_p": 0.9,
    "metadata": {"user_id": SECRET},
}
RICH_SUMMARY: dict[str, Any] = {
    "model": MODEL,
    "stream": True,
    "max_tokens": 300,
    "system_chars": len("Be brief.") + len(SECRET),
    "messages": 3,
    "roles": ["user", "assistant", "user"],
    "block_types": ["image", "text", "tool_result", "tool_use"],
    "image_sources": ["base64", "url", "base64"],  # the last one inside the tool result
    "tools": ["get_weather", "web_search"],
    "tool_choice": {"type": "tool", "name": "get_weather"},
    "disable_parallel_tool_use": True,
    "thinking": None,
    "stop_sequences": ["\n\nHuman:", "END"],
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": None,
    "metadata_user_id": True,
}


def test_a_rich_body_is_summarized_without_its_text() -> None:
    summary = summarize(RICH)
    assert summary == RICH_SUMMARY
    assert SECRET not in json.dumps(summary)


def test_a_plain_body_with_thinking_and_a_string_content() -> None:
    body = {
        "model": MODEL,
        "max_tokens": 2048,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 5,
    }
    summary = summarize(body)
    assert summary is not None
    assert (summary["system_chars"], summary["roles"], summary["block_types"]) == (
        len("You are terse."),
        ["user"],
        ["text"],
    )
    assert summary["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert (summary["stream"], summary["tool_choice"], summary["stop_sequences"]) == (
        None,
        None,
        None,
    )
    assert (summary["top_k"], summary["metadata_user_id"]) == (5, False)


def test_not_an_object_is_no_summary() -> None:
    assert summarize(None) is None
    assert summarize([RICH]) is None
    assert summarize("text") is None


def test_long_lists_and_strings_are_bounded() -> None:
    body = {
        "model": "m" * 1000,
        "messages": [{"role": f"r{i}", "content": [{"type": f"t{i}"}]} for i in range(500)],
        "tools": [{"name": "n" * 500} for _ in range(500)],
        "stop_sequences": ["s"] * 500,
    }
    summary = summarize(body)
    assert summary is not None
    assert summary["model"] == "m" * MAX_CHARS
    assert summary["messages"] == 500
    for field in ("roles", "block_types", "tools", "stop_sequences"):
        assert len(summary[field]) == MAX_ITEMS + 1
        assert summary[field][-1] == MORE
    assert summary["tools"][0] == "n" * MAX_CHARS


_ALPHABET = "abcdefghijklmnopqrstuvwxyz_"
_names = st.text(alphabet=_ALPHABET, min_size=1, max_size=12) | st.text(
    alphabet=_ALPHABET, min_size=MAX_CHARS - 4, max_size=MAX_CHARS * 2
)
_secret_text = st.text(max_size=30).map(lambda t: t + SECRET + t)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _names,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_names, inner, max_size=4),
    max_leaves=20,
)
_block = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image", "tool_use", "thinking"]) | _names},
    optional={
        "text": _secret_text,
        "thinking": _secret_text,
        "input": st.dictionaries(_names, _secret_text, max_size=3),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["base64", "url"]) | _json, "data": _secret_text}
        ),
    },
)
_content = _secret_text | st.lists(
    _block
    | st.fixed_dictionaries(
        {"type": st.just("tool_result"), "content": _secret_text | st.lists(_block, max_size=3)}
    ),
    max_size=4,
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "model": _names | _json,
        "max_tokens": _json,
        "system": _secret_text | st.lists(st.fixed_dictionaries({"text": _secret_text})),
        "messages": st.lists(
            st.fixed_dictionaries({"role": _names | _json, "content": _content}), max_size=40
        )
        | _json,
        "tools": st.lists(st.fixed_dictionaries({"name": _names, "description": _secret_text}))
        | _json,
        "tool_choice": _json,
        "thinking": _json,
        "stop_sequences": st.lists(_names, max_size=40) | _json,
        "metadata": st.fixed_dictionaries({"user_id": _secret_text}) | _json,
        "temperature": _json,
    },
)


@given(body=_body | _json)
def test_any_body_gives_a_bounded_summary_with_none_of_its_text(body: Any) -> None:
    summary = summarize(body)
    if not isinstance(body, dict):
        assert summary is None
        return
    assert summary is not None
    encoded = json.dumps(summary, ensure_ascii=False)
    assert SECRET not in encoded
    strings = [v for v in summary.values() if isinstance(v, str)]
    strings += [item for v in summary.values() if isinstance(v, list) for item in v]
    assert all(len(s) <= MAX_CHARS for s in strings)
    lists = sum(isinstance(v, list) for v in summary.values())
    assert len(encoded) <= 1000 + lists * (MAX_ITEMS + 1) * (MAX_CHARS + 4)


async def test_state_shows_what_each_body_asked_for(
    sim: Simulator, client: httpx.AsyncClient
) -> None:
    token = sim.add_account("a")["access_token"]
    headers = auth_headers(token)
    asked = RICH | {"stream": False, "tool_choice": {"type": "auto"}}
    with trio.fail_after(NET_TIMEOUT_S):
        answered = await client.post("/v1/messages", json=asked, headers=headers)
        broken = await client.post("/v1/messages", content=b"{not json", headers=headers)
        anonymous = await client.post("/v1/messages/count_tokens", json=RICH)
        await client.get("/v1/models", headers=headers)
        state = (await client.get("/_sim/state")).json()
    assert (answered.status_code, broken.status_code, anonymous.status_code) == (200, 400, 401)
    first, second, third, fourth = state["requests"]
    assert first["body"] == RICH_SUMMARY | {
        "stream": False,
        "tool_choice": {"type": "auto"},
        "disable_parallel_tool_use": None,
    }
    assert second["body"] is None  # not JSON
    assert (third["path"], third["body"]) == ("/v1/messages/count_tokens", RICH_SUMMARY)
    assert fourth["body"] is None  # a GET has no body
    assert SECRET not in json.dumps(state)
