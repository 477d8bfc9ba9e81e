"""Fake Claude Code config dirs under tmp_path: never the real home."""

import json
from pathlib import Path

ACCESS = "sk-ant-oat01-imported-access-token-0001"
REFRESH = "sk-ant-ort01-imported-refresh-token-0001"


def write_claude_dir(
    directory: Path,
    *,
    access: str = ACCESS,
    refresh: str | None = REFRESH,
    expires_at: int = 1_900_000_000_000,
    email: str | None = "alice@example.com",
    subscription: str | None = "max",
    tier: str | None = "default_claude_max_5x",
    account_file: Path | None = None,
) -> Path:
    """A config dir with .credentials.json and (when `email`) .claude.json."""
    directory.mkdir(parents=True, exist_ok=True)
    oauth: dict[str, object] = {"accessToken": access, "expiresAt": expires_at, "scopes": []}
    if refresh is not None:
        oauth["refreshToken"] = refresh
    if subscription is not None:
        oauth["subscriptionType"] = subscription
    if tier is not None:
        oauth["rateLimitTier"] = tier
    path = directory / ".credentials.json"
    path.write_text(json.dumps({"claudeAiOauth": oauth, "mcpOAuth": {}}))
    path.chmod(0o600)
    if email is not None:
        target = account_file or directory / ".claude.json"
        target.write_text(json.dumps({"oauthAccount": {"emailAddress": email}, "numStartups": 3}))
    return directory
