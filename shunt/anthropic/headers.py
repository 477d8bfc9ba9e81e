"""PURE header rewriting for pooled requests (SPEC §2, PROTOCOL.md §3) and their responses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from shunt.http.exchange import Header

# The anthropic-beta value every request made with an OAuth token carries (PROTOCOL.md §3):
# pooled requests, and shunt's own calls to the profile and usage endpoints.
OAUTH_BETA: Final = "oauth-2025-04-20"
_OAUTH_BETA_BYTES: Final = OAUTH_BETA.encode("ascii")
DEFAULT_ANTHROPIC_VERSION: Final = b"2023-06-01"

# RFC 9110 §7.6.1 connection-specific fields, plus the obsolete ones proxies still meet.
HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

# Never forwarded upstream on a pooled request: the client's own credentials (replaced by the
# account's), framing the HTTP client recomputes, and accept-encoding (we ask for identity so the
# SSE scanner sees plain text and content-encoding stays consistent end to end).
_DROPPED_UPSTREAM: Final = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"authorization",
    b"x-api-key",
    b"accept-encoding",
    b"anthropic-beta",
}


def _connection_listed(headers: Sequence[Header]) -> frozenset[bytes]:
    """Header names the sender declared hop-by-hop in its Connection header."""
    names: set[bytes] = set()
    for key, value in headers:
        if key.lower() == b"connection":
            names.update(token.strip().lower() for token in value.split(b",") if token.strip())
    return frozenset(names)


def merge_betas(values: Iterable[bytes], extra: bytes = _OAUTH_BETA_BYTES) -> bytes:
    """All anthropic-beta values as one comma list, order kept, duplicates removed, extra last."""
    seen: list[bytes] = []
    for value in values:
        for token in value.split(b","):
            token = token.strip()
            if token and token not in seen:
                seen.append(token)
    if extra not in seen:
        seen.append(extra)
    return b",".join(seen)


def upstream_request_headers(client_headers: Sequence[Header], access_token: str) -> list[Header]:
    """The client's headers with its credentials swapped for the account's bearer token."""
    listed = _connection_listed(client_headers)
    kept: list[Header] = []
    betas: list[bytes] = []
    has_version = False
    for key, value in client_headers:
        name = key.lower()
        if name == b"anthropic-beta":
            betas.append(value)
            continue
        if name in _DROPPED_UPSTREAM or name in listed:
            continue
        if name == b"anthropic-version":
            has_version = True
        kept.append((name, value))
    if not has_version:
        kept.append((b"anthropic-version", DEFAULT_ANTHROPIC_VERSION))
    kept.append((b"anthropic-beta", merge_betas(betas)))
    kept.append((b"authorization", b"Bearer " + access_token.encode("ascii")))
    kept.append((b"accept-encoding", b"identity"))
    return kept


def client_response_headers(upstream_headers: Iterable[Header]) -> list[Header]:
    """Upstream response headers minus hop-by-hop ones and content-length.

    The front door re-frames the body (chunked), so upstream's content-length is dropped;
    content-encoding is kept because the body bytes pass through untouched.
    """
    headers = [(key.lower(), value) for key, value in upstream_headers]
    listed = _connection_listed(headers)
    return [
        (key, value)
        for key, value in headers
        if key not in HOP_BY_HOP and key not in listed and key != b"content-length"
    ]


def passthrough_request_headers(client_headers: Sequence[Header]) -> list[Header]:
    """For non-pooled paths: the client's own headers, minus hop-by-hop and host."""
    listed = _connection_listed(client_headers)
    return [
        (key, value)
        for key, value in client_headers
        if key.lower() not in HOP_BY_HOP
        and key.lower() not in listed
        and key.lower() not in (b"host", b"content-length")
    ]
