"""Non-pooled paths go upstream unchanged, with the client's own headers (SPEC §2)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx

from shunt.http.server import Request, Response, StreamAborted, error_response
from workers.headers import client_response_headers, passthrough_request_headers

logger = logging.getLogger(__name__)


class Passthrough:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def handle(self, request: Request) -> Response:
        upstream = self.client.build_request(
            request.method,
            request.target,
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
        return Response(
            response.status_code,
            client_response_headers(response.headers.raw),
            stream=_relay(response),
        )


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except (httpx.TransportError, httpx.TimeoutException) as exc:
        raise StreamAborted(f"upstream broke off: {type(exc).__name__}") from None
    finally:
        await response.aclose()
