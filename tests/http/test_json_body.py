"""The control APIs' body check: one JSON object, or an error both APIs answer with a 400."""

from __future__ import annotations

import pytest

from shunt.errors import ShuntError
from shunt.http.json_body import NotAJSONObject, json_object


def test_an_object_is_returned_and_an_empty_body_is_an_empty_object() -> None:
    assert json_object(b'{"name": "a"}', what="the body") == {"name": "a"}
    assert json_object(b"", what="the body") == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "the body is not JSON"),
        (b"\xff", "the body is not JSON"),
        (b"[1]", "the body must be a JSON object"),
        (b'"text"', "the body must be a JSON object"),
    ],
)
def test_anything_else_is_an_error_saying_which(body: bytes, message: str) -> None:
    with pytest.raises(NotAJSONObject) as caught:
        json_object(body, what="the body")
    assert str(caught.value) == message
    assert isinstance(caught.value, ShuntError)  # the front door's control API: a 400
    assert isinstance(caught.value, ValueError)  # the simulator's: a 400 too


def test_the_not_json_wording_is_the_callers() -> None:
    with pytest.raises(NotAJSONObject) as caught:
        json_object(b"{", what="the request body", not_json="must be JSON")
    assert str(caught.value) == "the request body must be JSON"
