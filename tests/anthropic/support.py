"""Anthropic answers for tests: unified rate-limit headers and error bodies."""

from __future__ import annotations

import json


def h(**fields: str) -> list[tuple[bytes, bytes]]:
    """Unified headers (five_h_status -> 5h-status), plus retry_after -> retry-after."""
    out = []
    for key, value in fields.items():
        name = key.replace("_", "-").replace("seven-d-oi-", "7d_oi-")
        name = name.replace("seven-d-", "7d-").replace("five-h-", "5h-")
        prefix = "" if name == "retry-after" else "anthropic-ratelimit-unified-"
        out.append(((prefix + name).encode(), value.encode()))
    return out


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()
