"""Typed reads of a client's JSON: each returns the value or raises a 400 TranslationError that
names the field (`param`) and says what was expected, in OpenAI's wording. A JSON null counts as
absent, as OpenAI's API treats it for every optional field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shunt.openai.errors import TranslationError

_KINDS: Final = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def invalid(param: str, message: str) -> TranslationError:
    return TranslationError(400, f"Invalid value for '{param}': {message}", param=param)


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


def obj(value: object, param: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise wrong_type(param, "an object", value)
    return value


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


def optional_bool(parent: Mapping[str, object], key: str, param: str) -> bool | None:
    value = parent.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise wrong_type(param, "a boolean", value)


def optional_int(parent: Mapping[str, object], key: str, param: str) -> int | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(param, "an integer", value)
    return value


def optional_number(parent: Mapping[str, object], key: str, param: str) -> float | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(param, "a number", value)
    return float(value)


def optional_list(parent: Mapping[str, object], key: str, param: str) -> list[object] | None:
    value = parent.get(key)
    if value is None or isinstance(value, list):
        return value
    raise wrong_type(param, "an array", value)


def optional_obj(parent: Mapping[str, object], key: str, param: str) -> Mapping[str, object] | None:
    value = parent.get(key)
    return None if value is None else obj(value, param)
