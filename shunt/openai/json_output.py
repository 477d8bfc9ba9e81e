"""A JSON output format (chat's `response_format`, the Responses API's `text.format`) as the
instruction shunt appends to the system prompt: Anthropic's Messages API has no such field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from shunt.openai.fields import invalid

JSON_OBJECT_INSTRUCTION: Final = (
    "Respond with one JSON object and nothing else: no prose and no Markdown code fence."
)
JSON_SCHEMA_INSTRUCTION: Final = (
    JSON_OBJECT_INSTRUCTION + " The object must be valid against this JSON Schema:\n"
)
DESCRIPTION_INTRO: Final = "\nWhat the object is for: "


def json_instruction(
    schema: Mapping[str, object] | None, *, description: str | None = None, param: str
) -> str:
    """Any JSON object (`schema` None), or one valid against `schema`, which `param` names. The
    format's description is meant for the model (OpenAI's words), so it follows the schema."""
    if schema is None:
        return JSON_OBJECT_INSTRUCTION
    try:
        schema_text = json.dumps(schema, ensure_ascii=False)
    except (ValueError, RecursionError):
        raise invalid(param, "it cannot be written as JSON.") from None
    about = DESCRIPTION_INTRO + description if description else ""
    return JSON_SCHEMA_INSTRUCTION + schema_text + about
