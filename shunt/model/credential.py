"""An account's OAuth credential: the token pair and its expiry."""

from __future__ import annotations

import attrs


@attrs.frozen
class Credential:
    """An account's OAuth token pair. Never logged: its repr hides the tokens."""

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_at_ms: int = 0  # epoch milliseconds, as in credentials.json
