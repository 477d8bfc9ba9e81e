"""When the simulator calls a tool and what the call holds (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.simulator.tool_calls import (
    SHORT_TEXT,
    Tool,
    ToolChoice,
    ToolResult,
    asked_tools,
    calls_to_make,
    example_input,
    quote_results,
    read_tools,
    tool_results,
)

WEATHER = Tool(
    "get_weather",
    {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)
TIME = Tool("get_time", {"type": "object", "properties": {}})
TOOLS = (WEATHER, TIME)


def user(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("call get_weather", ("get_weather",)),
        ("Please CALL Get_Weather for Paris.", ("get_weather",)),
        ("use get_time", ("get_time",)),
        ("call get_weather and get_time", ("get_weather", "get_time")),
        ("use get_time, get_weather", ("get_time", "get_weather")),
        ("call get_time and then call get_weather", ("get_time", "get_weather")),
        ("call get_weather and call get_weather", ("get_weather",)),
        ("call a tool", ("get_weather",)),
        ("use a tool please", ("get_weather",)),
        ("call get_weather and something", ("get_weather",)),
        ("what is the weather?", ()),
        ("call the weather service", ()),
        ("get_weather", ()),
        ("recall get_weather", ()),  # a word of its own, not inside another
        ("", ()),
    ],
)
def test_what_a_prompt_asks_for(text: str, asked: tuple[str, ...]) -> None:
    assert asked_tools(text, TOOLS) == asked


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n not in ("a", "and", "call", "use")
)


@given(st.lists(NAMES, min_size=1, max_size=5, unique=True), st.data())
def test_call_name_asks_for_that_tool_and_nothing_else_does(names: list[str], data: Any) -> None:
    tools = [Tool(name, {}) for name in names]
    chosen = data.draw(st.sampled_from(names))
    verb = data.draw(st.sampled_from(["call", "use", "Call", "USE"]))
    assert asked_tools(f"now {verb} {chosen}.", tools) == (chosen,)
    filler = data.draw(st.text(alphabet="bcdefghijk ,.", max_size=30))
    assert asked_tools(filler, tools) == ()


def test_tool_choice_forces_forbids_and_limits_calls() -> None:
    asked = user("call get_weather and get_time")
    assert calls_to_make(TOOLS, ToolChoice(), asked) == TOOLS
    assert calls_to_make(TOOLS, ToolChoice(parallel=False), asked) == (WEATHER,)
    assert calls_to_make(TOOLS, ToolChoice("none"), asked) == ()
    quiet = user("hello")
    assert calls_to_make(TOOLS, ToolChoice(), quiet) == ()
    assert calls_to_make(TOOLS, ToolChoice("any"), quiet) == (WEATHER,)
    assert calls_to_make(TOOLS, ToolChoice("any"), user("use get_time")) == (TIME,)
    assert calls_to_make(TOOLS, ToolChoice("tool", "get_time"), asked) == (TIME,)
    assert calls_to_make((), ToolChoice(), asked) == ()


def test_tool_results_are_quoted_unless_a_call_is_forced() -> None:
    content = [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_2",
            "content": [{"type": "text", "text": "12:00"}, {"type": "image"}],
            "is_error": True,
        },
        {"type": "text", "text": "call get_weather"},
    ]
    results = tool_results(content)
    assert results == (
        ToolResult("toolu_1", "sunny", False),
        ToolResult("toolu_2", "12:00 [image]", True),
    )
    assert (
        quote_results(results) == "tool toolu_1 returned: sunny\ntool toolu_2 failed: 12:00 [image]"
    )
    assert calls_to_make(TOOLS, ToolChoice(), content) == ()  # the results are answered first
    assert calls_to_make(TOOLS, ToolChoice("any"), content) == (WEATHER,)


def test_read_tools_and_choice() -> None:
    tools, choice = read_tools(
        {
            "tools": [
                {"name": "f", "input_schema": {"type": "object"}},
                {"name": "web", "type": "x"},
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        }
    )
    assert tools == (Tool("f", {"type": "object"}), Tool("web", {}))
    assert choice == ToolChoice("any", None, parallel=False)
    assert choice.forced
    assert read_tools({}) == ((), ToolChoice())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tools": {"name": "f"}}, "tools: Input should be a valid list"),
        ({"tools": [{"description": "no name"}]}, "tools.0.name: Field required"),
        ({"tools": [], "tool_choice": {"type": "some"}}, "tool_choice.type"),
        ({"tools": [{"name": "f"}], "tool_choice": {"type": "tool"}}, "tool_choice.tool.name"),
        (
            {"tools": [{"name": "f"}], "tool_choice": {"type": "tool", "name": "g"}},
            "'g' is not one of the offered tools",
        ),
    ],
)
def test_read_tools_refuses_what_the_api_refuses(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_tools(body)


def test_example_input_fills_required_properties_with_simple_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "e": {"type": "string", "enum": ["c", "f"]},
            "n": {"type": "number"},
            "i": {"type": "integer"},
            "b": {"type": "boolean"},
            "a": {"type": "array", "items": {"type": "string"}},
            "o": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
            "maybe": {"type": ["null", "integer"]},
            "optional": {"type": "string"},
        },
        "required": ["s", "e", "n", "i", "b", "a", "o", "maybe"],
    }
    assert example_input(schema) == {
        "s": "x",
        "e": "c",
        "n": 1,
        "i": 1,
        "b": True,
        "a": [],
        "o": {"x": 1},
        "maybe": 1,
    }
    assert example_input(WEATHER.schema) == {"location": SHORT_TEXT}
    assert example_input({"properties": {"q": {"type": "string"}}}) == {"q": SHORT_TEXT}
    assert example_input({}) == {}


TYPES = st.sampled_from(["string", "number", "integer", "boolean", "array", "null"])
PROPERTY = st.recursive(
    st.one_of(
        TYPES.map(lambda t: {"type": t}),
        st.lists(st.text(max_size=4), min_size=1, max_size=3).map(
            lambda values: {"type": "string", "enum": values}
        ),
    ),
    lambda inner: st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4).flatmap(
        lambda props: st.builds(
            lambda required: {"type": "object", "properties": props, "required": required},
            st.lists(st.sampled_from(sorted(props)), unique=True) if props else st.just([]),
        )
    ),
    max_leaves=10,
)
PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "null": (type(None),),
    "object": (dict,),
}


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The part of JSON Schema the example values must meet: type, enum, required, nesting."""
    if "enum" in schema:
        return value in schema["enum"]
    if not isinstance(value, PY_TYPES[schema["type"]]):
        return False
    if schema["type"] in ("number", "integer") and isinstance(value, bool):
        return False
    if schema["type"] != "object":
        return True
    props = schema["properties"]
    return all(name in value for name in schema["required"]) and all(
        conforms(v, props[k]) for k, v in value.items()
    )


@settings(deadline=None, max_examples=300)
@given(PROPERTY.filter(lambda s: s["type"] == "object"))
def test_example_input_meets_any_object_schema(schema: dict[str, Any]) -> None:
    assert conforms(example_input(schema), schema)
