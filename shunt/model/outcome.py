"""The account machine's vocabulary: what happened (Outcome) and what to do about it (Verdict).

Outcomes are built by a classifier at the edge (shunt/anthropic/classify.py for Anthropic
answers) or by the worker itself (connection failures, refresh results, a new login); the
machine (shunt/model/machine.py) turns each into a Verdict.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from shunt.model.quota import AccountState, RateLimits

# Upstream's message is kept this long in an outcome's detail (logs, /status, failover reasons).
MAX_DETAIL_CHARS: Final = 300


class OutcomeKind(enum.Enum):
    """What an answer (or a refresh) means for the account; the values read well in logs."""

    SUCCESS = "ok"  # 2xx
    QUOTA_SPENT = "quota spent"  # 429, a plan window (or the unified status) rejected
    RATE_LIMITED = "rate limited"  # 429 with rate-limit headers, no plan rejection
    REQUEST_REFUSED = "refused the request itself (account unaffected)"  # 429/400/403
    OVERLOADED = "upstream overloaded"  # 529
    UNAUTHORIZED = "unauthorized"  # 401
    FORBIDDEN = "forbidden"  # 403
    CONNECT_FAILED = "connection failed before any byte"  # or timed out
    OTHER_STATUS = "returned as is"  # 400, 404, 413, 500 ...
    STREAM_FAILED = "stream failed midway"
    REFRESH_OK = "token refreshed"
    REFRESH_FAILED = "token refresh failed"  # transient: network, 5xx, 429 from the endpoint
    REFRESH_REJECTED = "refresh token rejected, log in again"  # invalid_grant
    CREDENTIAL_REPLACED = "new credential"  # a new login arrived


@attrs.frozen
class Outcome:
    """What happened to one request (or refresh); built by a classifier or by the edge."""

    kind: OutcomeKind
    status: int = 0
    limits: RateLimits | None = None
    retry_after_s: float | None = None
    detail: str = ""


class Action(enum.Enum):
    RETURN = "return"  # send the answer to the client (refresh outcomes: carry on here)
    FAILOVER = "failover"  # nothing was sent: retry on the next account
    REFRESH_AND_RETRY = "refresh_and_retry"  # refresh the token, then retry this account


@attrs.frozen
class Verdict:
    """The machine's answer. `transition` is set only when the state changed, so the edge logs
    each transition once; `report` says the snapshot changed and must go to the front door."""

    action: Action
    reason: str
    transition: tuple[AccountState, AccountState, str] | None = None
    report: bool = False
