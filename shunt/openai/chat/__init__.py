"""Chat Completions ↔ Anthropic Messages, pure (no I/O, no clock: `created` and ids come in).

What the OpenAI listener calls, in a request's order:

    anthropic_body, context = translate_request(body, model_map=model_map)
        # TranslationError (400, OpenAI's shape) for what cannot be translated
    # not streaming: the upstream's whole answer
    openai_json = chat_completion(anthropic_message, context, created=now, ids=ids)
    # streaming: feed the AnthropicEventReader's events as they come, then always finish
    stream = ChatStream.open(context, created=now, ids=ids)
    client_bytes = stream.feed(events)
    client_bytes = stream.finish(None or "why the upstream stopped")
    # an upstream error answer (any status but 200)
    status, body = translate_upstream_error(status, anthropic_error_body, retry_after_s=None)

`ids` is called with the whole prefix ("chatcmpl-") and returns a new id that starts with it
(shunt.openai.ids: one source serves both APIs).
"""

from shunt.openai.chat.answer import chat_completion as chat_completion
from shunt.openai.chat.context import ChatContext as ChatContext
from shunt.openai.chat.request import translate_request as translate_request
from shunt.openai.chat.stream import ChatStream as ChatStream
from shunt.openai.chat.upstream_errors import translate_upstream_error as translate_upstream_error
from shunt.openai.ids import IdSource as IdSource
from shunt.openai.ids import SequentialIds as SequentialIds
