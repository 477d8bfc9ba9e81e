"""The Anthropic listener (:8082): local endpoints, the remote key, pooled requests through the
pool, every other path through the pass-through, draining."""

from __future__ import annotations

from functools import partial
from typing import Final

from shunt.anthropic.errors import error_response
from shunt.config import ServerConfig
from shunt.frontdoor.passthrough import Passthrough
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.remote_key import authorized, strip_remote_key
from shunt.frontdoor.reporting import ServingState, StatusReporter
from shunt.http.server import Request, Response, json_response

POOLED_PATHS: Final = frozenset({"/v1/messages", "/v1/messages/count_tokens"})
# Answered without the remote key: the connectivity check and the health probe, nothing else.
OPEN_ROUTES: Final = frozenset({("HEAD", "/"), ("GET", "/health")})
SHUTTING_DOWN: Final = "shunt is shutting down"


class AnthropicApi:
    def __init__(
        self,
        *,
        server: ServerConfig,
        pool: Pool,
        passthrough: Passthrough,
        reporter: StatusReporter,
        serving: ServingState,
    ) -> None:
        self.remote_key = server.remote_key
        self.pool = pool
        self.passthrough = passthrough
        self.reporter = reporter
        self.serving = serving

    def __repr__(self) -> str:
        serving = self.serving
        return f"<AnthropicApi in_flight={serving.in_flight} draining={serving.draining}>"

    async def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "HEAD" and path == "/":
            return Response(200)  # Claude Code's connectivity check: at once, no credentials
        if (request.method, path) not in OPEN_ROUTES:
            if not authorized(request, self.remote_key):
                return error_response(
                    401,
                    "authentication_error",
                    "this shunt requires its remote key: send it as x-api-key or a bearer token",
                )
            strip_remote_key(request, self.remote_key)
        if path == "/health" and request.method == "GET":
            return json_response(200, {"status": "draining" if self.serving.draining else "ok"})
        if path == "/status" and request.method == "GET":
            return json_response(200, self.reporter.status())
        if self.serving.draining:
            self.pool.log_refusal(request, 503, SHUTTING_DOWN)
            return error_response(
                503, "overloaded_error", SHUTTING_DOWN, headers=[(b"connection", b"close")]
            )
        if path in POOLED_PATHS and request.method == "POST":
            return await self.serving.counted(partial(self.pool.handle, request))
        return await self.serving.counted(partial(self.passthrough.handle, request))
