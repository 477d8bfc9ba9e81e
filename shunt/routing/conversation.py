"""Conversation keys (SPEC §4): which requests belong to one conversation, for sticky routing.

A conversation stays on one account so its prompt cache keeps paying off. The best key is the
session id the client sends; without one, a fingerprint of what stays put across a
conversation's turns: the system text, the first user message's text and the tool names.
Only text counts, so the `cache_control` markers a client moves between turns (and any other
block fields) never change the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Final

SESSION_HEADER: Final = b"x-claude-code-session-id"
# Claude Code's older metadata.user_id: "user_<hash>_account_<uuid>_session_<uuid>".
_LEGACY_SESSION: Final = re.compile(r"_session_([0-9A-Za-z-]+)\Z")
# Longer client-sent ids are hashed so a sticky-table entry stays small.
MAX_SESSION_ID_CHARS: Final = 128


def conversation_key(
    headers: Sequence[tuple[bytes, bytes]], body: Mapping[str, object] | None
) -> str | None:
    """The session id when the client sends one, else a sha256 hex fingerprint of the prompt.

    `headers` are (lowercased name, value) pairs; `body` is the parsed JSON request, None when
    it could not be parsed. Returns None when there is nothing to key on: no session and no
    body, or a body with no system text, no first user text and no tools (such requests
    would otherwise all share one key and pile onto one account).
    Malformed bodies never raise: fields of the wrong type count as absent.
    """
    session = _header_session(headers)
    if session is None and body is not None:
        session = _metadata_session(body)
    if session is not None:
        return _bounded(session)
    if body is None:
        return None
    return _prompt_fingerprint(body)


def needs_body(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether `conversation_key` needs the parsed body: only when no session header came.

    Claude Code sends one with every request, so its bodies (often hundreds of KB, a
    millisecond or more of json.loads each) are never parsed by the front door."""
    return _header_session(headers) is None


_MODEL: Final = re.compile(rb'"model"\s*:\s*"([^"\\]{1,200})"')


def model_of(raw: bytes) -> str:
    """The request's model for the log, read without parsing the body: the first `"model":
    "<string>"` in the raw JSON. Inside JSON strings quotes are escaped, so a match is always
    a real key; the Messages API's top-level key comes first in every SDK's serialization.
    "" when there is none (or it has escapes)."""
    match = _MODEL.search(raw)
    return match.group(1).decode("utf-8", "replace") if match else ""


def _header_session(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == SESSION_HEADER:
            session = value.decode("latin-1").strip()
            if session:
                return session
    return None


def _metadata_session(body: Mapping[str, object]) -> str | None:
    """The session inside metadata.user_id: a JSON object's session_id or the legacy suffix."""
    metadata = body.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    user_id = metadata.get("user_id")
    if not isinstance(user_id, str):
        return None
    if user_id.lstrip().startswith("{"):
        return _json_session(user_id)
    match = _LEGACY_SESSION.search(user_id)
    return match.group(1) if match else None


def _json_session(user_id: str) -> str | None:
    try:
        parsed = json.loads(user_id)
    except (ValueError, RecursionError):  # not JSON after all, or absurdly deep nesting
        return None
    if not isinstance(parsed, dict):
        return None
    session = parsed.get("session_id")
    if isinstance(session, str) and session.strip():
        return session.strip()
    return None


def _bounded(session: str) -> str:
    if len(session) <= MAX_SESSION_ID_CHARS:
        return session
    return hashlib.sha256(session.encode("utf-8", "surrogatepass")).hexdigest()


def _prompt_fingerprint(body: Mapping[str, object]) -> str | None:
    system = _texts(body.get("system"))
    first_user = _texts(_first_user_content(body.get("messages")))
    tools = sorted(_tool_names(body.get("tools")))
    if not (system or first_user or tools):
        return None
    canonical = json.dumps(
        {"system": system, "first_user": first_user, "tools": tools},
        ensure_ascii=True,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _texts(content: object) -> list[str]:
    """The text of a string, or of the text blocks of a block list; nothing else counts.

    A plain string and a single text block holding the same string give the same result.
    """
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [
        block["text"]
        for block in content
        if isinstance(block, Mapping)
        and block.get("type", "text") == "text"
        and isinstance(block.get("text"), str)
    ]


def _first_user_content(messages: object) -> object:
    if not isinstance(messages, list):
        return None
    for message in messages:
        if isinstance(message, Mapping) and message.get("role") == "user":
            return message.get("content")
    return None


def _tool_names(tools: object) -> list[str]:
    if not isinstance(tools, list):
        return []
    return [
        tool["name"]
        for tool in tools
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str)
    ]
