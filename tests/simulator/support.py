"""Shared helpers of the simulator tests (constants, a fake clock, request headers)."""

from __future__ import annotations

from typing import Any

START = 1_700_000_000.0
NET_TIMEOUT_S = 10.0
OAUTH_BETA = "oauth-2025-04-20"
BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def auth_headers(token: str, **extra: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {token}",
        "anthropic-beta": OAUTH_BETA,
        "anthropic-version": "2023-06-01",
        **extra,
    }
