"""The Responses API (`POST /v1/responses`, what Codex CLI speaks) over Anthropic Messages,
pure and sans-IO. What the OpenAI listener calls:

- `translate_request(body, *, resolve_model) -> (anthropic_body, context)`: the client's JSON
  as an Anthropic request; raises TranslationError (400, naming the field) for anything shunt
  cannot translate, and nothing else. `context.conversation_key` is the client's
  `prompt_cache_key` (stickiness); `context.notes` are lines for the log (tools dropped…).
- `translate_answer(message, context, *, created_at, ids) -> response`: a whole Anthropic answer
  as a Response object.
- `ResponsesStream(context, created_at=…, ids=…)`: `feed(events) -> bytes` with the (name, data)
  events of shunt.openai.events.AnthropicEventReader, then `finish(error=None) -> bytes`,
  always, to end the stream properly whatever happened.
- `error_answer(status, body, retry_after_s=None) -> (status, body)`: an Anthropic error
  answer in OpenAI's shape; `websocket_refusal() -> (status, headers, body)`.

`ids(prefix)` makes fresh ids from the whole prefix ("resp_", "msg_", "rs_", "fc_", "ctc_",
"lsh_"; shunt.openai.ids); `created_at` is epoch seconds. docs/openai.md ("Responses API") says
what is translated and what is refused."""

from shunt.openai.ids import IdSource as IdSource
from shunt.openai.ids import SequentialIds as SequentialIds
from shunt.openai.responses.answer import translate_answer as translate_answer
from shunt.openai.responses.context import ResponsesContext as ResponsesContext
from shunt.openai.responses.context import ToolKind as ToolKind
from shunt.openai.responses.request import translate_request as translate_request
from shunt.openai.responses.stream import ResponsesStream as ResponsesStream
from shunt.openai.responses.upstream_errors import error_answer as error_answer
from shunt.openai.responses.upstream_errors import websocket_refusal as websocket_refusal
