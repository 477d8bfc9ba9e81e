"""Non-pooled paths go upstream unchanged, with the client's own headers (SPEC §2)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx

from shunt.anthropic.errors import error_response
from shunt.anthropic.headers import client_response_headers, passthrough_request_headers
from shunt.http.server import Request, Response, StreamAborted

logger = logging.getLogger(__name__)


class Passthrough:
    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")

    async def handle(self, request: Request) -> Response:
        # httpx.Request, not client.build_request: the client's defaults (user-agent,
        # accept-encoding: gzip) must not be added to a request forwarded "unchanged".
        upstream = httpx.Request(
            request.method,
            self.base_url + request.target,
            headers=passthrough_request_headers(request.headers),
            content=request.body,
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            return error_response(
                502,
                "api_error",
                f"shunt could not reach the upstream for {request.path}: {type(exc).__name__}",
            )
        headers = client_response_headers(response.headers.raw)
        if request.method == "HEAD":
            length = response.headers.get("content-length")
            if length is not None:
                headers.append((b"content-length", length.encode()))
        return Response(
            response.status_code, headers, stream=_relay(response), on_close=response.aclose
        )


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except (httpx.TransportError, httpx.TimeoutException) as exc:
        raise StreamAborted(f"upstream broke off: {type(exc).__name__}") from None
