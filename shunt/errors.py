"""The one exception tree of shunt. Messages say what went wrong, where, and the fix."""

from __future__ import annotations


class ShuntError(Exception):
    """Base of every error shunt raises on purpose."""


class ConfigError(ShuntError):
    """config.toml is unreadable or holds a bad value; nothing was overwritten."""


class CredentialsError(ShuntError):
    """credentials.json (or an imported credential) is unreadable or malformed."""


class FrameError(ShuntError):
    """An IPC frame could not be decoded. The adapter logs it and drops the frame."""


class FatalFrameError(FrameError):
    """The byte stream itself is broken (bad length prefix): the channel cannot resync."""


class InvalidTransition(ShuntError):
    """The account state machine was fed an outcome it has no row for; state is unchanged."""


class RefreshRejected(ShuntError):
    """The OAuth server refused the refresh token itself (invalid_grant): re-login needed."""


class RefreshFailed(ShuntError):
    """A token refresh failed for a reason that may pass (network, 5xx, 429)."""


class RequestLogError(ShuntError):
    """The request log's database cannot be opened, read or written; the message names it."""
