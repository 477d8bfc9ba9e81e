"""Typed reads of a client's JSON, for both APIs' request translations. Each returns the value or
raises a 400 TranslationError that names the field (OpenAI's `param`, e.g. `input[3].call_id`)
and says what was expected, in OpenAI's wording, so no JSON input can end in a KeyError or a
TypeError. A JSON null counts as absent, as OpenAI's API treats it for every optional field.

JSON has one number type: an integer field takes `100.0` as 100 (JSON Schema's `integer` does
too), and refuses `1.5`, NaN and the infinities Python's JSON reader lets through."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, TypeAlias

from shunt.openai.errors import TranslationError

JsonObject: TypeAlias = dict[str, object]

_KINDS: Final = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def mapping_or_empty(value: object) -> Mapping[str, object]:
    """`value` if it is a JSON object, else an empty one (for reading answers leniently)."""
    return value if isinstance(value, Mapping) else {}


def kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def invalid(param: str, message: str, *, code: str = "invalid_value") -> TranslationError:
    return TranslationError(400, f"Invalid value for '{param}': {message}", param=param, code=code)


def wrong_type(param: str, expected: str, value: object) -> TranslationError:
    return TranslationError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {kind(value)} instead.",
        param=param,
        code="invalid_type",
    )


def missing(param: str) -> TranslationError:
    message = f"Missing required parameter: '{param}'."
    return TranslationError(400, message, param=param, code="missing_required_parameter")


def unsupported(param: str, message: str) -> TranslationError:
    message = f"'{param}' is not supported by shunt: {message}"
    return TranslationError(400, message, param=param, code="unsupported_parameter")


def as_object(value: object, param: str) -> JsonObject:
    if not isinstance(value, dict):
        raise wrong_type(param, "an object", value)
    return value


def optional_object(parent: Mapping[str, object], key: str, param: str) -> JsonObject | None:
    value = parent.get(key)
    return None if value is None else as_object(value, param)


def optional_str(parent: Mapping[str, object], key: str, param: str) -> str | None:
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    raise wrong_type(param, "a string", value)


def required_str(parent: Mapping[str, object], key: str, param: str) -> str:
    value = optional_str(parent, key, param)
    if value is None:
        raise missing(param)
    return value


def nonempty_str(parent: Mapping[str, object], key: str, param: str) -> str:
    """A required string that must say something: a name, an id."""
    value = required_str(parent, key, param)
    if not value:
        raise invalid(param, "it must not be empty.")
    return value


def optional_bool(parent: Mapping[str, object], key: str, param: str) -> bool | None:
    value = parent.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise wrong_type(param, "a boolean", value)


def optional_int(
    parent: Mapping[str, object], key: str, param: str, *, minimum: int | None = None
) -> int | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "an integer", value)
    if isinstance(value, float) and not value.is_integer():
        raise wrong_type(param, "an integer", value)
    if minimum is not None and value < minimum:
        raise invalid(param, f"it must be at least {minimum}.")
    return int(value)


def optional_number(parent: Mapping[str, object], key: str, param: str) -> float | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "a number", value)
    if not math.isfinite(value):
        raise invalid(param, "it must be a finite number.")
    return float(value)


def optional_list(parent: Mapping[str, object], key: str, param: str) -> list[object] | None:
    value = parent.get(key)
    if value is None or isinstance(value, list):
        return value
    raise wrong_type(param, "an array", value)
