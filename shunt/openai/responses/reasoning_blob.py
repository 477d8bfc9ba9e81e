"""The `encrypted_content` of a reasoning item: how an Anthropic assistant turn's thinking
blocks travel through a client that keeps no server state (`store: false`, as Codex sends).

Anthropic needs an assistant turn's thinking blocks back, signatures and all, unchanged, before
its tool results. A Responses client gives back only what it was given, so each reasoning item
carries its blocks in `encrypted_content`, and the next request restores them verbatim.

The blob is opaque to the client but not encrypted (the thinking text is in the item's summary
anyway): `shunt-thinking-v1.` + base64url (no padding) of `{"v": 1, "blocks": [...]}`, each
block `{"type": "thinking", "thinking", "signature"}` or `{"type": "redacted_thinking", "data"}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Final

from shunt.openai.fields import JsonObject

PREFIX: Final = "shunt-thinking-v1."
VERSION: Final = 1
# The fields of each block type, all strings: exactly these, nothing more or less.
BLOCK_FIELDS: Final = {
    "thinking": frozenset({"thinking", "signature"}),
    "redacted_thinking": frozenset({"data"}),
}


class BlobError(ValueError):
    """A blob that does not decode to thinking blocks (its message says why)."""


def encode(blocks: Sequence[JsonObject]) -> str:
    """The blob for an assistant turn's thinking blocks, each already a well-formed block."""
    payload = {"v": VERSION, "blocks": [_checked(block) for block in blocks]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(blob: str) -> list[JsonObject]:
    """The thinking blocks a blob carries, equal in content to those `encode` was given."""
    if not blob.startswith(PREFIX):
        raise BlobError("it was not made by shunt (a reasoning item from another provider?)")
    body = blob[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise BlobError("it does not decode (base64url of JSON)") from exc
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise BlobError(f"it is not version {VERSION} of shunt's thinking blob")
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise BlobError("it holds no thinking blocks")
    return [_checked(block) for block in blocks]


def _checked(block: object) -> JsonObject:
    if not isinstance(block, dict):
        raise BlobError("a thinking block is not an object")
    kind = block.get("type")
    fields = BLOCK_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise BlobError(f"a block of type {kind!r} is not a thinking block")
    if set(block) - {"type"} != fields or not all(isinstance(block[f], str) for f in fields):
        raise BlobError(f"a {kind} block must have exactly the string fields {sorted(fields)}")
    return {"type": kind, **{field: block[field] for field in sorted(fields)}}
