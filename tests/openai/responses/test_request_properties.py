"""Any request in the supported subset becomes a valid Anthropic request; any JSON object at
all either translates or is refused with a TranslationError that names the field."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai.errors import TranslationError
from shunt.openai.responses import SequentialIds, translate_answer, translate_request
from shunt.openai.responses.request import DEFAULT_MAX_TOKENS
from tests.openai.responses.request_strategies import responses_requests
from tests.openai.responses.sdk import check_anthropic_request, check_response
from tests.openai.responses.strategies import any_json

FIELDS = (
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "store",
    "stream",
    "reasoning",
    "max_output_tokens",
    "temperature",
    "top_p",
    "text",
    "include",
    "prompt_cache_key",
    "previous_response_id",
    "background",
    "conversation",
    "prompt",
)


def _resolve(name: str) -> str:
    return name if name.startswith("claude-") else "claude-sonnet-4-6"


def _check_turns(messages: list[dict[str, Any]]) -> None:
    roles = [message["role"] for message in messages]
    assert roles[0] == "user"
    assert roles[-1] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles)), roles
    for index, message in enumerate(messages):
        types = [block["type"] for block in message["content"]]
        if message["role"] == "assistant":
            thinking = [t in ("thinking", "redacted_thinking") for t in types]
            assert thinking == sorted(thinking, reverse=True), "thinking blocks come first"
            calls = {b["id"] for b in message["content"] if b["type"] == "tool_use"}
            after = messages[index + 1]["content"]
            answers = [b["tool_use_id"] for b in after if b["type"] == "tool_result"]
            assert sorted(answers) == sorted(calls), "each call is answered right after"
        else:
            results = [t == "tool_result" for t in types]
            assert results == sorted(results, reverse=True), "tool results come first"
            if any(results):
                assert messages[index - 1]["role"] == "assistant"


@settings(max_examples=300, deadline=None)
@given(body=responses_requests())
def test_any_supported_request_becomes_a_valid_anthropic_request(body: dict[str, Any]) -> None:
    anthropic, context = translate_request(body, resolve_model=_resolve)
    check_anthropic_request(anthropic)
    _check_turns(anthropic["messages"])
    assert anthropic["model"] == _resolve(body["model"])
    assert anthropic["stream"] is body.get("stream", False)
    assert anthropic["max_tokens"] == body.get("max_output_tokens", DEFAULT_MAX_TOKENS)
    if body.get("instructions"):
        assert anthropic["system"][0] == {"type": "text", "text": body["instructions"]}
    assert context.requested_model == body["model"]
    assert context.conversation_key == body.get("prompt_cache_key")
    offered = [tool for tool in body.get("tools", []) if tool["type"] in ("function", "custom")]
    offered_names = {tool["name"] for tool in offered}
    assert offered_names <= {tool["name"] for tool in anthropic.get("tools", [])}
    dropped = [t for t in body.get("tools", []) if t["type"] in ("web_search", "file_search")]
    assert len([n for n in context.notes if "runs on OpenAI's side" in n]) == len(dropped)
    # What the Response object echoes of the request is in shapes the SDK accepts.
    answer = {"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}
    response = translate_answer(answer, context, created_at=0, ids=SequentialIds())
    check_response(response)
    assert response["model"] == body["model"]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    return [_replace(inner, rest, new) if i == head else inner for i, inner in enumerate(value)]


def _translates_or_refuses(body: Any) -> None:
    try:
        anthropic, _ = translate_request(body, resolve_model=_resolve)
    except TranslationError as error:
        refusal = error
    else:
        check_anthropic_request(anthropic)
        return
    assert refusal.status == 400
    assert refusal.param
    assert refusal.message.strip()


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), any_json))
def test_any_json_object_translates_or_is_refused_clearly(body: dict[str, Any]) -> None:
    _translates_or_refuses(body)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_field_of_a_good_request_set_to_any_json_is_handled(data: st.DataObject) -> None:
    body = data.draw(responses_requests())
    path = data.draw(st.sampled_from(_paths(body)))
    _translates_or_refuses(_replace(body, path, data.draw(any_json)))


@given(body=any_json)
def test_a_body_that_is_not_an_object_is_refused(body: Any) -> None:
    if not isinstance(body, dict):
        _translates_or_refuses(body)
