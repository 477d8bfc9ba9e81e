"""`shunt status` text: one block per account, fitted to the terminal, colors optional."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shunt.cli.views import render_status
from shunt.cli.views.text import (
    GREEN,
    RED,
    YELLOW,
    bar,
    cell_width,
    clean,
    format_duration,
)

NOW = 1_795_300_000.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STATUSES = ("ready", "cooling", "exhausted", "overage", "disabled", "reauth_required")


def window(
    utilization: float | None = None, resets_in: float | None = None, status: str | None = None
) -> dict[str, Any]:
    return {
        "utilization": utilization,
        "resets_at": None if resets_in is None else NOW + resets_in,
        "status": status,
    }


def account(name: str = "alice", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "email": f"{name}@example.com",
        "plan": "max",
        "status": "ready",
        "state": "ready",
        "reason": "",
        "unavailable_reason": None,
        "cooldown_until": None,
        "windows": {
            "five_hour": window(0.52, 7500, "allowed"),
            "seven_day": window(0.12, 3 * 86400 + 4 * 3600 + 30, "allowed"),
            "seven_day_oi": window(),
        },
        "overage": {
            **window(),
            "in_use": False,
            "disabled_reason": "overage_not_provisioned",
        },
        "representative_claim": "five_hour",
        "data_observed_at": NOW - 3,
        "tokens": {"input": 10, "output": 20, "cache_read": 0, "cache_creation": 0},
        "requests_served": 120,
        "errors": 0,
        "in_flight": 1,
        "worker": {"pid": 4242, "restarts": 0},
    }
    base.update(overrides)
    return base


def status(*accounts: dict[str, Any], pinned: str | None = None) -> dict[str, Any]:
    return {
        "version": "0.1.0",
        "started_at": NOW - 7530,
        "now": NOW,
        "pinned": pinned,
        "strategy": "least_used",
        "accounts": list(accounts),
        "recent_requests": [],
    }


def title(text: str, name: str = "alice") -> str:
    return next(line for line in text.splitlines() if line.startswith(name))


def line_for(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"  {label} "))


# -- layout ------------------------------------------------------------------------------------


def test_ready_account_block_layout():
    assert render_status(status(account())).splitlines() == [
        "shunt 0.1.0  up 2h 05m  strategy: least_used  routing: automatic",
        "",
        "alice  <alice@example.com>  max" + " " * 42 + "ready",
        "  5h     ████████████············   48% left   resets in 2h 05m",
        "  7d     ███·····················   88% left   resets in 3d 4h",
        "  overage: off (overage_not_provisioned)     served 120  errors 0  in flight 1",
    ]


def test_blocks_are_separated_and_status_words_line_up():
    text = render_status(status(account("alice"), account("bob", status="cooling")))
    lines = text.splitlines()
    assert lines.count("") == 2
    ends = {len(title(text, name)) for name in ("alice", "bob")}
    assert ends == {78}  # MIN_LAYOUT_CELLS: fits 80 columns with a margin


# -- status words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "phrase"),
    [
        pytest.param({}, "ready", id="ready"),
        pytest.param(
            {"status": "cooling", "reason": "529 overloaded", "cooldown_until": NOW + 41.2},
            "cooling 42s (529 overloaded)",
            id="cooling",
        ),
        pytest.param({"status": "cooling", "cooldown_until": None}, "cooling", id="cooling-no-end"),
        pytest.param(
            {
                "status": "exhausted",
                "windows": {"five_hour": window(1.0, 600, "rejected"), "seven_day": window(0.4)},
            },
            "exhausted (five_hour, back in 10m 00s)",
            id="exhausted",
        ),
        pytest.param(
            {"status": "exhausted", "representative_claim": None, "windows": {}},
            "exhausted",
            id="exhausted-unknown-reset",
        ),
        pytest.param({"status": "overage"}, "overage", id="overage"),
        pytest.param({"status": "disabled"}, "disabled", id="disabled"),
        pytest.param(
            {"status": "reauth_required", "reason": "invalid_grant"},
            "reauth required (invalid_grant)",
            id="reauth_required",
        ),
    ],
)
def test_status_phrase_ends_the_title_line(overrides, phrase):
    line = title(render_status(status(account(**overrides))))
    assert line.endswith(f"  {phrase}")


def test_reauth_required_shows_the_fix():
    text = render_status(status(account(status="reauth_required", reason="invalid_grant")))
    assert "  run: shunt login alice" in text.splitlines()
    assert "   or: shunt import (if it came from Claude Code)" in text.splitlines()


def test_fix_quotes_an_awkward_name():
    text = render_status(status(account("my acct", status="reauth_required")))
    assert "  run: shunt login 'my acct'" in text.splitlines()


def test_disabled_shows_how_to_enable():
    text = render_status(status(account(status="disabled")))
    assert "  run: shunt enable alice" in text.splitlines()
    assert "shunt login" not in text


@pytest.mark.parametrize("word", ["ready", "cooling", "exhausted", "overage"])
def test_no_fix_when_waiting_fixes_it(word):
    assert "run:" not in render_status(status(account(status=word)))


# -- windows ------------------------------------------------------------------------------------


def test_null_windows_say_no_data_yet():
    text = render_status(status(account(windows={"five_hour": window(), "seven_day": window()})))
    assert line_for(text, "5h").endswith(f"{bar(None)}  no data yet")
    assert line_for(text, "7d").endswith("no data yet")
    assert "resets in" not in text


def test_missing_windows_are_treated_as_null():
    text = render_status(status(account(windows={}, overage={})))
    assert line_for(text, "5h").endswith("no data yet")
    assert "  overage: off" in text


@pytest.mark.parametrize(
    ("utilization", "left"),
    [(0.0, "100% left"), (0.52, " 48% left"), (0.999, "  0% left"), (1.3, "  0% left")],
)
def test_percent_left_is_remaining_and_never_negative(utilization, left):
    text = render_status(status(account(windows={"five_hour": window(utilization, 60)})))
    assert f"  {left}" in line_for(text, "5h")


def test_bar_fill_is_the_used_part():
    text = render_status(status(account(windows={"five_hour": window(0.25, 60)})))
    assert "██████··················" in line_for(text, "5h")


def test_a_window_that_reset_since_the_report_shows_as_new():
    windows = {"five_hour": window(1.2, -5, "rejected"), "seven_day": window(0.3, 86400)}
    line = line_for(render_status(status(account(windows=windows))), "5h")
    assert line.endswith("new window")
    assert "rejected" not in line
    assert "0% left" not in line


def test_countdown_omitted_when_unknown():
    text = render_status(status(account(windows={"five_hour": window(0.5)})))
    assert "resets" not in line_for(text, "5h")


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (45, "45s"),
        (41.2, "42s"),
        (187, "3m 07s"),
        (7500, "2h 05m"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
    ],
)
def test_window_countdown_units(seconds, shown):
    text = render_status(status(account(windows={"five_hour": window(0.5, seconds)})))
    assert line_for(text, "5h").endswith(f"resets in {shown}")


def test_weekly_model_window_only_when_reported():
    assert "7d oi" not in render_status(status(account()))
    windows = {"seven_day_oi": window(0.9, 3600, "allowed_warning")}
    line = line_for(render_status(status(account(windows=windows))), "7d oi")
    assert " 10% left" in line
    assert line.endswith("warning")


def test_rejected_window_is_flagged():
    windows = {"five_hour": window(1.0, 60, "rejected")}
    assert line_for(render_status(status(account(windows=windows))), "5h").endswith("rejected")


@pytest.mark.parametrize(
    ("seconds", "kwargs", "shown"),
    [
        (0, {}, "0s"),
        (-5, {}, "0s"),
        (45, {}, "45s"),
        (59.9, {}, "59s"),
        (59.1, {"round_up": True}, "1m 00s"),
        (60, {}, "1m 00s"),
        (187, {}, "3m 07s"),
        (3599, {}, "59m 59s"),
        (3600, {}, "1h 00m"),
        (7530, {}, "2h 05m"),
        (86399, {}, "23h 59m"),
        (86400, {}, "1d 0h"),
        (3 * 86400 + 4 * 3600 + 59, {}, "3d 4h"),
        (float("inf"), {}, "-"),
    ],
)
def test_format_duration(seconds, kwargs, shown):
    assert format_duration(seconds, **kwargs) == shown


# -- overage and counters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overage", "shown"),
    [
        pytest.param(
            {"disabled_reason": "org_level_disabled"}, "off (org_level_disabled)", id="off-why"
        ),
        pytest.param({}, "off", id="off"),
        pytest.param({"status": "allowed", "in_use": False}, "on", id="on"),
        pytest.param(
            {"status": "allowed", "in_use": True, "utilization": 0.1, "resets_at": NOW + 100},
            "in use, 10% used, resets in 1m 40s",
            id="in-use",
        ),
        pytest.param({"status": "allowed_warning", "in_use": True}, "in use, warning", id="warn"),
        pytest.param({"status": "rejected", "utilization": 1.0}, "spent, 100% used", id="spent"),
    ],
)
def test_overage_line(overage, shown):
    text = render_status(status(account(overage=overage)))
    line = next(line for line in text.splitlines() if line.startswith("  overage: "))
    assert line.startswith(f"  overage: {shown}  ")
    assert line.endswith("served 120  errors 0  in flight 1")


def test_counters_move_to_their_own_line_when_narrow():
    overage = {"disabled_reason": "x" * 40}
    lines = render_status(status(account(overage=overage)), width=60).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  overage: "))
    assert lines[index + 1] == "  served 120  errors 0  in flight 1"


# -- pinning, header, empty pool ---------------------------------------------------------------


def test_pinned_account_is_marked():
    text = render_status(status(account("alice"), account("bob"), pinned="bob"))
    assert text.splitlines()[0].endswith("pinned: bob")
    assert title(text, "bob").startswith("bob [pinned]  <bob@example.com>")
    assert "[pinned]" not in title(text, "alice")


def test_automatic_routing_in_header():
    first = render_status(status(account())).splitlines()[0]
    assert first.endswith("routing: automatic")
    assert "up 2h 05m" in first


def test_no_accounts_says_how_to_add_one():
    text = render_status(status())
    assert "shunt add NAME --credentials-file FILE" in text
    assert "shunt import" in text


# -- color -------------------------------------------------------------------------------------


def test_no_escape_codes_without_color():
    every = [account(f"a{i}", status=word) for i, word in enumerate(STATUSES)]
    assert "\x1b" not in render_status(status(*every, pinned="a0"), color=False)


@pytest.mark.parametrize(
    ("word", "sgr"),
    [
        ("ready", GREEN),
        ("cooling", YELLOW),
        ("overage", YELLOW),
        ("exhausted", RED),
        ("disabled", RED),
        ("reauth_required", RED),
    ],
)
def test_status_word_colors(word, sgr):
    line = render_status(status(account(status=word)), color=True).splitlines()[2]
    assert sgr in line
    assert line.rstrip().endswith("\x1b[0m")


def test_warning_window_is_yellow():
    windows = {"five_hour": window(0.8, 60, "allowed_warning")}
    text = render_status(status(account(windows=windows)), color=True)
    assert f"{YELLOW}  warning" in text


def test_color_changes_nothing_but_escapes():
    every = [account(f"a{i}", status=word) for i, word in enumerate(STATUSES)]
    shown = status(*every, pinned="a1")
    assert ANSI.sub("", render_status(shown, color=True)) == render_status(shown)


def test_names_cannot_inject_escapes_or_lines():
    evil = account("ev\x1b[31mil\nname", email="a\u2028b@x", reason="\r\x07")
    plain = render_status(status(evil, pinned="ev\x1b[31mil\nname"))
    assert "\x1b" not in plain
    assert "ev?[31mil?name" in plain
    assert len(plain.splitlines()) == len(render_status(status(account())).splitlines())


# -- width -------------------------------------------------------------------------------------

TEXT = st.text(max_size=200)


@st.composite
def random_accounts(draw: st.DrawFn) -> dict[str, Any]:
    return account(
        draw(TEXT),
        email=draw(TEXT),
        plan=draw(st.text(max_size=30)),
        status=draw(st.sampled_from(STATUSES)),
        reason=draw(TEXT),
        cooldown_until=NOW + draw(st.floats(0, 10**7)),
        representative_claim=draw(st.sampled_from(["five_hour", None, "seven_day"])),
        requests_served=draw(st.integers(0, 10**12)),
        overage={"disabled_reason": draw(st.none() | TEXT), "status": "allowed"},
    )


@settings(max_examples=200, deadline=None)
@given(
    accounts=st.lists(random_accounts(), max_size=4),
    width=st.integers(60, 200),
    pin=st.booleans(),
)
def test_no_line_exceeds_width(accounts, width, pin):
    pinned = accounts[0]["name"] if pin and accounts else None
    shown = status(*accounts, pinned=pinned)
    plain = render_status(shown, width=width)
    assert "\x1b" not in plain
    for line in plain.splitlines():
        assert len(line) <= cell_width(line) <= width, line
    assert ANSI.sub("", render_status(shown, color=True, width=width)) == plain


@settings(max_examples=100, deadline=None)
@given(name=TEXT, pin=st.booleans())
def test_name_stays_recognizable_at_80(name, pin):
    assume("[pinned]" not in name)
    shown = account(name, email="someone.with.a.long.address@example.com")
    text = render_status(status(shown, pinned=name if pin else None))
    first = text.splitlines()[2]
    assert first.startswith((clean(name) or "?")[:8])
    assert ("[pinned]" in first) == pin


def test_starting_account_is_shown_as_starting():
    text = render_status(status(account(status="starting")))
    assert "starting" in text


UNSAVED = {
    "reason": "/home/u/.config/shunt/credentials.json: cannot write: No space left on device",
    "since": NOW - 60,
    "fix": "make credentials.json writable again (free disk space, fix the file or its "
    "directory): shunt keeps retrying and saves it as soon as it can; stopping shunt before "
    "then loses it, and the account then needs `shunt login alice`",
}


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_credential_not_saved_is_flagged_beside_the_status_with_reason_and_fix(width):
    text = render_status(
        status(account(credential_saved=False, credential_not_saved=UNSAVED)), width=width
    )
    title = next(line for line in text.splitlines() if line.startswith("alice"))
    assert "ready, credential not saved" in title
    flat = " ".join(text.split())
    assert "credential not saved: /home/u/.config/shunt/credentials.json: cannot write" in flat
    assert "No space left on device" in flat  # wrapped, never cut
    assert "fix: make credentials.json writable again" in flat
    assert "shunt login alice" in flat
    assert all(cell_width(line) <= width for line in text.splitlines())


def test_a_saved_credential_shows_no_flag():
    text = render_status(status(account(credential_saved=True, credential_not_saved=None)))
    assert "credential not saved" not in text
