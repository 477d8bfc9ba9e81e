"""PURE rendering of GET /status JSON (SPEC §8) for `shunt status` (once, or redrawn by --watch).

The clock is the server's own `status["now"]`, so countdowns agree with the JSON they came from.
Every line is built from (text, color) segments: the plain text is measured and fitted to the
width first, and colors are applied last, so `color=True` never changes what the text says.
"""

from __future__ import annotations

import shlex
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from shunt.cli.views.text import (
    BOLD,
    DIM,
    GREEN,
    RED,
    YELLOW,
    bar,
    cell_width,
    clean,
    format_duration,
    paint,
    truncate,
)

Segment = tuple[str, str | None]  # text, ANSI SGR sequence (None = uncolored)

STATUS_COLORS: Final[Mapping[str, str]] = {
    "ready": GREEN,
    "cooling": YELLOW,
    "starting": YELLOW,  # hot-added or respawning: its worker is not up yet
    "overage": YELLOW,
    "exhausted": RED,
    "reauth_required": RED,
    "disabled": RED,
}
STATUS_LABELS: Final[Mapping[str, str]] = {"reauth_required": "reauth required"}
# Window key, label, shown even before any data arrived.
WINDOWS: Final = (
    ("five_hour", "5h", True),
    ("seven_day", "7d", True),
    ("seven_day_oi", "7d oi", False),
)
PLAN_WINDOWS: Final = ("five_hour", "seven_day")  # the ones that make an account "exhausted"
WARNING = "allowed_warning"
REJECTED = "rejected"

INDENT: Final = "  "
GAP: Final = "  "
MIN_LAYOUT_CELLS: Final = 78  # right-aligned status words line up here on wide terminals
LABEL_CELLS: Final = 5
PERCENT_CELLS: Final = 11  # "no data yet"
WINDOW_LINE_FIXED_CELLS: Final = 54  # everything on a window line except the bar
MIN_BAR_CELLS: Final = 8
MAX_BAR_CELLS: Final = 24
MIN_EMAIL_CELLS: Final = 8  # below this an email is dropped rather than cut to a stub
MAX_PLAN_CELLS: Final = 16
PINNED_TAG: Final = " [pinned]"
UNSAVED_FLAG: Final = ", credential not saved"

NO_ACCOUNTS_HINT: Final = (
    "No accounts yet. Add one with:",
    f"{INDENT}shunt add NAME --credentials-file FILE",
    f"{INDENT}shunt import    (adopt Claude Code's own login)",
)


def render_status(status: Mapping[str, Any], *, color: bool = False, width: int = 80) -> str:
    """The human view of /status: a header line, then one block per account.

    No line is wider than `width` cells; with `color=False` there are no escape sequences."""
    now = _number(status.get("now")) or 0.0
    pinned = status.get("pinned")
    accounts: Sequence[Mapping[str, Any]] = status.get("accounts") or []
    lines = [_render(_header(status, now), width, color=color)]
    if not accounts:
        lines.append("")
        lines += [_render([(text, None)], width, color=color) for text in NO_ACCOUNTS_HINT]
        return "\n".join(lines)
    layout = _layout_cells(accounts, pinned, now, width)
    for account in accounts:
        lines.append("")
        block = _account_block(account, pinned=account.get("name") == pinned, now=now, cells=layout)
        lines += [_render(line, width, color=color) for line in block]
    return "\n".join(lines)


# -- header and layout ------------------------------------------------------------------------


def _header(status: Mapping[str, Any], now: float) -> list[Segment]:
    segments: list[Segment] = [(f"shunt {clean(status.get('version') or '?')}", BOLD)]
    started_at = _number(status.get("started_at"))
    if started_at is not None:
        segments.append((f"{GAP}up {format_duration(now - started_at)}", None))
    if status.get("strategy"):
        segments.append((f"{GAP}strategy: {clean(status['strategy'])}", None))
    pinned = status.get("pinned")
    if pinned:
        segments += [(f"{GAP}pinned: ", None), (clean(pinned), BOLD)]
    else:
        segments.append((f"{GAP}routing: automatic", None))
    return segments


def _layout_cells(
    accounts: Iterable[Mapping[str, Any]], pinned: object, now: float, width: int
) -> int:
    """The width account blocks are laid out in: wide enough for every title and overage line,
    at least MIN_LAYOUT_CELLS, never more than the terminal; right-aligned parts line up on it."""
    natural = MIN_LAYOUT_CELLS
    for account in accounts:
        title = _title_parts(account, pinned=account.get("name") == pinned)
        phrase = _status_phrase(account, now)
        natural = max(natural, sum(cell_width(part) for part in title) + 2 + cell_width(phrase))
        overage = _overage_text(account.get("overage") or {}, now)[0]
        natural = max(natural, cell_width(_overage_label(overage) + GAP + _counters(account)))
    return min(width, natural)


# -- one account --------------------------------------------------------------------------------


def _account_block(
    account: Mapping[str, Any], *, pinned: bool, now: float, cells: int
) -> list[list[Segment]]:
    lines = [_title_line(account, pinned=pinned, now=now, cells=cells)]
    bar_cells = min(max(cells - WINDOW_LINE_FIXED_CELLS, MIN_BAR_CELLS), MAX_BAR_CELLS)
    for key, label, always in WINDOWS:
        window = _window(account, key)
        if always or any(window.get(field) is not None for field in ("utilization", "status")):
            lines.append(_window_line(label, window, now=now, bar_cells=bar_cells))
    lines += _overage_lines(account, now=now, cells=cells)
    lines += _remedy_lines(account)
    lines += _unsaved_lines(account, cells=cells)
    return lines


def _title_parts(account: Mapping[str, Any], *, pinned: bool) -> list[str]:
    """Name (with the pinned tag), "<email>" and plan, each with its leading gap; "" if absent."""
    name = clean(account.get("name") or "?")
    email = clean(account.get("email") or "")
    plan = truncate(clean(account.get("plan") or ""), MAX_PLAN_CELLS)
    return [
        name + (PINNED_TAG if pinned else ""),
        f"{GAP}<{email}>" if email else "",
        f"{GAP}{plan}" if plan else "",
    ]


def _title_line(
    account: Mapping[str, Any], *, pinned: bool, now: float, cells: int
) -> list[Segment]:
    status = str(account.get("status") or "unknown")
    phrase = truncate(_status_phrase(account, now), max(cells // 2, 1))
    name, email, plan = _fit_title(account, pinned=pinned, budget=cells - 2 - cell_width(phrase))
    left_cells = sum(cell_width(part) for part in (name, email, plan))
    tag = PINNED_TAG if pinned and name.endswith(PINNED_TAG) else ""
    return [
        (name.removesuffix(tag) if tag else name, BOLD),
        (tag, YELLOW),
        (email, DIM),
        (plan, None),
        (" " * max(cells - left_cells - cell_width(phrase), 1), None),
        (phrase, STATUS_COLORS.get(status)),
    ]


def _fit_title(account: Mapping[str, Any], *, pinned: bool, budget: int) -> tuple[str, str, str]:
    """Name, email and plan within `budget` cells: the email gives way first, then the plan,
    then the name (which keeps its pinned tag)."""
    name, email, plan = _title_parts(account, pinned=pinned)

    def total() -> int:
        return cell_width(name) + cell_width(email) + cell_width(plan)

    if total() <= budget:
        return name, email, plan
    if email:
        room = budget - cell_width(name) - cell_width(plan) - len(GAP) - 2  # the angle brackets
        address = clean(account.get("email") or "")
        email = f"{GAP}<{truncate(address, room)}>" if room >= MIN_EMAIL_CELLS else ""
    if total() > budget:
        plan = ""
    if total() > budget:
        tag = PINNED_TAG if pinned else ""
        bare = name.removesuffix(tag) if tag else name
        name = truncate(bare, max(budget - cell_width(tag), 1)) + tag
    return name, email, plan


def _status_phrase(account: Mapping[str, Any], now: float) -> str:
    """The status word plus what a human wants next: how long, and why."""
    status = str(account.get("status") or "unknown")
    reason = clean(account.get("reason") or "")
    phrase = _status_label(status)
    if status == "cooling":
        until = _number(account.get("cooldown_until"))
        if until is not None and until > now:
            phrase += f" {format_duration(until - now, round_up=True)}"
    elif status == "exhausted":
        claim = account.get("representative_claim")
        details = [clean(claim)] if claim else []
        back = _back_at(account, now)
        if back is not None:
            details.append(f"back in {format_duration(back - now, round_up=True)}")
        return f"{phrase} ({', '.join(details)})" if details else phrase
    if reason and status in ("cooling", "reauth_required", "disabled"):
        phrase += f" ({reason})"
    if account.get("credential_not_saved"):
        phrase += UNSAVED_FLAG
    return clean(phrase)


def _back_at(account: Mapping[str, Any], now: float) -> float | None:
    """When every spent plan window has reset; None when a reset is unknown."""
    resets: list[float | None] = []
    for key in PLAN_WINDOWS:
        window = _window(account, key)
        used = _number(window.get("utilization"))
        reset = _number(window.get("resets_at"))
        if reset is not None and reset <= now:
            continue
        if window.get("status") == REJECTED or (used is not None and used >= 1.0):
            resets.append(reset)
    if not resets or any(reset is None for reset in resets):
        return None
    return max(reset for reset in resets if reset is not None)


def _window_line(
    label: str, window: Mapping[str, Any], *, now: float, bar_cells: int
) -> list[Segment]:
    reset = _number(window.get("resets_at"))
    if reset is not None and reset <= now:
        # The window rolled over after the last report: the old numbers no longer apply.
        segments: list[Segment] = [
            (f"{INDENT}{label:<{LABEL_CELLS}}{GAP}", None),
            (bar(None, bar_cells), None),
            (f"{GAP}new window", None),
        ]
        return segments
    used = _number(window.get("utilization"))
    state = window.get("status")
    spent = state == REJECTED or (used is not None and used >= 1.0)
    alarm = RED if spent else YELLOW if state == WARNING else None
    percent = "no data yet" if used is None else f"{_percent_left(used):>3}% left"
    segments = [
        (f"{INDENT}{label:<{LABEL_CELLS}}{GAP}", None),
        (bar(used, bar_cells), alarm),
        (f"{GAP}{percent:<{PERCENT_CELLS}}", None),
    ]
    if reset is not None:
        segments.append((f" resets in {format_duration(reset - now, round_up=True)}", None))
    if state == WARNING:
        segments.append((f"{GAP}warning", YELLOW))
    elif state == REJECTED:
        segments.append((f"{GAP}rejected", RED))
    return segments


def _overage_lines(account: Mapping[str, Any], *, now: float, cells: int) -> list[list[Segment]]:
    text, alarm = _overage_text(account.get("overage") or {}, now)
    counters = _counters(account)
    label = _overage_label("")
    if cell_width(label) + cell_width(text) + len(GAP) + cell_width(counters) <= cells:
        gap = cells - cell_width(label) - cell_width(text) - cell_width(counters)
        return [[(label, None), (text, alarm), (" " * gap, None), (counters, None)]]
    return [[(label, None), (text, alarm)], [(INDENT + counters, None)]]


def _overage_label(text: str) -> str:
    return f"{INDENT}overage: {text}"


def _counters(account: Mapping[str, Any]) -> str:
    return (
        f"served {_count(account.get('requests_served'))}{GAP}"
        f"errors {_count(account.get('errors'))}{GAP}"
        f"in flight {_count(account.get('in_flight'))}"
    )


def _overage_text(overage: Mapping[str, Any], now: float) -> tuple[str, str | None]:
    disabled = overage.get("disabled_reason")
    state = overage.get("status")
    used = _number(overage.get("utilization"))
    if disabled:
        return f"off ({clean(disabled)})", None
    if state is None and used is None:
        return "off", None
    alarm: str | None = None
    if state == REJECTED:
        parts, alarm = ["spent"], RED
    elif overage.get("in_use"):
        parts, alarm = ["in use"], YELLOW
    else:
        parts = ["on"]
    if state == WARNING:
        parts.append("warning")
        alarm = alarm or YELLOW
    if used is not None:
        parts.append(f"{round(used * 100)}% used")
    reset = _number(overage.get("resets_at"))
    if reset is not None and reset > now:
        parts.append(f"resets in {format_duration(reset - now, round_up=True)}")
    return ", ".join(parts), alarm


def _remedy_lines(account: Mapping[str, Any]) -> list[list[Segment]]:
    """The command that fixes an account that waiting will not fix."""
    status = account.get("status")
    name = shlex.quote(clean(account.get("name") or "NAME"))
    if status == "reauth_required":
        return [
            [(f"{INDENT}run: ", None), (f"shunt login {name}", BOLD)],
            # `shunt import` refreshes an account whose login came from Claude Code.
            [
                (f"{INDENT} or: ", None),
                ("shunt import", BOLD),
                (" (if it came from Claude Code)", None),
            ],
        ]
    if status == "disabled":
        return [[(f"{INDENT}run: ", None), (f"shunt enable {name}", BOLD)]]
    return []


def _unsaved_lines(account: Mapping[str, Any], *, cells: int) -> list[list[Segment]]:
    """Why a refreshed credential is not on disk and what to do, wrapped (never cut)."""
    unsaved = account.get("credential_not_saved")
    if not isinstance(unsaved, Mapping):
        return []
    deeper = INDENT * 2
    room = max(cells - len(deeper), 20)

    def wrapped(text: object) -> list[list[Segment]]:
        parts = textwrap.wrap(
            clean(text or "?"), room, break_long_words=False, break_on_hyphens=False
        )
        return [[(deeper + part, None)] for part in parts]

    return [
        [(f"{INDENT}credential not saved:", RED)],
        *wrapped(unsaved.get("reason")),
        [(f"{INDENT}fix:", None)],
        *wrapped(unsaved.get("fix")),
    ]


# -- small helpers ------------------------------------------------------------------------------


def _render(segments: Sequence[Segment], width: int, *, color: bool) -> str:
    """Join segments into a line of at most `width` cells without trailing spaces.

    A line that would overflow (only on terminals too narrow for the layout) is cut, uncolored."""
    kept = [(text, sgr) for text, sgr in segments if text]
    while kept and not kept[-1][0].rstrip():
        kept.pop()
    if kept:
        kept[-1] = (kept[-1][0].rstrip(), kept[-1][1])
    plain = "".join(text for text, _ in kept)
    if cell_width(plain) > width:
        return truncate(plain, width)
    return "".join(paint(text, sgr, color=color) for text, sgr in kept)


def _window(account: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    windows: Mapping[str, Any] = account.get("windows") or {}
    window: Mapping[str, Any] = windows.get(key) or {}
    return window


def _percent_left(used: float) -> int:
    return max(0, round(100 - used * 100))


def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status, clean(status))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _count(value: object) -> str:
    number = _number(value)
    return "-" if number is None else str(round(number))
