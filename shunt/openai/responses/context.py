"""What the request translation learned that the answer's translation needs: the model the
client asked for, how each tool is to be given back, the settings a Response object echoes,
and notes for the listener's log (tools dropped, thinking turned off)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs


class ToolKind(enum.Enum):
    """How a tool the model calls is given back to the client."""

    FUNCTION = "function"  # function_call{call_id, name, arguments: JSON text}
    CUSTOM = "custom"  # custom_tool_call{call_id, name, input: the raw string}
    LOCAL_SHELL = "local_shell"  # local_shell_call{call_id, action: {type: exec, …}}


@attrs.frozen
class ResponsesContext:
    requested_model: str
    anthropic_model: str
    stream: bool
    tool_kinds: Mapping[str, ToolKind] = attrs.field(factory=dict)
    # The Response object's echo of the request: tools, tool_choice and friends, already in
    # the shapes the OpenAI SDK accepts.
    echo: Mapping[str, object] = attrs.field(factory=dict)
    # The client's conversation key (`prompt_cache_key`), for the router's stickiness.
    conversation_key: str | None = None
    notes: tuple[str, ...] = ()

    def kind_of(self, tool_name: str) -> ToolKind:
        """A tool the request did not offer is given back as a function call."""
        return self.tool_kinds.get(tool_name, ToolKind.FUNCTION)
