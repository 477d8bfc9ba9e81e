"""PURE text helpers shared by the CLI views: bars, durations, sizes, widths, columns, colors.

Widths are counted in terminal cells. East Asian wide characters count 2; every other printable
character counts 1 (zero-width marks too, which over-counts and so never overflows a line).
Control and format characters are replaced before measuring, so text taken from config or from
the server can neither break a line nor smuggle an escape sequence onto the terminal.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Sequence
from typing import Final

BAR_WIDTH: Final = 24
BAR_FILLED: Final = "█"
BAR_EMPTY: Final = "·"
ELLIPSIS: Final = "…"
MISSING: Final = "-"
REPLACEMENT: Final = "?"
COLUMN_GAP: Final = "  "

MINUTE_S: Final = 60
HOUR_S: Final = 60 * MINUTE_S
DAY_S: Final = 24 * HOUR_S
AGO_DECIMALS_BELOW_S: Final = 10.0

BYTE_UNITS: Final = ("kB", "MB", "GB", "TB", "PB")  # SI: 1 kB = 1000 B
BYTES_PER_UNIT: Final = 1000

# ANSI SGR sequences, by the role they play in a view.
RESET: Final = "\x1b[0m"
GREEN: Final = "\x1b[32m"
YELLOW: Final = "\x1b[33m"
RED: Final = "\x1b[31m"
BOLD: Final = "\x1b[1m"
DIM: Final = "\x1b[2m"


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A fill bar: `fraction` (clamped to 0..1; None counts as 0) of `width` cells filled."""
    width = max(width, 0)
    value = min(max(fraction or 0.0, 0.0), 1.0)
    filled = round(value * width)
    return BAR_FILLED * filled + BAR_EMPTY * (width - filled)


def format_duration(seconds: float, *, round_up: bool = False) -> str:
    """Two units at most: "45s", "3m 07s", "2h 05m", "3d 4h". Negative durations show as "0s".

    Whole seconds are truncated, or rounded up with `round_up` (a countdown at 0.3 s says "1s")."""
    if not math.isfinite(seconds):
        return MISSING
    total = max(0, math.ceil(seconds) if round_up else math.floor(seconds))
    if total < MINUTE_S:
        return f"{total}s"
    if total < HOUR_S:
        return f"{total // MINUTE_S}m {total % MINUTE_S:02d}s"
    if total < DAY_S:
        return f"{total // HOUR_S}h {total % HOUR_S // MINUTE_S:02d}m"
    return f"{total // DAY_S}d {total % DAY_S // HOUR_S}h"


def format_ago(seconds: float) -> str:
    """How long ago: "0.8s ago" under ten seconds, then "12s ago", "3m 07s ago"."""
    if not math.isfinite(seconds):
        return MISSING
    seconds = max(seconds, 0.0)
    if seconds < AGO_DECIMALS_BELOW_S:
        return f"{seconds:.1f}s ago"
    return f"{format_duration(seconds)} ago"


def format_bytes(count: float) -> str:
    """SI sizes with one decimal: "512 B", "41.0 MB", "1.2 GB"."""
    if not math.isfinite(count):
        return MISSING
    if abs(count) < BYTES_PER_UNIT:
        return f"{round(count)} B"
    value = float(count)
    for unit in BYTE_UNITS:
        value /= BYTES_PER_UNIT
        if abs(round(value, 1)) < BYTES_PER_UNIT:
            return f"{value:.1f} {unit}"
    return f"{value:.1f} {BYTE_UNITS[-1]}"


def clean(text: object) -> str:
    """`text` as a single printable line: control, format, surrogate and unassigned characters
    become "?", line and paragraph separators become a space."""
    out = []
    for char in str(text):
        category = unicodedata.category(char)
        if category in ("Zl", "Zp"):
            out.append(" ")
        elif category.startswith("C"):
            out.append(REPLACEMENT)
        else:
            out.append(char)
    return "".join(out)


def _char_cells(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Terminal cells `text` occupies (never less than len(text))."""
    return sum(_char_cells(char) for char in text)


def truncate(text: str, cells: int) -> str:
    """`text` cut to at most `cells` cells, ending in "…" when something was cut."""
    if cell_width(text) <= cells:
        return text
    if cells <= 0:
        return ""
    budget = cells - 1  # room for the ellipsis
    kept: list[str] = []
    for char in text:
        need = _char_cells(char)
        if need > budget:
            break
        kept.append(char)
        budget -= need
    return "".join(kept) + ELLIPSIS


def pad(text: str, cells: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `cells` cells, on the left when `right` (right-aligned)."""
    fill = " " * max(cells - cell_width(text), 0)
    return fill + text if right else text + fill


def spread(left: str, right: str, width: int) -> str:
    """`left` and `right` on one line of exactly `width` cells, `right` flush with the edge.

    The caller makes sure they fit; if they don't, they are separated by a single space."""
    gap = max(width - cell_width(left) - cell_width(right), 1)
    return left + " " * gap + right


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right_aligned: Collection[int] = (),
) -> list[str]:
    """Columns as wide as their widest cell (header included), separated by two spaces.

    Columns whose index is in `right_aligned` are right-aligned; trailing spaces are dropped."""
    widths = [cell_width(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], cell_width(cell))
    lines = []
    for row in (headers, *rows):
        cells = [
            pad(cell, widths[index], right=index in right_aligned) for index, cell in enumerate(row)
        ]
        lines.append(COLUMN_GAP.join(cells).rstrip())
    return lines


def paint(text: str, sgr: str | None, *, color: bool) -> str:
    """`text` wrapped in the ANSI sequence `sgr` when `color` is on, unchanged otherwise."""
    if not color or not sgr or not text:
        return text
    return f"{sgr}{text}{RESET}"
