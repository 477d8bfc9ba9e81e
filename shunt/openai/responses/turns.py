"""The content blocks read from `input`, grouped into the alternating turns Anthropic takes.

Consecutive blocks of one role form one turn. In an assistant turn the thinking blocks go first
(Anthropic wants them before the tool_use blocks they led to); in a user turn the tool results
go first. The conversation begins and ends with a user turn (Claude would continue a final
assistant turn, not answer it). Every tool result must answer a call of the assistant turn just
before it, and every call must be answered in the user turn just after it: a request that
breaks this is refused here, naming the input item, rather than by Anthropic with a message
about its own shape."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from shunt.openai.fields import JsonObject, invalid
from shunt.openai.responses.input_items import Entry, Role

THINKING_TYPES = ("thinking", "redacted_thinking")


@attrs.frozen
class Turn:
    role: Role
    entries: tuple[Entry, ...]

    def of_type(self, *types: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.block["type"] in types]

    def message(self) -> JsonObject:
        return {"role": self.role, "content": [entry.block for entry in self.entries]}


@attrs.frozen
class Turns:
    turns: tuple[Turn, ...]
    notes: tuple[str, ...]

    def messages(self) -> list[JsonObject]:
        return [turn.message() for turn in self.turns]

    def last_call_lacks_thinking(self) -> bool:
        """The last assistant turn calls tools without its thinking blocks, which Anthropic
        refuses when thinking is on (the reasoning item was not sent back)."""
        assistant = [turn for turn in self.turns if turn.role == "assistant"]
        if not assistant or not assistant[-1].of_type("tool_use"):
            return False
        return assistant[-1].entries[0].block["type"] not in THINKING_TYPES


def assemble(entries: Sequence[Entry]) -> Turns:
    notes: list[str] = []
    turns = []
    for turn in _group(entries):
        if turn.role == "assistant" and len(turn.of_type(*THINKING_TYPES)) == len(turn.entries):
            items = sorted({entry.item for entry in turn.entries})
            notes.append(f"input{items}: reasoning with no message or call after it was dropped")
            continue
        turns.append(turn)
    ordered = tuple(_ordered(turn) for turn in _group([e for t in turns for e in t.entries]))
    if not ordered:
        raise invalid("input", "there is no user message to answer")
    if ordered[0].role != "user":
        raise invalid(
            f"input[{ordered[0].entries[0].item}]",
            "the conversation must begin with a user message (system and developer aside)",
        )
    if ordered[-1].role != "user":
        raise invalid(
            f"input[{ordered[-1].entries[-1].item}]",
            "the input must end with a user message or a tool output: Claude would take a "
            "final assistant message as the beginning of its own answer",
        )
    for index, turn in enumerate(ordered):
        if turn.role == "user":
            _check_results(turn, ordered[index - 1] if index else None)
        else:
            _check_calls(turn, ordered[index + 1] if index + 1 < len(ordered) else None)
    return Turns(ordered, tuple(notes))


def _group(entries: Sequence[Entry]) -> list[Turn]:
    turns: list[Turn] = []
    for entry in entries:
        if turns and turns[-1].role == entry.role:
            turns[-1] = Turn(entry.role, (*turns[-1].entries, entry))
        else:
            turns.append(Turn(entry.role, (entry,)))
    return turns


def _ordered(turn: Turn) -> Turn:
    first = THINKING_TYPES if turn.role == "assistant" else ("tool_result",)
    leading = [entry for entry in turn.entries if entry.block["type"] in first]
    rest = [entry for entry in turn.entries if entry.block["type"] not in first]
    return Turn(turn.role, (*leading, *rest))


def _check_results(turn: Turn, before: Turn | None) -> None:
    calls = {str(e.block["id"]) for e in before.of_type("tool_use")} if before else set()
    answered: set[str] = set()
    for entry in turn.of_type("tool_result"):
        call_id = str(entry.block["tool_use_id"])
        if call_id not in calls:
            raise invalid(
                f"input[{entry.item}].call_id",
                f"{call_id!r} answers no call of the assistant turn just before it",
            )
        if call_id in answered:
            raise invalid(f"input[{entry.item}].call_id", f"{call_id!r} is answered twice")
        answered.add(call_id)


def _check_calls(turn: Turn, after: Turn | None) -> None:
    answers = (
        {str(e.block["tool_use_id"]) for e in after.of_type("tool_result")} if after else set()
    )
    seen: set[str] = set()
    for entry in turn.of_type("tool_use"):
        call_id = str(entry.block["id"])
        if call_id in seen:
            raise invalid(f"input[{entry.item}].call_id", f"{call_id!r} is used by two calls")
        seen.add(call_id)
        if call_id not in answers:
            raise invalid(
                f"input[{entry.item}]",
                f"the call {call_id!r} has no output in the items after it; send its "
                "function_call_output (or custom_tool_call_output) next",
            )
