"""Typed reads of a request's JSON fields. Every wrong type or missing field becomes a 400
TranslationError that names the field (OpenAI's `param`, e.g. `input[3].call_id`), so no JSON
input can end in a KeyError or TypeError."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeAlias

from shunt.openai.errors import TranslationError

JsonObject: TypeAlias = dict[str, object]


def invalid(param: str, message: str, *, code: str = "invalid_value") -> TranslationError:
    return TranslationError(400, f"{param}: {message}", param=param, code=code)


def unsupported(param: str, message: str) -> TranslationError:
    return TranslationError(400, f"{param}: {message}", param=param, code="unsupported_parameter")


def _missing(param: str) -> TranslationError:
    return TranslationError(
        400, f"{param} is required", param=param, code="missing_required_parameter"
    )


def _wrong_type(param: str, expected: str, value: object) -> TranslationError:
    return TranslationError(
        400,
        f"{param} must be {expected}, not {_json_type(value)}",
        param=param,
        code="invalid_type",
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def as_object(value: object, param: str) -> JsonObject:
    if not isinstance(value, dict):
        raise _wrong_type(param, "an object", value)
    return value


def required_str(obj: Mapping[str, object], key: str, param: str) -> str:
    value = obj.get(key)
    if value is None:
        raise _missing(param)
    if not isinstance(value, str):
        raise _wrong_type(param, "a string", value)
    return value


def optional_str(obj: Mapping[str, object], key: str, param: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _wrong_type(param, "a string", value)


def optional_bool(obj: Mapping[str, object], key: str, param: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _wrong_type(param, "a boolean", value)


def optional_int(obj: Mapping[str, object], key: str, param: str, *, minimum: int) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(param, "an integer", value)
    if isinstance(value, float) and not value.is_integer():
        raise _wrong_type(param, "an integer", value)
    if value < minimum:
        raise invalid(param, f"must be at least {minimum}")
    return int(value)


def optional_number(obj: Mapping[str, object], key: str, param: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(param, "a number", value)
    if not math.isfinite(value):
        raise invalid(param, "must be a finite number")
    return float(value)


def optional_object(obj: Mapping[str, object], key: str, param: str) -> JsonObject | None:
    value = obj.get(key)
    return None if value is None else as_object(value, param)


def optional_list(obj: Mapping[str, object], key: str, param: str) -> list[object] | None:
    value = obj.get(key)
    if value is None or isinstance(value, list):
        return value
    raise _wrong_type(param, "an array", value)
