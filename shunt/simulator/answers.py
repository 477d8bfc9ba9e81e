"""The answer to a request that brings tools, thinking or tool results: which content blocks it
holds (tool_calls.py decides the calls, thinking.py the thinking), cut to max_tokens and
signed, and the checks such a request must pass first.

Pure. A request with none of these gets the plain reply (`responses.plan_reply`), whose events
are encoded once at import for the benchmark; a text-only answer built here streams the very
same bytes, so a client cannot tell the two apart.

Thinking comes first in an answer, then, for a call, a short text (not when tool_choice forces
the call: the real API then sends the call alone) and the tool_use blocks. An answer that
continues a turn (its last user message holds only tool results) thinks again only with the
`interleaved-thinking-2025-05-14` beta: without it the real model thinks once per turn.

A request's `stop_sequences` cut the text of either answer where the real model would have
stopped (stop_sequences.py); an answer none of them meets is the same as without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from shunt.simulator import responses
from shunt.simulator.blocks import (
    Block,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    fit,
    split_words,
    tokens,
)
from shunt.simulator.stop_sequences import (
    STOP_SEQUENCE,
    read_stop_sequences,
    stop_in_blocks,
    stop_in_reply,
)
from shunt.simulator.thinking import (
    INTERLEAVED_BETA,
    Signer,
    Thinking,
    check_history,
    read_thinking,
    thinking_text,
)
from shunt.simulator.tool_calls import (
    Tool,
    ToolChoice,
    calls_to_make,
    example_input,
    last_user_content,
    quote_results,
    read_tools,
    tool_results,
)

TOOL_USE: Final = "tool_use"


@attrs.frozen
class Checked:
    """What a request asked for, once it passed the checks."""

    tools: tuple[Tool, ...]
    choice: ToolChoice
    thinking: Thinking
    betas: frozenset[str]
    stop_sequences: tuple[str, ...] = ()


def read_betas(header: bytes) -> frozenset[str]:
    return frozenset(b.strip() for b in header.decode("latin-1").split(","))


def check(body: Mapping[str, Any], *, betas: frozenset[str], signer: Signer) -> Checked:
    """ValueError with the message of the 400 the real API would give."""
    tools, choice = read_tools(body)
    thinking = read_thinking(body, betas=betas, forced_tool=choice.forced)
    problem = check_history(body["messages"], thinking, signer)
    if problem is not None:
        raise ValueError(problem)
    return Checked(tools, choice, thinking, betas, read_stop_sequences(body))


def needs_blocks(body: Mapping[str, Any], checked: Checked) -> bool:
    """False: the plain reply answers it."""
    return (
        bool(checked.tools)
        or checked.thinking.on
        or bool(tool_results(last_user_content(body["messages"])))
    )


def tool_use_id(message_id: str, index: int) -> str:
    """`toolu_` + the message's own suffix + the call's index: unique per answer."""
    return f"toolu_{message_id.removeprefix('msg_')}{index:02d}"


def compose(
    body: Mapping[str, Any],
    checked: Checked,
    *,
    message_id: str,
    events: int,
    max_tokens: int,
    signer: Signer,
    redacted: bool = False,
) -> tuple[tuple[Block, ...], str]:
    """The answer's blocks, cut to `max_tokens` and signed, and its stop reason."""
    content = last_user_content(body["messages"])
    results = tool_results(content)
    calls = calls_to_make(checked.tools, checked.choice, content)
    blocks: tuple[Block, ...]
    if calls:
        names = " and ".join(tool.name for tool in calls)
        plan, stop_reason = f"I will call {names}.", TOOL_USE
        lead = () if checked.choice.forced else (TextBlock(split_words(f"Calling {names}.")),)
        blocks = lead + tuple(
            ToolUseBlock(tool_use_id(message_id, i), tool.name, example_input(tool.schema))
            for i, tool in enumerate(calls)
        )
    elif results:
        plan, stop_reason = "the tool results are in; I will quote them.", responses.END_TURN
        blocks = (TextBlock(split_words(quote_results(results))),)
    else:
        plan, stop_reason = "a plain answer will do.", responses.END_TURN
        words = responses.WORDS
        blocks = (TextBlock(tuple(words[i % len(words)] for i in range(events))),)
    continuing = bool(content) and len(results) == len(content)
    if checked.thinking.on and (not continuing or INTERLEAVED_BETA in checked.betas):
        thought: tuple[Block, ...] = (ThinkingBlock(split_words(thinking_text(message_id, plan))),)
        if redacted:
            thought += (RedactedThinkingBlock(signer.redacted_data(message_id)),)
        blocks = thought + blocks
    kept, cut = fit(blocks, max_tokens)
    signed = tuple(
        attrs.evolve(b, signature=signer.sign(b.thinking)) if isinstance(b, ThinkingBlock) else b
        for b in kept
    )
    return signed, responses.MAX_TOKENS if cut else stop_reason


def plan_answer(
    body: Mapping[str, Any],
    checked: Checked,
    *,
    message_id: str,
    events: int,
    signer: Signer,
    redacted: bool,
    input_tokens: int,
    output_tokens: int | None,
    cache_read_tokens: int,
    cache_creation_tokens: int,
) -> responses.Reply:
    """The reply to a request that passed `check`: the plain one, or one of content blocks."""
    common: dict[str, Any] = {
        "message_id": message_id,
        "model": body["model"],
        "max_tokens": body["max_tokens"],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_creation_tokens": cache_creation_tokens,
    }
    blocks: tuple[Block, ...]
    sequence: str | None
    if not needs_blocks(body, checked):
        # max_tokens cuts first: a sequence the cut answer does not hold was never generated
        stopped = stop_in_reply(min(events, body["max_tokens"]), checked.stop_sequences)
        if stopped is None:
            return responses.plan_reply(events=events, **common)
        pieces, sequence = stopped
        blocks, stop_reason = (TextBlock(pieces),), STOP_SEQUENCE
    else:
        blocks, stop_reason = compose(
            body,
            checked,
            message_id=message_id,
            events=events,
            max_tokens=body["max_tokens"],
            signer=signer,
            redacted=redacted,
        )
        blocks, sequence = stop_in_blocks(blocks, checked.stop_sequences)
        if sequence is not None:
            stop_reason = STOP_SEQUENCE
    natural = sum(tokens(block) for block in blocks)
    return responses.plan_block_reply(
        blocks=blocks,
        stop_reason=stop_reason,
        natural_tokens=natural,
        stop_sequence=sequence,
        **common,
    )
