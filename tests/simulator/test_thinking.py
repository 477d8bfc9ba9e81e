"""Extended thinking as the real API checks it: settings, signatures, blocks sent back (pure)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.simulator.thinking import (
    BAD_REDACTED,
    BAD_SIGNATURE,
    BUDGET_OVER_MAX_TOKENS,
    BUDGET_TOO_SMALL,
    FORCED_TOOL,
    INTERLEAVED_BETA,
    MISSING_THINKING,
    TEMPERATURE,
    THINKING_WHEN_DISABLED,
    Signer,
    Thinking,
    check_history,
    read_thinking,
)

SIGNER = Signer(b"k" * 32)
ON = Thinking("enabled", 1024)
NO_BETAS: frozenset[str] = frozenset()


def enabled(budget: Any = 1024, **body: Any) -> dict[str, Any]:
    return {"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": budget}} | body


def test_read_thinking_accepts_what_the_api_accepts() -> None:
    assert read_thinking({}, betas=NO_BETAS, forced_tool=True) == Thinking()
    assert not Thinking().on
    assert read_thinking(enabled(), betas=NO_BETAS, forced_tool=False) == ON
    assert read_thinking(enabled(temperature=1), betas=NO_BETAS, forced_tool=False).on
    disabled = {"thinking": {"type": "disabled"}}
    assert not read_thinking(disabled, betas=NO_BETAS, forced_tool=True).on
    # adaptive thinking has no budget and allows a forced tool choice
    adaptive = {"thinking": {"type": "adaptive"}, "max_tokens": 5}
    assert read_thinking(adaptive, betas=NO_BETAS, forced_tool=True) == Thinking("adaptive")
    # with interleaved thinking the budget may exceed max_tokens
    over = enabled(4096)
    betas = frozenset({INTERLEAVED_BETA})
    assert read_thinking(over, betas=betas, forced_tool=False).budget_tokens == 4096


@pytest.mark.parametrize(
    ("body", "forced", "message"),
    [
        (enabled(1023), False, BUDGET_TOO_SMALL),
        (enabled(None), False, "thinking.enabled.budget_tokens: Field required"),
        (enabled(True), False, "thinking.enabled.budget_tokens: Field required"),
        (enabled(2048), False, BUDGET_OVER_MAX_TOKENS),
        (enabled(temperature=0.5), False, TEMPERATURE),
        (enabled(), True, FORCED_TOOL),
        ({"thinking": {"type": "on"}}, False, "thinking.type"),
        ({"thinking": "enabled"}, False, "thinking.type"),
    ],
)
def test_read_thinking_refuses_what_the_api_refuses(
    body: dict[str, Any], forced: bool, message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        read_thinking(body, betas=NO_BETAS, forced_tool=forced)


@given(st.text(max_size=40), st.text(max_size=40))
def test_a_signature_verifies_its_own_text_only(text: str, other: str) -> None:
    signature = SIGNER.sign(text)
    assert SIGNER.verifies(text, signature)
    assert SIGNER.verifies(other, signature) == (other == text)
    assert not Signer(b"j" * 32).verifies(text, signature)  # another simulator's secret


@given(st.text(max_size=20), st.text(alphabet="ABCxyz019+/=", max_size=60))
def test_redacted_data_verifies_only_as_issued(name: str, forged: str) -> None:
    data = SIGNER.redacted_data(name)
    assert SIGNER.redacted_verifies(data)
    assert not Signer(b"j" * 32).redacted_verifies(data)
    assert not SIGNER.redacted_verifies(forged)
    assert not SIGNER.redacted_verifies(data[:-4] + ("AAAA" if data[-4:] != "AAAA" else "BBBB"))


def thinking_block(text: str = "Thinking about msg_1: I will call f.") -> dict[str, Any]:
    return {"type": "thinking", "thinking": text, "signature": SIGNER.sign(text)}


CALL = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}


def round_trip(*assistant: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "call f"},
        {"role": "assistant", "content": list(assistant)},
        {"role": "user", "content": [RESULT]},
    ]


def test_the_turn_under_way_must_start_with_its_thinking() -> None:
    assert check_history(round_trip(thinking_block(), CALL), ON, SIGNER) is None
    redacted = {"type": "redacted_thinking", "data": SIGNER.redacted_data("msg_1")}
    assert check_history(round_trip(redacted, CALL), ON, SIGNER) is None
    assert check_history(round_trip(CALL), ON, SIGNER) == MISSING_THINKING.format(
        n=1, found="tool_use"
    )
    text_first = {"type": "text", "text": "Calling f."}
    assert check_history(round_trip(text_first, thinking_block(), CALL), ON, SIGNER) == (
        MISSING_THINKING.format(n=1, found="text")
    )
    # thinking off: the same conversation needs no thinking at all
    assert check_history(round_trip(CALL), Thinking(), SIGNER) is None


def test_a_changed_thinking_or_signature_is_refused_where_it_is() -> None:
    changed = thinking_block() | {"thinking": "I changed my mind."}
    assert check_history(round_trip(changed, CALL), ON, SIGNER) == BAD_SIGNATURE.format(n=1, j=0)
    forged = thinking_block() | {"signature": SIGNER.sign("something else")}
    assert check_history(round_trip(forged, CALL), ON, SIGNER) == BAD_SIGNATURE.format(n=1, j=0)
    bad_redacted = {"type": "redacted_thinking", "data": "Zm9yZ2Vk"}
    got = check_history(round_trip(thinking_block(), bad_redacted, CALL), ON, SIGNER)
    assert got == BAD_REDACTED.format(n=1, j=1)
    unsigned = {"type": "thinking", "thinking": "t"}
    got = check_history(round_trip(unsigned, CALL), ON, SIGNER)
    assert got == "messages.1.content.0.thinking.signature: Field required"


def test_earlier_turns_may_leave_thinking_out_but_not_forge_it() -> None:
    earlier = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
        {"role": "user", "content": "call f"},
        {"role": "assistant", "content": [CALL]},
        {"role": "user", "content": [RESULT]},
        {"role": "assistant", "content": [{"type": "text", "text": "It said ok."}]},
    ]
    new_prompt = [*earlier, {"role": "user", "content": "thanks"}]
    assert check_history(new_prompt, ON, SIGNER) is None
    forged = {"type": "thinking", "thinking": "made up", "signature": "c2ln"}
    new_prompt[1] = {"role": "assistant", "content": [forged, {"type": "text", "text": "Hello"}]}
    assert check_history(new_prompt, ON, SIGNER) == BAD_SIGNATURE.format(n=1, j=0)


def test_results_with_text_start_a_new_turn_and_later_calls_of_a_turn_need_no_thinking() -> None:
    # A user message of results and text (Claude Code adds reminders) is a new prompt.
    with_text = round_trip(CALL)
    with_text[2] = {"role": "user", "content": [RESULT, {"type": "text", "text": "go on"}]}
    assert check_history(with_text, ON, SIGNER) is None
    # Two calls in one turn: only the turn's first assistant message starts with thinking.
    second = {"type": "tool_use", "id": "toolu_2", "name": "f", "input": {}}
    longer = [
        *round_trip(thinking_block(), CALL),
        {"role": "assistant", "content": [second]},
        {"role": "user", "content": [RESULT | {"tool_use_id": "toolu_2"}]},
    ]
    assert check_history(longer, ON, SIGNER) is None


def test_with_thinking_off_a_prefill_may_not_hold_thinking() -> None:
    prefill = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [thinking_block()]},
    ]
    assert check_history(prefill, Thinking(), SIGNER) == THINKING_WHEN_DISABLED.format(n=1, j=0)
    assert check_history(round_trip(thinking_block(), CALL), Thinking(), SIGNER) is None
    assert check_history([], Thinking(), SIGNER) is None
