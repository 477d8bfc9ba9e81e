"""Credential swap and beta merge for pooled requests (SPEC §2, PROTOCOL.md §3)."""

from shunt.anthropic.headers import (
    client_response_headers,
    merge_betas,
    passthrough_request_headers,
    upstream_request_headers,
)


def _dict(headers):
    out = {}
    for k, v in headers:
        assert k not in out, f"duplicate header {k!r}"
        out[k] = v
    return out


def test_client_credentials_never_forwarded_even_when_both_sent():
    client = [
        (b"host", b"127.0.0.1:8082"),
        (b"x-api-key", b"sk-client-key"),
        (b"authorization", b"Bearer sk-client-token"),
        (b"anthropic-version", b"2023-06-01"),
        (b"content-length", b"10"),
        (b"accept-encoding", b"gzip"),
        (b"x-app", b"cli"),
    ]
    out = _dict(upstream_request_headers(client, "sk-ant-oat01-account"))
    assert out[b"authorization"] == b"Bearer sk-ant-oat01-account"
    assert b"x-api-key" not in out
    assert b"host" not in out
    assert b"content-length" not in out
    assert out[b"accept-encoding"] == b"identity"
    assert out[b"x-app"] == b"cli"
    assert b"sk-client" not in b"".join(v for _, v in out.items())


def test_oauth_beta_merged_keeping_client_betas():
    client = [
        (b"anthropic-beta", b"claude-code-20250219,interleaved-thinking-2025-05-14"),
        (b"anthropic-beta", b"context-1m-2025-08-07, claude-code-20250219"),
    ]
    out = _dict(upstream_request_headers(client, "t"))
    assert out[b"anthropic-beta"] == (
        b"claude-code-20250219,interleaved-thinking-2025-05-14,context-1m-2025-08-07,oauth-2025-04-20"
    )


def test_beta_added_when_client_sent_none_and_version_defaulted():
    out = _dict(upstream_request_headers([], "t"))
    assert out[b"anthropic-beta"] == b"oauth-2025-04-20"
    assert out[b"anthropic-version"] == b"2023-06-01"


def test_client_version_kept():
    out = _dict(upstream_request_headers([(b"anthropic-version", b"2099-01-01")], "t"))
    assert out[b"anthropic-version"] == b"2099-01-01"


def test_merge_betas_does_not_duplicate_oauth():
    assert merge_betas([b"oauth-2025-04-20"]) == b"oauth-2025-04-20"


def test_hop_by_hop_and_connection_listed_headers_dropped():
    client = [
        (b"connection", b"keep-alive, x-private"),
        (b"keep-alive", b"timeout=5"),
        (b"x-private", b"1"),
        (b"te", b"trailers"),
        (b"x-kept", b"1"),
    ]
    names = {k for k, _ in upstream_request_headers(client, "t")}
    assert names.isdisjoint({b"connection", b"keep-alive", b"x-private", b"te"})
    assert b"x-kept" in names
    assert {k for k, _ in passthrough_request_headers(client)} == {b"x-kept"}


def test_response_headers_drop_framing_but_keep_encoding():
    upstream = [
        (b"Content-Type", b"text/event-stream"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Content-Length", b"12"),
        (b"Content-Encoding", b"gzip"),
        (b"Connection", b"close"),
        (b"anthropic-ratelimit-unified-status", b"allowed"),
    ]
    out = _dict(client_response_headers(upstream))
    assert out == {
        b"content-type": b"text/event-stream",
        b"content-encoding": b"gzip",
        b"anthropic-ratelimit-unified-status": b"allowed",
    }


def test_passthrough_keeps_client_credentials():
    client = [(b"x-api-key", b"sk-user"), (b"host", b"h")]
    assert passthrough_request_headers(client) == [(b"x-api-key", b"sk-user")]
