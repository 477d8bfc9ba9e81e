"""A control request's body read as one JSON object (PURE), for both control APIs.

The front door's (/reload, /credentials, /use) and the simulator's (/_sim/*) take an optional
JSON object and answer anything else with a 400 naming the problem.
"""

from __future__ import annotations

import json

from shunt.errors import ShuntError


class NotAJSONObject(ShuntError, ValueError):
    """The body is not JSON, or JSON of another kind. Both bases, because the front door's
    control API answers a ShuntError with a 400 and the simulator's answers a ValueError."""


def json_object(body: bytes, *, what: str, not_json: str = "is not JSON") -> dict[str, object]:
    """`body` as a JSON object; an empty body is `{}` (a control POST may have none).
    NotAJSONObject says "{what} {not_json}" or "{what} must be a JSON object"."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise NotAJSONObject(f"{what} {not_json}") from None
    if not isinstance(payload, dict):
        raise NotAJSONObject(f"{what} must be a JSON object")
    return payload
