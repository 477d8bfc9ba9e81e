"""What both APIs carry the same way reaches Anthropic the same way: a function tool's schema,
an image, a tool call's arguments. Each case goes through both request translations, which
must give the same Anthropic block or refuse it with the same words (the field's name aside)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai import chat, responses
from shunt.openai.errors import TranslationError
from shunt.openai.models import ModelMap

HI = {"role": "user", "content": "hi"}


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    return chat.translate_request({"model": "gpt-4o", **body}, model_map=ModelMap())[0]


def _responses(body: dict[str, Any]) -> dict[str, Any]:
    return responses.translate_request(
        {"model": "gpt-4o", **body}, resolve_model=ModelMap().resolve
    )[0]


def _outcome(translate: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", what came out) or ("refused", the message without the field's name)."""
    try:
        return "ok", translate()
    except TranslationError as error:
        return "refused", (error.code, error.message.split("': ", 1)[-1])


schemas = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["object", "array", "string"]),
            "properties": st.dictionaries(
                st.sampled_from(["a", "b"]), st.just({"type": "string"}), max_size=2
            ),
            "required": st.just(["a"]),
        },
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["weather", "apply_patch"]),
    description=st.one_of(st.none(), st.just(""), st.text(max_size=10)),
    parameters=schemas,
)
def test_a_function_tool_becomes_the_same_anthropic_tool(
    name: str, description: str | None, parameters: dict[str, Any] | None
) -> None:
    function = {"name": name, "description": description, "parameters": parameters}
    by_chat = _outcome(
        lambda: _chat({"messages": [HI], "tools": [{"type": "function", "function": function}]})[
            "tools"
        ]
    )
    by_responses = _outcome(
        lambda: _responses({"input": "hi", "tools": [{"type": "function", **function}]})["tools"]
    )
    assert by_chat == by_responses


image_urls = st.one_of(
    st.sampled_from(
        [
            "https://example.com/cat.png",
            "http://example.com/cat.png",
            "ftp://example.com/cat.png",
            "data:image/png,rawbytes",
            "data:image/bmp;base64,Qk0=",
            "data:;base64,AAAA",
            "cat.png",
        ]
    ),
    st.builds(
        "data:{}{};base64,{}".format,
        st.sampled_from(["image/png", "image/PNG", "Image/Jpeg", "image/webp", "image/gif"]),
        st.sampled_from(["", ";charset=utf-8", ";name=x"]),
        st.text("ABCabc012+/=", max_size=8),
    ),
)


@settings(max_examples=60, deadline=None)
@given(url=image_urls)
def test_an_image_becomes_the_same_anthropic_image(url: str) -> None:
    by_chat = _outcome(
        lambda: _chat(
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
                ]
            }
        )["messages"][0]["content"]
    )
    by_responses = _outcome(
        lambda: _responses(
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": url}]}]}
        )["messages"][0]["content"]
    )
    assert by_chat == by_responses


arguments = st.one_of(
    st.sampled_from(["", "  ", "{}", '{"city": "Zürich"}', "[1]", "null", "{", '"text"']),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3).map(json.dumps),
    st.text(max_size=10),
)


@settings(max_examples=60, deadline=None)
@given(text=arguments)
def test_a_tool_calls_arguments_become_the_same_input(text: str) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": text}}
    by_chat = _outcome(
        lambda: _chat(
            {
                "messages": [
                    HI,
                    {"role": "assistant", "tool_calls": [call]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
                ]
            }
        )["messages"][1]["content"]
    )
    by_responses = _outcome(
        lambda: _responses(
            {
                "input": [
                    HI,
                    {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": text},
                    {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
                ]
            }
        )["messages"][1]["content"]
    )
    assert by_chat == by_responses


@settings(max_examples=30, deadline=None)
@given(
    schema=st.one_of(st.none(), st.just({"type": "object"}), schemas.filter(bool)),
    description=st.one_of(st.none(), st.text(max_size=10)),
)
def test_a_json_format_becomes_the_same_instruction(
    schema: dict[str, Any] | None, description: str | None
) -> None:
    if schema is None:
        chat_format: dict[str, Any] = {"type": "json_object"}
        responses_format: dict[str, Any] = {"type": "json_object"}
    else:
        spec = {"name": "answer", "description": description, "schema": schema}
        chat_format = {"type": "json_schema", "json_schema": spec}
        responses_format = {"type": "json_schema", **spec}
    by_chat = _chat({"messages": [HI], "response_format": chat_format})["system"]
    by_responses = _responses({"input": "hi", "text": {"format": responses_format}})["system"]
    assert [{"type": "text", "text": by_chat}] == by_responses


def test_blank_arguments_are_an_empty_input_in_both() -> None:
    for text in ("", "  \n"):
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": text}}
        turn = {"role": "assistant", "tool_calls": [call]}
        answer = {"role": "tool", "tool_call_id": "c", "content": "ok"}
        by_chat = _chat({"messages": [HI, turn, answer]})["messages"][1]["content"]
        function_call = {"type": "function_call", "call_id": "c", "name": "f", "arguments": text}
        output = {"type": "function_call_output", "call_id": "c", "output": "ok"}
        by_responses = _responses({"input": [HI, function_call, output]})["messages"][1]["content"]
        assert (
            by_chat == by_responses == [{"type": "tool_use", "id": "c", "name": "f", "input": {}}]
        )
