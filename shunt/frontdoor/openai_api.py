"""The OpenAI listener (:8083, SPEC §9): the same remote key and draining as the Anthropic
listener, answers in OpenAI's error shape, and requests translated to Anthropic Messages
through the same pool (docs/openai.md)."""

from __future__ import annotations

from typing import Final

from shunt.config import ServerConfig
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.remote_key import authorized, strip_remote_key
from shunt.frontdoor.reporting import ServingState
from shunt.http.server import Request, Response, json_response
from shunt.openai.errors import error_response
from shunt.requestlog.record import LISTENER_OPENAI

SHUTTING_DOWN: Final = "shunt is shutting down"
ROUTES: Final = "POST /v1/chat/completions, POST /v1/responses, GET /v1/models"


class OpenAiApi:
    def __init__(self, *, server: ServerConfig, pool: Pool, serving: ServingState) -> None:
        self.remote_key = server.remote_key
        self.pool = pool
        self.serving = serving

    def __repr__(self) -> str:
        return f"<OpenAiApi draining={self.serving.draining}>"

    async def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET" and path == "/health":
            return json_response(200, {"status": "draining" if self.serving.draining else "ok"})
        if not authorized(request, self.remote_key):
            return error_response(
                401,
                "this shunt requires its remote key: send it as a bearer token (the api_key "
                "of the OpenAI SDK) or as x-api-key",
                code="invalid_api_key",
            )
        strip_remote_key(request, self.remote_key)
        if self.serving.draining:
            self.pool.log_refusal(request, 503, SHUTTING_DOWN, listener=LISTENER_OPENAI)
            return error_response(
                503, SHUTTING_DOWN, headers=[(b"connection", b"close"), (b"retry-after", b"1")]
            )
        return error_response(
            404,
            f"shunt's OpenAI listener has no route {request.method} {path}; it serves {ROUTES}",
            code="unknown_url",
        )
