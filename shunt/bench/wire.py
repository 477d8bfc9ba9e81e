"""PURE: HTTP/1.1 for the load client: request bytes built once, and the `x-sim-stamp` scan.

Responses are parsed by `shunt.http.client_wire` (the worker's parser too), which costs a few
microseconds per response, so the client is never the bottleneck of the servers it measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

STAMP: Final = re.compile(rb": t=(\d+\.\d+)\n")


def build_request(
    method: str, target: str, host: str, headers: Iterable[tuple[str, str]], body: bytes = b""
) -> bytes:
    """A complete request, ready for `send_all` (built once, sent many times)."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def find_stamps(buffer: bytes | bytearray, start: int) -> tuple[list[float], int]:
    """The send times of the `: t=EPOCH` stamps (x-sim-stamp) complete in buffer[start:], and
    where the next scan should start (just past the last stamp found)."""
    stamps: list[float] = []
    for match in STAMP.finditer(buffer, start):
        stamps.append(float(match.group(1)))
        start = match.end()
    return stamps, start
