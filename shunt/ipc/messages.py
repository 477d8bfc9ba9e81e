"""Every frame that crosses a front door <-> worker channel.

Each message is a frozen attrs class; on the wire it is a msgpack map whose `type` field is the
class name (see codec.py). Streams are numbered by the front door; one channel carries many.

Front door -> worker: Configure, AssignAccount, ReleaseAccount, Forward, Cancel, Credit,
TokensPersisted, ResetCooldown, Ping, Shutdown.
Worker -> front door: WorkerReady, ResponseHead, ResponseBody, ResponseEnd, Failover,
AccountReport, TokensRefreshed, Pong.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from shunt.http.exchange import Header
from shunt.model.credential import Credential
from shunt.model.durations import Durations
from shunt.model.quota import AccountSnapshot


@attrs.frozen
class Configure:
    """First frame to a new worker: where the upstream is and how to behave."""

    upstream_url: str
    token_url: str
    oauth_client_id: str
    durations: Durations = attrs.Factory(Durations)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 600.0  # the longest silence within an answer's body
    head_timeout_s: float = 600.0  # request written to head read: [server] upstream_head_timeout
    refresh_margin_s: float = 300.0  # refresh this long before expiry
    usage_url: str = ""  # [oauth] usage_url, for the start-up prefetch; "" = no prefetch


@attrs.frozen
class AssignAccount:
    """The worker now owns this account (start, hot-add, or credential replaced by a login)."""

    name: str
    credential: Credential | None  # None: the account is reauth_required
    previous: AccountSnapshot | None = None  # what the front door knew: counters, windows, cooldown


@attrs.frozen
class ReleaseAccount:
    """Stop serving this account once its in-flight requests have finished."""

    name: str


@attrs.frozen
class Forward:
    """A pooled request to send upstream with `account`'s credential."""

    stream_id: int
    account: str
    method: str
    target: str  # path with query string, e.g. /v1/messages?beta=true
    headers: list[Header]
    body: bytes
    window_bytes: int  # initial credit: bytes of body the worker may send before more Credit


@attrs.frozen
class Cancel:
    """The client went away: cancel the upstream request of this stream."""

    stream_id: int


@attrs.frozen
class Credit:
    """The front door wrote `nbytes` of this stream to its client; the worker may send more."""

    stream_id: int
    nbytes: int


@attrs.frozen
class TokensPersisted:
    """Answer to TokensRefreshed: the pair is on disk (ok) or could not be written."""

    account: str
    ok: bool
    error: str = ""


@attrs.frozen
class ResetCooldown:
    """`shunt reset NAME`: end the account's running cooldown now (the worker owns it), then
    report at once."""

    account: str


@attrs.frozen
class Ping:
    seq: int


@attrs.frozen
class Shutdown:
    """Finish in-flight streams within `grace_s`, then exit."""

    grace_s: float


@attrs.frozen
class WorkerReady:
    pid: int


@attrs.frozen
class ResponseHead:
    """The upstream answered and the answer goes to the client: no failover after this."""

    stream_id: int
    status: int
    headers: list[Header]
    account: str


@attrs.frozen
class ResponseBody:
    stream_id: int
    data: bytes


@attrs.frozen
class ResponseEnd:
    """The stream is over. ok=False means it broke midway (an SSE error event was sent)."""

    stream_id: int
    ok: bool
    error: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@attrs.frozen
class Failover:
    """The account could not serve this request; nothing was sent; try the next account."""

    stream_id: int
    account: str
    reason: str  # e.g. "429 rate limited (retry-after 12s)"
    status: int = 0  # upstream status, 0 for a connection error


@attrs.frozen
class AccountReport:
    """The account's state after a response or on any change."""

    snapshot: AccountSnapshot


@attrs.frozen
class TokensRefreshed:
    """A refreshed pair; the worker waits for TokensPersisted before using it."""

    account: str
    credential: Credential
    # The refresh token this pair was made from: the front door saves the pair only while that
    # is still the account's login, so a refresh finishing late cannot overwrite a new login.
    replaces_refresh_token: str = attrs.field(default="", repr=False)


@attrs.frozen
class Pong:
    seq: int
    in_flight: int = 0


Message: TypeAlias = (
    Configure
    | AssignAccount
    | ReleaseAccount
    | Forward
    | Cancel
    | Credit
    | TokensPersisted
    | ResetCooldown
    | Ping
    | Shutdown
    | WorkerReady
    | ResponseHead
    | ResponseBody
    | ResponseEnd
    | Failover
    | AccountReport
    | TokensRefreshed
    | Pong
)

MESSAGE_TYPES: tuple[type[Message], ...] = (
    Configure,
    AssignAccount,
    ReleaseAccount,
    Forward,
    Cancel,
    Credit,
    TokensPersisted,
    ResetCooldown,
    Ping,
    Shutdown,
    WorkerReady,
    ResponseHead,
    ResponseBody,
    ResponseEnd,
    Failover,
    AccountReport,
    TokensRefreshed,
    Pong,
)
