"""Extended thinking as the real API checks it (docs/simulator.md, "Thinking"): the request's
`thinking` settings, the thinking blocks a conversation sends back, and their signatures.

The rules and the error messages are the real API's, as its documentation and public reports
give them (a copy kept here on purpose, see docs/architecture.md):

- `thinking` {"type": "enabled", "budget_tokens": N}: N >= 1024 and N < max_tokens (the
  `interleaved-thinking-2025-05-14` beta lifts the second rule); `temperature`, when sent, must
  be 1; a `tool_choice` that forces tool use is refused. {"type": "adaptive"} turns thinking on
  with none of these rules; {"type": "disabled"} (or no `thinking`) leaves it off.
- With thinking on, the assistant turn under way (the assistant messages after the last user
  message that is not made only of tool results) must start with its `thinking` or
  `redacted_thinking` block; earlier turns may leave theirs out. Every thinking block sent back
  must be the one the simulator sent: its text and signature verify, a redacted block's data
  verifies.
- With thinking off, a final assistant message (a prefill) may not hold thinking blocks; thinking
  blocks of earlier turns are ignored, as the API strips them.

A signature is HMAC-SHA256 of the thinking text under the simulator's secret, base64: a client
that changes a thinking text, or makes one up, is caught as the real API would catch it.

Pure: the secret is given (app.py draws it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

DISABLED: Final = "disabled"
ENABLED: Final = "enabled"
ADAPTIVE: Final = "adaptive"
INTERLEAVED_BETA: Final = "interleaved-thinking-2025-05-14"
MIN_BUDGET_TOKENS: Final = 1024
THINKING_TYPES: Final = ("thinking", "redacted_thinking")
_DOCS: Final = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
_MAC_BYTES: Final = hashlib.sha256().digest_size
_THINKING_TAG: Final = b"thinking\0"
_REDACTED_TAG: Final = b"redacted\0"

BUDGET_TOO_SMALL: Final = (
    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
)
BUDGET_OVER_MAX_TOKENS: Final = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
    f"documentation at {_DOCS}#max-tokens-and-context-window-size"
)
TEMPERATURE: Final = (
    "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
    f"documentation at {_DOCS}#important-considerations-when-using-extended-thinking"
)
FORCED_TOOL: Final = "Thinking may not be enabled when tool_choice forces tool use."
MISSING_THINKING: Final = (
    "messages.{n}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
    "`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
    "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
    "recommend you include thinking blocks from previous turns. To avoid this requirement, "
    f"disable `thinking`. Please consult our documentation at {_DOCS}"
)
BAD_SIGNATURE: Final = "messages.{n}.content.{j}: Invalid `signature` in `thinking` block"
BAD_REDACTED: Final = "messages.{n}.content.{j}: Invalid `data` in `redacted_thinking` block"
THINKING_WHEN_DISABLED: Final = (
    "messages.{n}.content.{j}: When thinking is disabled, an `assistant` message in the final "
    "position cannot contain `thinking`. To use thinking blocks, enable `thinking` in your "
    "request."
)


@attrs.frozen
class Thinking:
    mode: str = DISABLED
    budget_tokens: int | None = None

    @property
    def on(self) -> bool:
        return self.mode != DISABLED


def read_thinking(body: Mapping[str, Any], *, betas: frozenset[str], forced_tool: bool) -> Thinking:
    """The request's thinking settings; ValueError with the real API's message."""
    raw = body.get("thinking")
    if raw is None:
        return Thinking()
    mode = raw.get("type") if isinstance(raw, dict) else None
    if mode not in (ENABLED, DISABLED, ADAPTIVE):
        raise ValueError("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'")
    if mode != ENABLED:
        return Thinking(mode)
    budget = raw.get("budget_tokens")
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise ValueError("thinking.enabled.budget_tokens: Field required")
    if budget < MIN_BUDGET_TOKENS:
        raise ValueError(BUDGET_TOO_SMALL)
    if body.get("max_tokens", 0) <= budget and INTERLEAVED_BETA not in betas:
        raise ValueError(BUDGET_OVER_MAX_TOKENS)
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        raise ValueError(TEMPERATURE)
    if forced_tool:
        raise ValueError(FORCED_TOOL)
    return Thinking(mode, budget)


class Signer:
    """Signs the thinking the simulator sends and checks what comes back."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "<Signer>"  # never the secret

    def _mac(self, message: bytes) -> bytes:
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def sign(self, thinking: str) -> str:
        return base64.b64encode(self._mac(_THINKING_TAG + thinking.encode())).decode()

    def verifies(self, thinking: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(thinking), signature)

    def redacted_data(self, name: str) -> str:
        """Opaque data for a redacted_thinking block, which only this signer verifies."""
        payload = _REDACTED_TAG + name.encode()
        return base64.b64encode(payload + self._mac(payload)).decode()

    def redacted_verifies(self, data: str) -> bool:
        try:
            raw = base64.b64decode(data.encode(), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return False
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        return payload.startswith(_REDACTED_TAG) and hmac.compare_digest(self._mac(payload), mac)


def thinking_text(message_id: str, plan: str) -> str:
    """What the simulator 'thinks': names the message, so every thinking text is its own."""
    return f"Thinking about {message_id}: {plan}"


def check_history(messages: Sequence[Any], thinking: Thinking, signer: Signer) -> str | None:
    """The first problem the real API would report about the thinking blocks sent back."""
    if not thinking.on:
        return _thinking_in_final_position(messages)
    for n, j, block in _thinking_blocks(messages):
        fields = ("thinking", "signature") if block["type"] == "thinking" else ("data",)
        for field in fields:
            if not isinstance(block.get(field), str):
                return f"messages.{n}.content.{j}.{block['type']}.{field}: Field required"
    start = _turn_under_way(messages)
    if start is not None:
        found = _first_block_type(messages[start].get("content"))
        if found not in THINKING_TYPES:
            return MISSING_THINKING.format(n=start, found=found)
    for n, j, block in _thinking_blocks(messages):
        if block["type"] == "thinking":
            if not signer.verifies(block["thinking"], block["signature"]):
                return BAD_SIGNATURE.format(n=n, j=j)
        elif not signer.redacted_verifies(block["data"]):
            return BAD_REDACTED.format(n=n, j=j)
    return None


def _thinking_blocks(messages: Sequence[Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(message index, block index, block) of every thinking block of an assistant message."""
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        for j, block in enumerate(content if isinstance(content, list) else ()):
            if isinstance(block, dict) and block.get("type") in THINKING_TYPES:
                yield n, j, block


def _turn_under_way(messages: Sequence[Any]) -> int | None:
    """The first assistant message after the last user message that is not only tool
    results: the start of the assistant turn the request continues, if there is one."""
    last_prompt = -1
    for n, message in enumerate(messages):
        is_user = isinstance(message, dict) and message.get("role") == "user"
        if is_user and not _only_tool_results(message.get("content")):
            last_prompt = n
    for n in range(last_prompt + 1, len(messages)):
        message = messages[n]
        if isinstance(message, dict) and message.get("role") == "assistant":
            return n
    return None


def _only_tool_results(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    )


def _first_block_type(content: Any) -> str:
    if isinstance(content, str):
        return "text"
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("type"))
    return "nothing"


def _thinking_in_final_position(messages: Sequence[Any]) -> str | None:
    if not messages:
        return None
    n = len(messages) - 1
    for m, j, _block in _thinking_blocks(messages[n:]):
        assert m == 0
        return THINKING_WHEN_DISABLED.format(n=n, j=j)
    return None
