"""Shared helpers of the simulator tests (constants, a fake clock, request headers)."""

from __future__ import annotations

from typing import Any

START = 1_700_000_000.0
NET_TIMEOUT_S = 10.0
OAUTH_BETA = "oauth-2025-04-20"
MODEL = "claude-sonnet-4-6"
BODY: dict[str, Any] = {
    "model": MODEL,
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


def conversation(*texts: str, **extra: Any) -> dict[str, Any]:
    """A Messages API body: user, assistant, user, … with these texts as string contents."""
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(texts)
    ]
    return {"model": MODEL, "max_tokens": 10, "messages": messages, **extra}


def marked(text: str) -> list[dict[str, Any]]:
    """One text block carrying a prompt-cache marker."""
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]
