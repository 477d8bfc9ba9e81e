"""One client request as the request log and /status see it (PURE).

The front door fills a `RequestRecord` as the request goes (pool.py) and hands it on when the
answer is over. Nothing here is computed on the request path: the client family, the hashed
conversation key and the row's JSON are made from the record by `row_of`, which the request
log's writer calls off the request path.

What a record never holds: the request or response content, and no token or key. The
conversation key is kept in memory as the router computed it (a session id or a prompt
fingerprint) and leaves the process only hashed (`conversation_hash`).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Final

import attrs

LISTENER_ANTHROPIC: Final = "anthropic"
LISTENER_OPENAI: Final = "openai"
# The error of a request whose client left before any answer: logged, but not a failure.
CLIENT_GONE: Final = "the client went away before the answer began"
MAX_ERROR_CHARS: Final = 2000  # a 503 names every account's reason: bounded, never unbounded
CONVERSATION_HASH_CHARS: Final = 16  # 64 bits: enough to tell conversations apart in a report
_CONVERSATION_SALT: Final = b"shunt request log conversation\0"

UNKNOWN_CLIENT: Final = "unknown"
OTHER_CLIENT: Final = "other"
MAX_CLIENT_CHARS: Final = 32
# (product token of the user-agent, lowercased) -> family. Anthropic's and OpenAI's SDKs send
# "Anthropic/Python 0.49.0", "OpenAI/JS 4.x"; Claude Code sends "claude-cli/1.0.83 (external, cli)".
_KNOWN_PRODUCTS: Final = {
    "claude-cli": "claude-cli",
    "claude-code": "claude-cli",
    "anthropic/python": "anthropic-python",
    "anthropic/js": "anthropic-js",
    "anthropic/typescript": "anthropic-js",
    "anthropic/go": "anthropic-go",
    "anthropic/java": "anthropic-java",
    "openai/python": "openai-python",
    "openai/js": "openai-js",
    "python-httpx": "httpx",
    "python-requests": "python-requests",
    "curl": "curl",
}
_SDK_TOKEN: Final = re.compile(r"(anthropic|openai)/([a-z]+)")
_PRODUCT: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")


@attrs.define
class RequestRecord:
    """One client request: a row of the request log and an entry of /status's recent requests.

    Times are epoch seconds (`started`) and milliseconds from it (`duration_ms`, `ttfb_ms`:
    the time until the answer's head was ready, None when no head ever was)."""

    started: float
    method: str
    path: str
    model: str  # as the client asked
    listener: str = LISTENER_ANTHROPIC
    account: str = ""  # "" when no account served it
    provider: str = ""  # for answers from a provider (none yet)
    model_sent: str = ""  # what the worker sent upstream; "" when nothing was sent
    route: str = ""  # pinned, sticky or the strategy's name; "" when not routed
    failovers: int = 0
    skipped: list[tuple[str, str]] = attrs.Factory(list)  # (account, why), refused or skipped
    status: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    duration_ms: float = 0.0
    ttfb_ms: float | None = None
    error: str = ""
    # Raw inputs of derived columns: kept as they came, turned into what is stored by row_of.
    user_agent: bytes = attrs.field(default=b"", repr=False)
    conversation_key: str | None = attrs.field(default=None, repr=False)

    @property
    def client(self) -> str:
        return client_family(self.user_agent)

    @property
    def conversation(self) -> str:
        return conversation_hash(self.conversation_key)


def client_family(user_agent: bytes | str) -> str:
    """The client program behind a user-agent, without its version: "claude-cli",
    "anthropic-python", "openai-python", "curl" … An unknown program is its own product token
    (lowercased, at most 32 characters); "unknown" when there is none, "other" when the
    user-agent has no readable product token."""
    text = user_agent.decode("latin-1") if isinstance(user_agent, bytes) else user_agent
    text = text.strip().lower()
    if not text:
        return UNKNOWN_CLIENT
    sdk = _SDK_TOKEN.match(text)
    if sdk is not None:
        known = _KNOWN_PRODUCTS.get(sdk.group(0))
        return known if known is not None else f"{sdk.group(1)}-{sdk.group(2)}"[:MAX_CLIENT_CHARS]
    product = _PRODUCT.match(text)
    if product is None:
        return OTHER_CLIENT
    name = product.group(0)
    return _KNOWN_PRODUCTS.get(name, name[:MAX_CLIENT_CHARS])


def conversation_hash(key: str | None) -> str:
    """The conversation key as stored: a salted sha256 prefix, so a report can group by
    conversation while the log never holds a session id; "" without a key."""
    if key is None:
        return ""
    digest = hashlib.sha256(_CONVERSATION_SALT + key.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:CONVERSATION_HASH_CHARS]


# The stored columns, in the order of `row_of`'s tuple (schema.py's table has them all).
ROW_COLUMNS: Final = (
    "started",
    "listener",
    "method",
    "path",
    "account",
    "provider",
    "model",
    "model_sent",
    "route",
    "failovers",
    "skipped",
    "status",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "duration_ms",
    "ttfb_ms",
    "conversation",
    "client",
    "error",
)

Row = tuple[object, ...]


def row_of(record: RequestRecord) -> Row:
    """The record as the request log stores it, in ROW_COLUMNS order."""
    return (
        record.started,
        record.listener,
        record.method,
        record.path,
        record.account,
        record.provider,
        record.model,
        record.model_sent,
        record.route,
        record.failovers,
        json.dumps(record.skipped, ensure_ascii=False),
        record.status,
        record.input_tokens,
        record.output_tokens,
        record.cache_read_tokens,
        record.cache_creation_tokens,
        record.duration_ms,
        record.ttfb_ms,
        record.conversation,
        record.client,
        record.error[:MAX_ERROR_CHARS],
    )
