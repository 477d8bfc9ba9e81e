"""The `/_sim/*` control routes used by tests, `shunt demo` and `shunt bench`.

JSON in, JSON out. Bad input gets a 400 in Anthropic error shape naming the field, so a test
that mistypes a fault sees why at once. `/_sim/state` never shows whole tokens: the tokens are
fake, but state dumps end up in logs, and the rest of shunt holds itself to never printing
tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

import attrs

from shunt.http.json_body import json_object
from shunt.http.server import Request, Response
from shunt.simulator.faults import parse_fault
from shunt.simulator.ledger import FIVE_HOUR, OVERAGE, SEVEN_DAY, UnknownAccount, WindowUsage
from shunt.simulator.oauth import DEFAULT_ACCESS_TTL_S

if TYPE_CHECKING:
    from shunt.simulator.app import RequestRecord, Simulator

TOKEN_TAIL_CHARS: Final = 4
_Route = Callable[["Simulator", Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


def _json_object(request: Request) -> dict[str, Any]:
    return json_object(request.body, what="the request body", not_json="must be JSON")


def _int(payload: dict[str, Any], key: str, default: int | None) -> int | None:
    value = payload.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest(f"{key} must be an integer, not {value!r}")
    return value


def _account(sim: Simulator, payload: dict[str, Any]) -> str:
    account = payload.get("account")
    if not isinstance(account, str) or account not in sim.ledger:
        raise _BadRequest(f"account must name a simulated account, not {account!r}")
    return account


def _guarded(route: _Route) -> _Route:
    """Turn _BadRequest/ValueError from a control route into a 400."""

    async def wrapper(sim: Simulator, request: Request) -> Response:
        try:
            return await route(sim, request)
        except (_BadRequest, ValueError, UnknownAccount) as exc:
            return sim.error(400, str(exc).strip("'\""))

    wrapper.__doc__ = route.__doc__
    return wrapper


@_guarded
async def add_account(sim: Simulator, request: Request) -> Response:
    """POST /_sim/accounts → the new account's credentials.json entry."""
    payload = _json_object(request)
    name = payload.get("name")
    if not isinstance(name, str):
        raise _BadRequest("name is required")
    plan = payload.get("plan", "max")
    if not isinstance(plan, str):
        raise _BadRequest(f"plan must be a string, not {plan!r}")
    ttl = payload.get("access_ttl_s", DEFAULT_ACCESS_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise _BadRequest(f"access_ttl_s must be a number, not {ttl!r}")
    kwargs: dict[str, Any] = {}
    for key in ("five_hour_tokens", "seven_day_tokens"):
        value = _int(payload, key, None)
        if value is not None:
            kwargs[key] = value
    entry = sim.add_account(
        name,
        plan=plan,
        overage_tokens=_int(payload, "overage_tokens", None),
        access_ttl_s=float(ttl),
        **kwargs,
    )
    return sim.json_response(200, entry)


@_guarded
async def login(sim: Simulator, request: Request) -> Response:
    """POST /_sim/login {account} → a fresh token pair, as a new login would give."""
    account = _account(sim, _json_object(request))
    return sim.json_response(200, sim.oauth.issue(account, sim.clock()).credential_entry())


@_guarded
async def add_fault(sim: Simulator, request: Request) -> Response:
    """POST /_sim/faults {account, kind, count?, rate?, latency_ms?, retry_after?, …}."""
    payload = _json_object(request)
    _account(sim, payload)
    account, fault = parse_fault(payload)
    sim.faults.add(account, fault)
    return sim.json_response(200, {"account": account, "fault": fault.describe()})


@_guarded
async def clear_faults(sim: Simulator, request: Request) -> Response:
    """DELETE /_sim/faults[?account=NAME]: clear one account's faults, or all."""
    account = dict(parse_qsl(request.target.partition("?")[2])).get("account")
    sim.faults.clear(account)
    return sim.json_response(200, {"cleared": account or "all"})


@_guarded
async def expire(sim: Simulator, request: Request) -> Response:
    """POST /_sim/expire {account}: every live access token of the account expires now."""
    account = _account(sim, _json_object(request))
    return sim.json_response(200, {"expired": sim.oauth.expire(account, sim.clock())})


@_guarded
async def set_usage(sim: Simulator, request: Request) -> Response:
    """POST /_sim/usage {account, five_hour?, seven_day?, overage?, <window>_opened_s_ago?}:
    force used tokens. A window that is not running opens `<window>_opened_s_ago` seconds of
    the simulator's clock ago (default 0: now), so a test can start it at any phase."""
    payload = _json_object(request)
    account = _account(sim, payload)
    now = sim.clock()
    for window in (FIVE_HOUR, SEVEN_DAY, OVERAGE):
        tokens = _int(payload, window, None)
        ago = _seconds(payload, f"{window}_opened_s_ago")
        if tokens is not None:
            sim.ledger.set_used(account, window, tokens, now - ago)
    return sim.json_response(200, _account_state(sim, account, now))


def _seconds(payload: dict[str, Any], key: str) -> float:
    value = payload.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise _BadRequest(f"{key} must be a number of seconds >= 0, not {value!r}")
    return float(value)


async def digests(sim: Simulator, _request: Request) -> Response:
    """GET /_sim/digests: sha256 of each streamed body sent whole, by request id."""
    return sim.json_response(200, dict(sim.stream_digests))


@_guarded
async def open_gate(sim: Simulator, request: Request) -> Response:
    """POST /_sim/gates {name}: release every stream held by `x-sim-gate: name` (now and later)."""
    name = _json_object(request).get("name")
    if not isinstance(name, str) or not name:
        raise _BadRequest('send {"name": GATE}')
    sim.gate(name).set()
    return sim.json_response(200, {"opened": name})


async def state(sim: Simulator, _request: Request) -> Response:
    """GET /_sim/state: usage, counts, redacted tokens and the last requests on /v1/* and on
    /api/oauth/* (apart)."""
    now = sim.clock()
    payload = {
        "now": now,
        "time_scale": sim.ledger.time_scale,
        "streams_open": sim.streams_open,
        "claude_code_only": sim.claude_code_only,
        "prompt_cache": None
        if sim.prompt_cache is None
        else {"ttl_s": sim.prompt_cache.ttl_s, "max_entries": sim.prompt_cache.max_entries},
        "accounts": {name: _account_state(sim, name, now) for name in sim.ledger.accounts()},
        "requests": [_request_fields(r) for r in sim.recent],
        "oauth_api_requests": [_request_fields(r) for r in sim.oauth_api_recent],
    }
    return sim.json_response(200, payload)


def _request_fields(r: RequestRecord) -> dict[str, Any]:
    return {
        "account": r.account,
        "method": r.method,
        "path": r.path,
        "status": r.status,
        "anthropic_beta": r.anthropic_beta,
        "anthropic_version": r.anthropic_version,
        "x_api_key": r.x_api_key,
        "authorization": r.authorization,
        "user_agent": r.user_agent,
        "body_bytes": r.body_bytes,
        "body": r.body,
    }


def _window(window: WindowUsage | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "used": window.used,
        "limit": window.limit,
        "utilization": window.utilization,
        "resets_at": window.reset_at if window.started else None,
    }


def redact(token: str) -> str:
    """`sk-ant-oat01-sim-NAME-…abcd`: kind and owner readable, the secret part cut."""
    head, _, secret = token.rpartition("-")
    return f"{head}-…{secret[-TOKEN_TAIL_CHARS:]}"


def _account_state(sim: Simulator, name: str, now: float) -> dict[str, Any]:
    usage = sim.ledger.usage(name, now)
    pair = sim.oauth.current(name)
    identity = sim.oauth.identities[name]
    return {
        "plan": identity.plan,
        "email": identity.email,
        "windows": {
            FIVE_HOUR: _window(usage.five_hour),
            SEVEN_DAY: _window(usage.seven_day),
            OVERAGE: _window(usage.overage),
        },
        "rejected": usage.rejected,
        "requests": {
            (str(status) if status else "dropped"): n
            for status, n in sorted(sim.status_counts[name].items())
        },
        "tokens": None
        if pair is None
        else {
            "access": redact(pair.access_token),
            "refresh": redact(pair.refresh_token),
            "expires_at": pair.expires_at,
        },
        "faults": [fault.describe() for fault in sim.faults.pending(name)],
        "prompt_cache": None
        if sim.prompt_cache is None
        else attrs.asdict(sim.prompt_cache.stats(name, now)),
    }
