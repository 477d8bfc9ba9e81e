"""The remote key (SPEC §11), the same rule on every listener: with `[server] remote_key` set,
a client sends it as x-api-key or a bearer token, compared in constant time, and it never
travels further."""

from __future__ import annotations

import hmac

from shunt.http.server import Request


def authorized(request: Request, key: str | None) -> bool:
    if not key:
        return True
    offered = request.header(b"x-api-key")
    if offered is None:
        auth = request.header(b"authorization") or b""
        offered = auth[7:] if auth[:7].lower() == b"bearer " else b""
    return hmac.compare_digest(offered, key.encode())


def strip_remote_key(request: Request, key: str | None) -> None:
    """The remote key is shunt's own secret: it must never travel upstream (pooled requests
    drop client credentials anyway; pass-through would forward them)."""
    if not key:
        return
    request.headers = [
        (name, value)
        for name, value in request.headers
        if name not in (b"x-api-key", b"authorization")
    ]
