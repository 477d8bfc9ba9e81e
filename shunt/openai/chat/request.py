"""A chat completion request (`POST /v1/chat/completions` body) → an Anthropic Messages request.

    translate_request(body, model_map=ModelMap()) → (anthropic_body, ChatContext)

`body` is any parsed JSON; what cannot be translated raises a 400 TranslationError naming the
field, never anything else. docs/openai.md ("What is translated: chat completions") lists every
field; the numbers it documents are the constants below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shunt.openai import fields
from shunt.openai.chat.context import ChatContext
from shunt.openai.chat.messages import translate_messages
from shunt.openai.chat.tools import translate_tools
from shunt.openai.json_output import json_instruction
from shunt.openai.models import ModelMap

DEFAULT_MAX_TOKENS: Final = 8192
# The most output any model of the default map writes in one answer.
MAX_TOKENS_CAP: Final = 64000
# reasoning_effort → Anthropic's thinking budget (budget_tokens); "none" turns thinking off.
THINKING_BUDGETS: Final = {
    "minimal": 1024,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 32000,
    "max": 48000,
}
MIN_THINKING_BUDGET: Final = 1024  # Anthropic's smallest budget
MAX_METADATA_USER_ID: Final = 256


def translate_request(
    body: object, *, model_map: ModelMap
) -> tuple[dict[str, object], ChatContext]:
    request = fields.as_object(body, "body")
    model = fields.required_str(request, "model", "model")
    _refuse_unsupported(request)
    conversation = translate_messages(request.get("messages"))
    tools = translate_tools(request)
    stream = fields.optional_bool(request, "stream", "stream") or False
    translated: dict[str, object] = {
        "model": model_map.resolve(model),
        "messages": conversation.messages,
    }
    system = "\n\n".join(text for text in (conversation.system, _response_format(request)) if text)
    if system:
        translated["system"] = system
    _check_sampling(request)
    max_tokens = _max_tokens(request)
    budget = _thinking_budget(request, max_tokens)
    if tools.forced or conversation.ends_in_tool_loop:
        budget = None
    if budget is None:
        translated["max_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
    else:
        translated["max_tokens"] = max_tokens or min(DEFAULT_MAX_TOKENS + budget, MAX_TOKENS_CAP)
        translated["thinking"] = {"type": "enabled", "budget_tokens": budget}
    stop = _stop_sequences(request)
    if stop:
        translated["stop_sequences"] = stop
    if tools.tools:
        translated["tools"] = tools.tools
    if tools.choice is not None:
        translated["tool_choice"] = tools.choice
    user = _end_user(request)
    if user is not None:
        translated["metadata"] = {"user_id": user}
    if stream:
        translated["stream"] = True
    context = ChatContext(
        requested_model=model,
        anthropic_model=str(translated["model"]),
        stream=stream,
        include_usage=stream and _include_usage(request),
    )
    return translated, context


def _refuse_unsupported(request: Mapping[str, object]) -> None:
    n = fields.optional_int(request, "n", "n")
    if n is not None and n != 1:
        raise fields.unsupported("n", "Claude writes one choice per request; send n = 1.")
    modalities = fields.optional_list(request, "modalities", "modalities") or []
    if any(modality != "text" for modality in modalities):
        raise fields.unsupported("modalities", "shunt answers with text only.")
    for name in ("audio", "web_search_options"):
        if request.get(name) is not None:
            raise fields.unsupported(name, "Claude's API has no equivalent shunt can translate.")


def _max_tokens(request: Mapping[str, object]) -> int | None:
    """The client's limit, capped; None when it sets none. max_completion_tokens wins."""
    for key in ("max_completion_tokens", "max_tokens"):
        value = fields.optional_int(request, key, key, minimum=1)
        if value is not None:
            return min(value, MAX_TOKENS_CAP)
    return None


def _thinking_budget(request: Mapping[str, object], max_tokens: int | None) -> int | None:
    effort = fields.optional_str(request, "reasoning_effort", "reasoning_effort")
    if effort is None or effort == "none":
        return None
    if effort not in THINKING_BUDGETS:
        names = ", ".join(repr(name) for name in ["none", *THINKING_BUDGETS])
        raise fields.invalid("reasoning_effort", f"{effort!r} is not one of {names}.")
    budget = THINKING_BUDGETS[effort]
    if max_tokens is not None:
        # OpenAI's limit counts reasoning tokens too; Anthropic's budget must stay below it.
        budget = min(budget, max_tokens - 1)
    return budget if budget >= MIN_THINKING_BUDGET else None


def _check_sampling(request: Mapping[str, object]) -> None:
    """temperature and top_p are checked as OpenAI checks them, then left out: the Messages API
    (as the anthropic SDK describes it) has no sampling parameters, and one it does not know
    would cost the whole request a 400."""
    for key, highest in (("temperature", 2.0), ("top_p", 1.0)):
        value = fields.optional_number(request, key, key)
        if value is not None and not 0 <= value <= highest:
            raise fields.invalid(key, f"it must be between 0 and {highest:g}.")


def _stop_sequences(request: Mapping[str, object]) -> list[str]:
    value = request.get("stop")
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list):
        raise fields.wrong_type("stop", "a string or an array of strings", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise fields.wrong_type(f"stop[{index}]", "a string", item)
    return [item for item in value if isinstance(item, str) and item]


def _response_format(request: Mapping[str, object]) -> str:
    """The instruction appended to `system` for JSON output ("" for none)."""
    response_format = fields.optional_object(request, "response_format", "response_format")
    if response_format is None:
        return ""
    kind = fields.required_str(response_format, "type", "response_format.type")
    if kind == "text":
        return ""
    if kind == "json_object":
        return json_instruction(None, param="response_format")
    if kind == "json_schema":
        param = "response_format.json_schema"
        spec = fields.as_object(response_format.get("json_schema"), param)
        schema = fields.optional_object(spec, "schema", f"{param}.schema")
        description = fields.optional_str(spec, "description", f"{param}.description")
        return json_instruction(schema or {}, description=description, param=f"{param}.schema")
    raise fields.invalid(
        "response_format.type", f"{kind!r} is not one of 'text', 'json_object', 'json_schema'."
    )


def _end_user(request: Mapping[str, object]) -> str | None:
    """OpenAI's end-user id (safety_identifier, or the older user) → metadata.user_id, the
    same idea in Anthropic's API; one too long for Anthropic is left out."""
    for key in ("safety_identifier", "user"):
        value = fields.optional_str(request, key, key)
        if value and len(value) <= MAX_METADATA_USER_ID:
            return value
    return None


def _include_usage(request: Mapping[str, object]) -> bool:
    options = fields.optional_object(request, "stream_options", "stream_options")
    if options is None:
        return False
    return fields.optional_bool(options, "include_usage", "stream_options.include_usage") or False
