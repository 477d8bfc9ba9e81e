"""Claude Code's login on disk (PROTOCOL.md §2), read for `shunt import`.

- `DIR/.credentials.json` → `claudeAiOauth` {accessToken, refreshToken, expiresAt (epoch ms),
  subscriptionType?, rateLimitTier?}; DIR is `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
- `oauthAccount.emailAddress` in `DIR/.claude.json` or `~/.claude.json`.

Reading never writes. Every error names the file and never shows a token. The choices that
decide which shunt account a login becomes (`plan_import`) are pure.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from shunt.accounts.claude.profile import plan_from_tier
from shunt.accounts.credential_input import claude_code_entry
from shunt.errors import CredentialsError
from shunt.model.credential import Credential

CREDENTIALS_FILE: Final = ".credentials.json"
ACCOUNT_FILE: Final = ".claude.json"
DEFAULT_DIR_NAME: Final = ".claude"
FALLBACK_NAME: Final = "claude"
MAX_NAME_CHARS: Final = 64
_NOT_NAME_CHARS: Final = re.compile(r"[^A-Za-z0-9._-]+")


@attrs.frozen
class ClaudeCodeLogin:
    """One Claude Code config dir's login, as read from its files."""

    config_dir: Path
    credential: Credential
    email: str = ""
    plan: str = ""
    extra: Mapping[str, str] = attrs.field(factory=dict)  # subscription_type, rate_limit_tier


def default_config_dir(environ: Mapping[str, str], home: Path) -> Path:
    """Where Claude Code keeps its login: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    configured = environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return Path(configured).expanduser() if configured else home / DEFAULT_DIR_NAME


def read_login(
    config_dir: Path, *, home: Path, probe_home: bool, platform: str = "linux"
) -> ClaudeCodeLogin:
    """Read DIR's credentials file (required) and the login's email (optional).

    The email is looked up in `DIR/.claude.json`, then, when `probe_home`, in
    `~/.claude.json` (Claude Code keeps it there for the default dir, and some versions do
    with CLAUDE_CONFIG_DIR too)."""
    path = config_dir / CREDENTIALS_FILE
    document = _read_json(path, _missing_hint(config_dir, platform))
    if not isinstance(document, dict) or "claudeAiOauth" not in document:
        raise CredentialsError(
            f"{path}: not a Claude Code credentials file (it has no claudeAiOauth login); "
            "log in with Claude Code first (`claude`, then /login), or use `shunt add NAME`"
        )
    credential, extra = claude_code_entry(document["claudeAiOauth"], str(path))
    if not credential.refresh_token:
        raise CredentialsError(
            f"{path}: claudeAiOauth has no refreshToken, so shunt could not keep the login "
            "alive; log in with Claude Code again, or use `shunt add NAME`"
        )
    candidates = [config_dir / ACCOUNT_FILE]
    if probe_home:
        candidates.append(home / ACCOUNT_FILE)
    email = next((e for e in (_email_in(p) for p in candidates) if e), "")
    plan = plan_from_tier(extra.get("rate_limit_tier")) or extra.get("subscription_type", "")
    return ClaudeCodeLogin(config_dir, credential, email, plan, extra)


def _missing_hint(config_dir: Path, platform: str) -> str:
    if platform == "darwin":
        return (
            "Claude Code on macOS keeps its login in the Keychain, not in this file; "
            "use `shunt add NAME` to log in"
        )
    return (
        f"is {config_dir} Claude Code's config dir? Log in with Claude Code first, or name "
        "the right one with --config-dir"
    )


def _read_json(path: Path, missing_hint: str) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CredentialsError(f"{path}: no such file; {missing_hint}") from None
    except IsADirectoryError:
        raise CredentialsError(f"{path}: is a directory, not a credentials file") from None
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:  # exc.msg only: the document may hold tokens
        raise CredentialsError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _email_in(path: Path) -> str:
    """oauthAccount.emailAddress of a `.claude.json`; "" when absent or unreadable (the email
    is a label: a broken file here must not stop an import)."""
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return ""
    account = document.get("oauthAccount") if isinstance(document, dict) else None
    email = account.get("emailAddress") if isinstance(account, dict) else None
    return email.strip() if isinstance(email, str) else ""


# --- which shunt account each login becomes (pure) -------------------------------------------


@attrs.frozen
class Existing:
    """An account shunt already has: its name and what identifies its login."""

    name: str
    email: str = ""
    refresh_token: str = attrs.field(default="", repr=False)
    expires_at_ms: int = 0  # of its stored access token; 0 = none stored


class Keep(enum.Enum):
    """Why an update leaves the stored login as it is."""

    SAME = "the same login is stored already"
    NEWER = (
        "shunt's copy is newer (shunt refreshed it after Claude Code last did, so Claude "
        "Code's refresh token no longer works)"
    )


@attrs.frozen
class ImportStep:
    """Import `login` as account `name`; `update` = that account exists and gets the new pair
    (unless `keep` says why its stored login stays)."""

    login: ClaudeCodeLogin
    name: str
    update: bool
    matched_by: str = ""  # "refresh token", "email" or "name" when update
    keep: Keep | None = None


def account_name(email: str) -> str:
    """The email's local part, cut to shunt's name rule; FALLBACK_NAME when nothing is left."""
    local = email.partition("@")[0]
    name = _NOT_NAME_CHARS.sub("-", local).lstrip("._-")[:MAX_NAME_CHARS].rstrip("-")
    return name or FALLBACK_NAME


def unique_name(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base-2`, `base-3` … whichever is free (names compare ignoring case)."""
    used = {name.casefold() for name in taken}
    if base.casefold() not in used:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: MAX_NAME_CHARS - len(suffix)] + suffix
        if candidate.casefold() not in used:
            return candidate
        n += 1


def plan_import(
    logins: Sequence[ClaudeCodeLogin],
    existing: Sequence[Existing],
    *,
    name: str | None,
    taken: Iterable[str] = (),
) -> list[ImportStep]:
    """Decide, for each login, which account it updates or which new account it becomes.

    The same login is recognized by its refresh token, then by its email: re-importing
    updates that account instead of adding a duplicate (also when NAME differs). A NAME held
    by a different login, or by something that is not a Claude account (`taken`: providers,
    other accounts), is refused rather than overwritten. An account without any login yet
    (no credential, no email) is filled in when NAME names it."""
    known = list(existing)
    reserved = list(taken)
    steps: list[ImportStep] = []
    for login in logins:
        match = _match(login, known)
        if match is not None:
            account, how = match
            step = ImportStep(login, account.name, True, how, _keep(login, account))
        elif name is not None and (holder := _named(name, known, reserved)) is not None:
            step = ImportStep(login, holder.name, update=True, matched_by="name")
        else:
            base = name if name is not None else account_name(login.email)
            names = [*(e.name for e in known), *reserved]
            step = ImportStep(login, unique_name(base, names), update=False)
        steps.append(step)
        known = [e for e in known if e.name != step.name]
        cred = login.credential
        known.append(Existing(step.name, login.email, cred.refresh_token, cred.expires_at_ms))
    return steps


def _keep(login: ClaudeCodeLogin, account: Existing) -> Keep | None:
    """Refresh tokens rotate: of two pairs of one login, the one that expires later was issued
    later, and the earlier one's refresh token is dead. Never replace the newer pair."""
    cred = login.credential
    if cred.refresh_token == account.refresh_token and cred.expires_at_ms == account.expires_at_ms:
        return Keep.SAME
    if account.refresh_token and account.expires_at_ms > cred.expires_at_ms:
        return Keep.NEWER
    return None


def _named(name: str, known: Sequence[Existing], reserved: Sequence[str]) -> Existing | None:
    """The account NAME designates when it may take this login; raises when it may not."""
    if any(r.casefold() == name.casefold() for r in reserved):
        raise CredentialsError(
            f"the name {name!r} is taken by a provider or a non-Claude account; choose another"
        )
    holder = next((e for e in known if e.name.casefold() == name.casefold()), None)
    if holder is not None and (holder.email or holder.refresh_token):
        who = f" ({holder.email})" if holder.email else ""
        raise CredentialsError(
            f"an account named {holder.name!r}{who} already exists with a different login; "
            f"choose another name, or `shunt remove {holder.name}` first"
        )
    return holder


def _match(login: ClaudeCodeLogin, known: Sequence[Existing]) -> tuple[Existing, str] | None:
    token = login.credential.refresh_token
    for account in known:
        if token and account.refresh_token == token:
            return account, "refresh token"
    email = login.email.casefold()
    for account in known:
        if email and account.email.casefold() == email:
            return account, "email"
    return None
