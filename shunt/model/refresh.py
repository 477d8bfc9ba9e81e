"""The 401 -> refresh -> retry exchange of one account, as a table (SPEC §3, the 401 row).

The account machine keeps this second, private state next to its shared one: it decides
whether a 401 asks for a token refresh and a retry on the same account (the refresh state is
idle, or a refresh is already in flight and the 401 joins it) or means the account itself is
at fault (the refresh just succeeded, so the new token was refused too). Like TRANSITIONS in
shunt/model/machine.py, REFRESH_TRANSITIONS holds every decision: events in, next state out,
and an event with no row raises InvalidTransition. The worker's single-flight refresh
(workers/runtime.py) is what makes every caller of one refresh report the same result.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from shunt.errors import InvalidTransition
from shunt.model.outcome import OutcomeKind


class RefreshState(enum.Enum):
    """Where the exchange stands. Not part of the snapshot: the front door never sees it."""

    IDLE = "idle"
    REFRESHING = "refreshing"  # a 401 asked for a refresh; more 401s join it
    REFRESHED = "refreshed"  # the refresh succeeded; a 401 now means the account is at fault


class RefreshEvent(enum.Enum):
    """What the account machine tells the exchange; the values say when, in the docs table."""

    ASKED = "a 401 on a ready account asked for a refresh"
    REFRESH_SUCCEEDED = "the refresh succeeded; every caller of it reports it"
    UNAUTHORIZED = "a 401 that asked for no refresh"
    ANSWERED = "a 2xx: the credential works"
    NEW_CREDENTIAL = "a new login or import arrived"
    BENCHED = "a cooldown began or grew, or the account needs a login"


IDLE, REFRESHING, REFRESHED = RefreshState.IDLE, RefreshState.REFRESHING, RefreshState.REFRESHED
E = RefreshEvent

# A refresh in flight is joined, never started twice (refresh tokens are single-use). A
# success nobody asked for (a proactive refresh, or a caller whose token was already replaced)
# leaves IDLE alone: only a 401 that asked makes the next 401 the account's fault. ASKED has no
# row from REFRESHED: there the account machine cools the account instead of asking again.
# A 401 spends a success (after the cooldown, a 401 refreshes again) but not a refresh in
# flight. A working credential, a new one, or an account taken out of the pool starts over.
REFRESH_TRANSITIONS: Final[Mapping[tuple[RefreshState, RefreshEvent], RefreshState]] = {
    (IDLE, E.ASKED): REFRESHING,
    (REFRESHING, E.ASKED): REFRESHING,
    (IDLE, E.REFRESH_SUCCEEDED): IDLE,
    (REFRESHING, E.REFRESH_SUCCEEDED): REFRESHED,
    (REFRESHED, E.REFRESH_SUCCEEDED): REFRESHED,
    (IDLE, E.UNAUTHORIZED): IDLE,
    (REFRESHING, E.UNAUTHORIZED): REFRESHING,
    (REFRESHED, E.UNAUTHORIZED): IDLE,
    **{(state, E.ANSWERED): IDLE for state in RefreshState},
    **{(state, E.NEW_CREDENTIAL): IDLE for state in RefreshState},
    **{(state, E.BENCHED): IDLE for state in RefreshState},
}

# The outcome that tells the exchange something by itself. ASKED and BENCHED are not here:
# they follow from the account machine's own decisions (a refresh asked, a cooldown begun).
OUTCOME_EVENTS: Final[Mapping[OutcomeKind, RefreshEvent]] = {
    OutcomeKind.SUCCESS: E.ANSWERED,
    OutcomeKind.CREDENTIAL_REPLACED: E.NEW_CREDENTIAL,
    OutcomeKind.REFRESH_OK: E.REFRESH_SUCCEEDED,
    OutcomeKind.UNAUTHORIZED: E.UNAUTHORIZED,
}


def next_refresh_state(state: RefreshState, event: RefreshEvent) -> RefreshState:
    """The row for (state, event); InvalidTransition when there is none."""
    target = REFRESH_TRANSITIONS.get((state, event))
    if target is None:
        raise InvalidTransition(f"refresh exchange: {event} in {state}")
    return target
