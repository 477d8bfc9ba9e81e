"""The 401 -> refresh -> retry exchange: one named test per row of REFRESH_TRANSITIONS, then
random event sequences against the table's invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shunt.errors import InvalidTransition
from shunt.model.refresh import (
    OUTCOME_EVENTS,
    REFRESH_TRANSITIONS,
    RefreshEvent,
    RefreshState,
    next_refresh_state,
)

IDLE, REFRESHING, REFRESHED = RefreshState.IDLE, RefreshState.REFRESHING, RefreshState.REFRESHED
E = RefreshEvent
# Events after which the exchange starts over, whatever it was doing.
RESETS = (E.ANSWERED, E.NEW_CREDENTIAL, E.BENCHED)


# --- REFRESH_TRANSITIONS, row by row ---------------------------------------------------------


def test_a_first_401_asks_for_a_refresh():
    assert next_refresh_state(IDLE, E.ASKED) is REFRESHING


def test_a_401_during_a_refresh_joins_it():
    assert next_refresh_state(REFRESHING, E.ASKED) is REFRESHING


def test_a_401_right_after_a_refresh_cannot_ask_again():
    with pytest.raises(InvalidTransition, match="ASKED"):
        next_refresh_state(REFRESHED, E.ASKED)


def test_a_refresh_nobody_asked_for_changes_nothing():
    assert next_refresh_state(IDLE, E.REFRESH_SUCCEEDED) is IDLE


def test_the_asked_refresh_succeeding_makes_the_next_401_the_accounts_fault():
    assert next_refresh_state(REFRESHING, E.REFRESH_SUCCEEDED) is REFRESHED


def test_a_second_caller_of_the_same_refresh_reports_it_again():
    assert next_refresh_state(REFRESHED, E.REFRESH_SUCCEEDED) is REFRESHED


def test_a_401_that_asked_nothing_leaves_idle_alone():
    assert next_refresh_state(IDLE, E.UNAUTHORIZED) is IDLE


def test_a_401_that_asked_nothing_leaves_a_refresh_in_flight():
    assert next_refresh_state(REFRESHING, E.UNAUTHORIZED) is REFRESHING


def test_a_401_after_a_refresh_spends_it():
    assert next_refresh_state(REFRESHED, E.UNAUTHORIZED) is IDLE


def test_a_2xx_when_idle_stays_idle():
    assert next_refresh_state(IDLE, E.ANSWERED) is IDLE


def test_a_2xx_during_a_refresh_starts_over():
    assert next_refresh_state(REFRESHING, E.ANSWERED) is IDLE


def test_a_2xx_after_a_refresh_starts_over():
    assert next_refresh_state(REFRESHED, E.ANSWERED) is IDLE


def test_a_new_login_when_idle_stays_idle():
    assert next_refresh_state(IDLE, E.NEW_CREDENTIAL) is IDLE


def test_a_new_login_during_a_refresh_starts_over():
    assert next_refresh_state(REFRESHING, E.NEW_CREDENTIAL) is IDLE


def test_a_new_login_after_a_refresh_starts_over():
    assert next_refresh_state(REFRESHED, E.NEW_CREDENTIAL) is IDLE


def test_a_cooldown_or_logout_when_idle_stays_idle():
    assert next_refresh_state(IDLE, E.BENCHED) is IDLE


def test_a_cooldown_or_logout_during_a_refresh_starts_over():
    assert next_refresh_state(REFRESHING, E.BENCHED) is IDLE


def test_a_cooldown_or_logout_after_a_refresh_starts_over():
    assert next_refresh_state(REFRESHED, E.BENCHED) is IDLE


def test_the_table_has_a_row_for_every_pair_but_asking_after_a_refresh():
    every = {(state, event) for state in RefreshState for event in RefreshEvent}
    assert set(REFRESH_TRANSITIONS) == every - {(REFRESHED, E.ASKED)}


def test_outcomes_feed_the_events_the_machine_does_not_decide_itself():
    assert E.ASKED not in OUTCOME_EVENTS.values()
    assert E.BENCHED not in OUTCOME_EVENTS.values()
    assert len(set(OUTCOME_EVENTS.values())) == len(OUTCOME_EVENTS)


# --- random event sequences ------------------------------------------------------------------


@given(st.lists(st.sampled_from(RefreshEvent), max_size=60))
def test_random_event_sequences_keep_the_tables_invariants(events: list[RefreshEvent]):
    state = IDLE
    asked_since_idle = False  # an ASKED since the exchange was last IDLE
    for event in events:
        if (state, event) not in REFRESH_TRANSITIONS:
            before = state
            with pytest.raises(InvalidTransition):
                state = next_refresh_state(state, event)
            assert state is before  # nothing changed
            assert (state, event) == (REFRESHED, E.ASKED)
            continue
        new = next_refresh_state(state, event)
        if event in RESETS:
            assert new is IDLE
        if state is IDLE and new is not IDLE:
            assert event is E.ASKED  # only a 401 that asked starts the exchange
        if new is REFRESHED:
            assert event is E.REFRESH_SUCCEEDED  # only a success proves the refresh
            assert state is not IDLE  # ... and only a success someone asked for
        if new is REFRESHING and event is not E.ASKED:
            assert (state, event) == (REFRESHING, E.UNAUTHORIZED)  # a 401 that asked nothing
        asked_since_idle = new is not IDLE and (asked_since_idle or event is E.ASKED)
        if new is not IDLE:
            assert asked_since_idle
        state = new
