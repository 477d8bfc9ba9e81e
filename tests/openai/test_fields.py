"""The typed reads both request translations share: any JSON gives the value or a 400 that names
the field, in OpenAI's wording; never another exception."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shunt.openai import fields
from shunt.openai.errors import TranslationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
# Each reader, and what a value it returns must be.
READERS: list[tuple[Callable[..., object], Callable[[object], bool]]] = [
    (fields.optional_str, lambda v: v is None or isinstance(v, str)),
    (fields.required_str, lambda v: isinstance(v, str)),
    (fields.nonempty_str, lambda v: isinstance(v, str) and v != ""),
    (fields.optional_bool, lambda v: v is None or isinstance(v, bool)),
    (fields.optional_int, lambda v: v is None or type(v) is int),
    (fields.optional_number, lambda v: v is None or (type(v) is float and math.isfinite(v))),
    (fields.optional_list, lambda v: v is None or isinstance(v, list)),
    (fields.optional_object, lambda v: v is None or isinstance(v, dict)),
]
CODES = {"invalid_type", "invalid_value", "missing_required_parameter"}


@settings(max_examples=150, deadline=None)
@given(value=json_values, present=st.booleans())
def test_any_json_reads_as_the_type_or_is_a_400_naming_the_field(
    value: object, present: bool
) -> None:
    parent = {"k": value} if present else {}
    for reader, is_valid in READERS:
        try:
            read = reader(parent, "k", "a.k")
        except TranslationError as error:
            refusal = error
        else:
            assert is_valid(read), (reader.__name__, value, read)
            continue
        assert (refusal.status, refusal.param) == (400, "a.k")
        assert refusal.code in CODES
        assert "'a.k'" in refusal.message


@pytest.mark.parametrize(("value", "expected"), [(100, 100), (100.0, 100), (-3, -3), (None, None)])
def test_an_integer_field_takes_any_json_number_that_is_an_integer(
    value: object, expected: int | None
) -> None:
    read = fields.optional_int({"n": value}, "n", "n")
    assert read == expected
    assert type(read) is type(expected)


@pytest.mark.parametrize("value", [1.5, math.inf, math.nan, True, "100"])
def test_an_integer_field_refuses_what_is_not_an_integer(value: object) -> None:
    with pytest.raises(TranslationError) as caught:
        fields.optional_int({"n": value}, "n", "n")
    assert caught.value.code == "invalid_type"
    assert caught.value.message.startswith("Invalid type for 'n': expected an integer, but got ")


def test_a_minimum_is_a_400_that_says_it() -> None:
    assert fields.optional_int({"n": 1}, "n", "n", minimum=1) == 1
    with pytest.raises(TranslationError) as caught:
        fields.optional_int({"n": 0}, "n", "n", minimum=1)
    assert (caught.value.code, caught.value.message) == (
        "invalid_value",
        "Invalid value for 'n': it must be at least 1.",
    )


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_number_field_refuses_what_json_cannot_say(value: float) -> None:
    with pytest.raises(TranslationError) as caught:
        fields.optional_number({"x": value}, "x", "x")
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize(
    ("read", "message", "code"),
    [
        (
            lambda: fields.required_str({}, "model", "model"),
            "Missing required parameter: 'model'.",
            "missing_required_parameter",
        ),
        (
            lambda: fields.required_str({"model": 4}, "model", "model"),
            "Invalid type for 'model': expected a string, but got an integer instead.",
            "invalid_type",
        ),
        (
            lambda: fields.nonempty_str({"name": ""}, "name", "tools[0].name"),
            "Invalid value for 'tools[0].name': it must not be empty.",
            "invalid_value",
        ),
    ],
)
def test_refusals_are_in_openais_wording(read: Callable[[], Any], message: str, code: str) -> None:
    with pytest.raises(TranslationError) as caught:
        read()
    assert (caught.value.message, caught.value.code) == (message, code)
