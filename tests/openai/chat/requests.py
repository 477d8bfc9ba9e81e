"""Translating a chat request in the tests: the translation checked against the anthropic SDK's
types and the API's rules, or the 400 it refuses with."""

from __future__ import annotations

from typing import Any

import pytest

from shunt.openai.chat import translate_request
from shunt.openai.errors import TranslationError
from shunt.openai.models import ModelMap

from .anthropic_checks import check_anthropic_request

HELLO = [{"role": "user", "content": "hello"}]
TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}


def translate(**body: Any) -> dict[str, Any]:
    body.setdefault("model", "gpt-4o")
    body.setdefault("messages", HELLO)
    translated, _ = translate_request(body, model_map=ModelMap())
    check_anthropic_request(translated)
    return translated


def refused(body: object) -> TranslationError:
    if isinstance(body, dict):
        body.setdefault("model", "gpt-4o")
        body.setdefault("messages", HELLO)
    with pytest.raises(TranslationError) as caught:
        translate_request(body, model_map=ModelMap())
    assert caught.value.status == 400
    return caught.value


def call(call_id: str, arguments: str = "{}", name: str = "weather") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
