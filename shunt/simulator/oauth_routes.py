"""The OAuth routes: token (refresh and code exchange), simulated consent, usage and profile.

All decisions live in `oauth.TokenRegistry`; this module parses requests and applies faults
scoped to these endpoints (`scope` token / usage / profile), so a test can make a refresh fail
with a 500, answer 429, or lose its answer after the server already rotated the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import trio

from shunt.http.server import Request, Response
from shunt.simulator.api import cut_body_response, fault_response
from shunt.simulator.faults import FaultKind, Scope
from shunt.simulator.knobs import MS
from shunt.simulator.oauth import OAuthError, usage_payload

if TYPE_CHECKING:
    from shunt.simulator.app import Simulator


def _form_or_json(request: Request) -> Mapping[str, Any]:
    """RFC 6749 says form-encoded; Claude's endpoint takes JSON. Accept both."""
    content_type = request.header(b"content-type") or b""
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return dict(parse_qsl(request.body.decode("utf-8", "replace")))
    try:
        payload = json.loads(request.body)
    except ValueError:
        raise OAuthError("invalid_request", "the request body must be JSON") from None
    if not isinstance(payload, dict):
        raise OAuthError("invalid_request", "the request body must be a JSON object")
    return payload


async def _with_fault(
    sim: Simulator,
    account: str | None,
    scope: Scope,
    request_id: str,
    answer: Callable[[float], Response],
) -> Response:
    """`answer(now)` unless a fault scoped here says otherwise."""
    fault = None if account is None else sim.faults.take(account, scope, streaming=False)
    if fault is not None and fault.latency_ms > 0:
        await trio.sleep(fault.latency_ms * MS)
    now = sim.clock()
    if fault is None or fault.kind is FaultKind.LATENCY:
        return answer(now)
    assert account is not None
    if fault.kind is FaultKind.MIDSTREAM_DROP:
        normal = answer(now)
        return cut_body_response(normal.status, normal.headers, normal.body)
    return fault_response(sim, fault, account, request_id, now)


async def token(sim: Simulator, request: Request) -> Response:
    """POST /v1/oauth/token: refresh_token and authorization_code grants."""
    request_id = sim.request_id()
    headers = dict(request.headers)
    try:
        payload = _form_or_json(request)
    except OAuthError as exc:
        response = sim.json_response(exc.status, exc.payload())
        sim.record(request, headers, None, response)
        return response
    account = sim.oauth.account_for_grant(payload)

    def answer(now: float) -> Response:
        try:
            pair = sim.oauth.token_request(payload, now)
        except OAuthError as exc:
            return sim.json_response(exc.status, exc.payload())
        return sim.json_response(200, sim.oauth.token_response(pair, now))

    response = await _with_fault(sim, account, Scope.TOKEN, request_id, answer)
    sim.record(request, headers, account, response)
    return response


async def authorize(sim: Simulator, request: Request) -> Response:
    """GET /oauth/authorize: consent is automatic; the page shows `CODE#STATE` to paste.

    `sim_account` picks the account that "logs in" (default: the first one).
    """
    query = dict(parse_qsl(request.target.partition("?")[2]))
    accounts = sim.ledger.accounts()
    account = query.get("sim_account") or (accounts[0] if accounts else "")
    try:
        code = sim.oauth.authorize(
            account=account,
            client_id=query.get("client_id"),
            response_type=query.get("response_type"),
            code_challenge=query.get("code_challenge"),
            code_challenge_method=query.get("code_challenge_method"),
            state=query.get("state"),
            redirect_uri=query.get("redirect_uri"),
            now=sim.clock(),
        )
    except OAuthError as exc:
        return sim.json_response(exc.status, exc.payload())
    page = f"{code}#{query['state']}".encode()
    return Response(200, [(b"content-type", b"text/plain; charset=utf-8")], page)


async def usage(sim: Simulator, request: Request) -> Response:
    """GET /api/oauth/usage: utilization in percent, no tokens spent."""
    return await _account_endpoint(
        sim,
        request,
        Scope.USAGE,
        lambda account, now: usage_payload(sim.ledger.usage(account, now)),
    )


async def profile(sim: Simulator, request: Request) -> Response:
    """GET /api/oauth/profile: who the token belongs to and on which plan."""
    return await _account_endpoint(
        sim,
        request,
        Scope.PROFILE,
        lambda account, now: sim.oauth.profile(
            account, overage_enabled=sim.ledger.quota(account).overage_tokens is not None
        ),
    )


async def _account_endpoint(
    sim: Simulator,
    request: Request,
    scope: Scope,
    payload: Callable[[str, float], dict[str, Any]],
) -> Response:
    headers = dict(request.headers)
    request_id = sim.request_id()
    auth = sim.authenticate(headers, request_id=request_id, now=sim.clock())
    if isinstance(auth, Response):
        sim.record_oauth_api(request, headers, None, auth)
        return auth
    account = auth
    rid_header = [(b"request-id", request_id.encode())]
    response = await _with_fault(
        sim,
        account,
        scope,
        request_id,
        lambda now: sim.json_response(200, payload(account, now), rid_header),
    )
    sim.record_oauth_api(request, headers, account, response)
    return response
