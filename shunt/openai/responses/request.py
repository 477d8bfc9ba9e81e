"""A Responses API request (`POST /v1/responses`) as an Anthropic Messages request.

    translate_request(body, *, resolve_model) -> (anthropic_body, ResponsesContext)

`body` is the client's parsed JSON; anything shunt cannot translate raises TranslationError
(400, naming the field), never another exception. `resolve_model(name)` maps the client's model
name to a Claude model. The context goes to the answer's translation (answer.py, stream.py).

Server-side state is refused: shunt keeps no conversation content, so `previous_response_id`,
`conversation`, `store: true`, `background: true` and stored `prompt`s are 400s. An absent
`store` is taken as false (OpenAI's default is true, but refusing every plain SDK call would
help no one): nothing is stored either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from shunt.openai.fields import (
    JsonObject,
    as_object,
    invalid,
    missing,
    optional_bool,
    optional_int,
    optional_number,
    optional_object,
    optional_str,
    required_str,
    unsupported,
)
from shunt.openai.json_output import json_instruction
from shunt.openai.responses.context import ResponsesContext
from shunt.openai.responses.input_items import read_input
from shunt.openai.responses.tools import ToolChoice, translate_tool_choice, translate_tools
from shunt.openai.responses.turns import assemble

# max_tokens when the client sets no max_output_tokens: what every current Claude model can
# produce (Opus 4.1's ceiling is 32000), and room for the largest thinking budget below.
DEFAULT_MAX_TOKENS: Final = 32000
# reasoning.effort → Anthropic's thinking budget_tokens; "none" (or no effort) is no thinking.
EFFORT_BUDGETS: Final = {
    "minimal": 1024,
    "low": 4096,
    "medium": 10000,
    "high": 20000,
    "xhigh": 28000,
    "max": 31999,
}
MIN_THINKING_BUDGET: Final = 1024  # Anthropic's floor
NO_STATE: Final = (
    "shunt keeps no conversation content: send the whole conversation in input, with store "
    "false or absent"
)


def translate_request(
    body: object, *, resolve_model: Callable[[str], str]
) -> tuple[JsonObject, ResponsesContext]:
    request = as_object(body, "body")
    _refuse_server_state(request)
    model = required_str(request, "model", "model")
    stream = bool(optional_bool(request, "stream", "stream"))
    if request.get("input") is None:
        raise missing("input")
    read = read_input(request["input"])
    tools = translate_tools(request.get("tools"))
    parallel = optional_bool(request, "parallel_tool_calls", "parallel_tool_calls") is not False
    choice = translate_tool_choice(request.get("tool_choice"), tools, parallel=parallel)
    turns = assemble(read.entries)
    notes = [*tools.notes, *read.notes, *turns.notes]

    instructions = optional_str(request, "instructions", "instructions")
    text_format, format_instruction = _text_format(request)
    system = [text for text in (instructions, *read.system, format_instruction) if text]
    max_output = optional_int(request, "max_output_tokens", "max_output_tokens", minimum=1)
    max_tokens = max_output or DEFAULT_MAX_TOKENS
    reasoning = optional_object(request, "reasoning", "reasoning") or {}
    effort = optional_str(reasoning, "effort", "reasoning.effort")
    summary = optional_str(reasoning, "summary", "reasoning.summary")
    budget = _thinking_budget(effort, max_output, choice, notes)
    if budget and turns.last_call_lacks_thinking():
        notes.append("thinking off: the last tool calls came back without their reasoning item")
        budget = None

    anthropic: JsonObject = {
        "model": resolve_model(model),
        "max_tokens": max_tokens,
        "messages": turns.messages(),
        "stream": stream,
    }
    if system:
        anthropic["system"] = [{"type": "text", "text": text} for text in system]
    if tools.anthropic:
        anthropic["tools"] = tools.anthropic
    if choice.anthropic is not None:
        anthropic["tool_choice"] = choice.anthropic
    if budget:
        anthropic["thinking"] = {"type": "enabled", "budget_tokens": budget}
    for sampling in ("temperature", "top_p"):
        if optional_number(request, sampling, sampling) is not None:
            # Anthropic's Messages API (anthropic SDK 2.x) has no sampling parameters.
            notes.append(f"{sampling} dropped: current Claude models take no sampling parameters")

    echo: JsonObject = {
        "instructions": instructions,
        "max_output_tokens": max_output,
        "parallel_tool_calls": parallel,
        "tool_choice": choice.echo,
        "tools": tools.echo,
        "reasoning": {"effort": effort, "summary": summary} if effort or summary else None,
        "text": {"format": text_format},
        "store": False,
        "truncation": "disabled",
    }
    cache_key = optional_str(request, "prompt_cache_key", "prompt_cache_key")
    context = ResponsesContext(
        requested_model=model,
        anthropic_model=str(anthropic["model"]),
        stream=stream,
        tool_kinds=tools.kinds,
        echo=echo,
        conversation_key=cache_key or None,
        notes=tuple(notes),
    )
    return anthropic, context


def _refuse_server_state(request: JsonObject) -> None:
    for field in ("previous_response_id", "conversation", "prompt"):
        if request.get(field) is not None:
            raise unsupported(field, NO_STATE)
    if optional_bool(request, "store", "store"):
        raise unsupported("store", NO_STATE)
    if optional_bool(request, "background", "background"):
        raise unsupported("background", "background responses need stored state; stream instead")


def _thinking_budget(
    effort: str | None, max_output: int | None, choice: ToolChoice, notes: list[str]
) -> int | None:
    if effort is None or effort == "none":
        return None
    if effort not in EFFORT_BUDGETS:
        raise invalid("reasoning.effort", f"must be none or one of {list(EFFORT_BUDGETS)}")
    budget = EFFORT_BUDGETS[effort]
    if max_output is not None:
        # OpenAI counts reasoning within max_output_tokens; keep half of it for the answer.
        budget = min(budget, max_output // 2)
    if budget < MIN_THINKING_BUDGET:
        notes.append(f"thinking off: max_output_tokens under {2 * MIN_THINKING_BUDGET}")
        return None
    if choice.forced:
        notes.append("thinking off: Anthropic allows no thinking when tool_choice forces a call")
        return None
    return budget


def _text_format(request: JsonObject) -> tuple[JsonObject, str | None]:
    """The echoed text.format, and the instruction that asks Claude for that format."""
    text = optional_object(request, "text", "text") or {}
    text_format = optional_object(text, "format", "text.format")
    if text_format is None:
        return {"type": "text"}, None
    kind = required_str(text_format, "type", "text.format.type")
    if kind == "text":
        return {"type": "text"}, None
    if kind == "json_object":
        return {"type": "json_object"}, json_instruction(None, param="text.format")
    if kind != "json_schema":
        raise invalid("text.format.type", "must be text, json_object or json_schema")
    name = required_str(text_format, "name", "text.format.name")
    schema = optional_object(text_format, "schema", "text.format.schema")
    if schema is None:
        raise missing("text.format.schema")
    description = optional_str(text_format, "description", "text.format.description")
    strict = optional_bool(text_format, "strict", "text.format.strict")
    echo: JsonObject = {"type": "json_schema", "name": name, "schema": schema}
    if description is not None:
        echo["description"] = description
    if strict is not None:
        echo["strict"] = strict
    instruction = json_instruction(schema, description=description, param="text.format.schema")
    return echo, instruction
