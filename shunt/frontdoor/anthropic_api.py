"""The Anthropic listener (:8082): local endpoints, the remote key, pooled requests through the
pool, every other path through the pass-through, draining."""

from __future__ import annotations

import hmac
from typing import Final

from shunt.anthropic.errors import error_response
from shunt.config import ServerConfig
from shunt.frontdoor.passthrough import Passthrough
from shunt.frontdoor.pool import Pool
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
            if not self._authorized(request):
                return error_response(
                    401,
                    "authentication_error",
                    "this shunt requires its remote key: send it as x-api-key or a bearer token",
                )
            self._strip_remote_key(request)
        if path == "/health" and request.method == "GET":
            return json_response(200, {"status": "draining" if self.serving.draining else "ok"})
        if path == "/status" and request.method == "GET":
            return json_response(200, self.reporter.status())
        if self.serving.draining:
            self.pool.log_refusal(request, 503, SHUTTING_DOWN)
            return error_response(
                503, "overloaded_error", SHUTTING_DOWN, headers=[(b"connection", b"close")]
            )
        in_flight = self.serving.in_flight
        in_flight.add()
        try:
            if path in POOLED_PATHS and request.method == "POST":
                response = await self.pool.handle(request)
            else:
                response = await self.passthrough.handle(request)
        except BaseException:
            in_flight.done()
            raise
        if response.stream is None and response.on_close is None:
            in_flight.done()
        else:

            async def done() -> None:
                in_flight.done()

            response.chain_close(done)
        return response

    def _authorized(self, request: Request) -> bool:
        key = self.remote_key
        if not key:
            return True
        offered = request.header(b"x-api-key")
        if offered is None:
            auth = request.header(b"authorization") or b""
            offered = auth[7:] if auth[:7].lower() == b"bearer " else b""
        return hmac.compare_digest(offered, key.encode())

    def _strip_remote_key(self, request: Request) -> None:
        """The remote key is shunt's own secret: it must never travel upstream (pooled requests
        drop client credentials anyway; pass-through would forward them)."""
        if not self.remote_key:
            return
        request.headers = [
            (key, value)
            for key, value in request.headers
            if key not in (b"x-api-key", b"authorization")
        ]
