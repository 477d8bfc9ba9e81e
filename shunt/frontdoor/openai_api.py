"""The OpenAI listener (:8083, SPEC §9): the same remote key and draining as the Anthropic
listener, answers in OpenAI's error shape, and requests translated to Anthropic Messages
through the same pool (docs/openai.md). The translation itself is shunt.openai (pure);
openai_bridge.py carries a request through the pool and its answer back."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, Final

from shunt.config import OpenAiConfig, ServerConfig
from shunt.frontdoor.openai_bridge import OpenAiDialect, bridge, fresh_id
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.remote_key import authorized, strip_remote_key
from shunt.frontdoor.reporting import ServingState
from shunt.http.server import Request, Response, json_response
from shunt.openai import chat, responses
from shunt.openai.errors import TranslationError, error_response
from shunt.openai.models import DEFAULT_ROUTES, ModelMap, model_answer, model_list
from shunt.requestlog.record import LISTENER_OPENAI

SHUTTING_DOWN: Final = "shunt is shutting down"
ROUTES: Final = "POST /v1/chat/completions, POST /v1/responses, GET /v1/models"
MODELS_PREFIX: Final = "/v1/models/"


def model_map_of(config: OpenAiConfig) -> ModelMap:
    """The user's routes first, then SPEC §9's defaults (docs/openai.md)."""
    return ModelMap(routes=(*config.models, *DEFAULT_ROUTES), fallback=config.default_model)


def chat_dialect(model_map: ModelMap) -> OpenAiDialect:
    return OpenAiDialect(
        translate_request=partial(chat.translate_request, model_map=model_map),
        answer=lambda message, context, now: chat.chat_completion(
            message, context, created=int(now), ids=fresh_id
        ),
        open_stream=lambda context, now: chat.ChatStream.open(
            context, created=int(now), ids=fresh_id
        ),
        error_answer=lambda status, body, retry_after_s: chat.translate_upstream_error(
            status, body, retry_after_s=retry_after_s
        ),
        requested_model=lambda context: str(context.requested_model),
    )


def _responses_error(status: int, body: bytes, retry_after_s: float | None) -> tuple[int, bytes]:
    try:
        parsed: object = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    status, error = responses.error_answer(status, parsed, retry_after_s=retry_after_s)
    return status, json.dumps(error).encode()


def responses_dialect(model_map: ModelMap) -> OpenAiDialect:
    return OpenAiDialect(
        translate_request=partial(responses.translate_request, resolve_model=model_map.resolve),
        answer=lambda message, context, now: responses.translate_answer(
            message, context, created_at=now, ids=fresh_id
        ),
        open_stream=lambda context, now: responses.ResponsesStream(
            context, created_at=now, ids=fresh_id
        ),
        error_answer=_responses_error,
        requested_model=lambda context: str(context.requested_model),
        conversation_key=lambda context: context.conversation_key,
        notes=lambda context: context.notes,
    )


class OpenAiApi:
    def __init__(
        self, *, server: ServerConfig, openai: OpenAiConfig, pool: Pool, serving: ServingState
    ) -> None:
        self.remote_key = server.remote_key
        self.pool = pool
        self.serving = serving
        self.model_map = model_map_of(openai)
        self.dialects: Mapping[str, OpenAiDialect] = {
            "/v1/chat/completions": chat_dialect(self.model_map),
            "/v1/responses": responses_dialect(self.model_map),
        }

    def __repr__(self) -> str:
        return f"<OpenAiApi draining={self.serving.draining}>"

    async def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        if method == "GET" and path == "/health":
            return json_response(200, {"status": "draining" if self.serving.draining else "ok"})
        if not authorized(request, self.remote_key):
            return error_response(
                401,
                "this shunt requires its remote key: send it as a bearer token (the api_key "
                "of the OpenAI SDK) or as x-api-key",
                code="invalid_api_key",
            )
        strip_remote_key(request, self.remote_key)
        if method == "GET" and path == "/v1/responses" and _is_upgrade(request):
            status, headers, body = responses.websocket_refusal()
            return Response(status, headers, body)  # at once: Codex falls back to HTTP
        if method == "GET" and (path == "/v1/models" or path.startswith(MODELS_PREFIX)):
            return self._models(path)
        if self.serving.draining:
            self.pool.log_refusal(request, 503, SHUTTING_DOWN, listener=LISTENER_OPENAI)
            return error_response(
                503, SHUTTING_DOWN, headers=[(b"connection", b"close"), (b"retry-after", b"1")]
            )
        dialect = self.dialects.get(path)
        if dialect is not None and method == "POST":
            return await self.serving.counted(partial(bridge, self.pool, request, dialect))
        return error_response(
            404,
            f"shunt's OpenAI listener has no route {method} {path}; it serves {ROUTES}",
            code="unknown_url",
        )

    def _models(self, path: str) -> Response:
        created = int(time.time())
        if path == "/v1/models":
            return json_response(200, model_list(self.model_map, created=created))
        try:
            answer: dict[str, Any] = model_answer(
                self.model_map, path.removeprefix(MODELS_PREFIX), created=created
            )
        except TranslationError as missing:
            return error_response(missing.status, missing.message, code=missing.code)
        return json_response(200, answer)


def _is_upgrade(request: Request) -> bool:
    upgrade = request.header(b"upgrade") or b""
    return upgrade.lower() == b"websocket"
