"""The schema of config.toml: typed, frozen settings with their defaults, and the constants that
bound them (choices, name rule, port range).

Only types and values live here; `shunt.config.load` reads a file into them and checks every
key. Durations are floats of seconds (``*_s``), sizes ints of bytes. A setting exists here only
once something uses it: keys for features not built yet are refused by the reader, never kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import attrs

from shunt.model.durations import Durations
from shunt.model.names import NAME_PATTERN as NAME_PATTERN
from shunt.model.names import NAME_RULE as NAME_RULE
from shunt.routing.strategies import DEFAULT_STRATEGY, STRATEGY_NAMES
from shunt.units import HOURS, KIB, MIB, MINUTES, SECONDS

STRATEGIES: Final = STRATEGY_NAMES  # routing owns the names; config accepts exactly those
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
MAX_PORT: Final = 65535
MAX_KEEP_DAYS: Final = 36500  # a hundred years: "keep everything" without a special value

# The usage and profile endpoints live on the API host (PROTOCOL.md §4): unless written in the
# file, their URLs are these paths on [server] upstream_url, so a config that points the
# upstream at a simulator or a gateway never sends its tokens to the real API.
USAGE_PATH: Final = "/api/oauth/usage"
PROFILE_PATH: Final = "/api/oauth/profile"


@attrs.frozen
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8082
    openai: bool = True  # the OpenAI-compatible listener (docs/openai.md)
    openai_port: int = 8083
    log_level: str = "info"
    upstream_url: str = "https://api.anthropic.com"
    remote_key: str | None = attrs.field(default=None, repr=False)
    max_body_bytes: int = 64 * MIB
    drain_timeout_s: float = 30 * SECONDS
    heartbeat_timeout_s: float = 5 * SECONDS  # a worker silent this long is killed and respawned
    write_timeout_s: float = 300 * SECONDS  # a client that reads nothing this long is cut off
    header_timeout_s: float = 30 * SECONDS
    body_timeout_s: float = 300 * SECONDS
    max_header_bytes: int = 64 * KIB
    max_header_count: int = 256  # as the worker's upstream client allows
    # Request written to answer head read; a non-streamed answer's head comes once it is all
    # generated, and Anthropic's SDKs give such a request 10 minutes.
    upstream_head_timeout_s: float = 10 * MINUTES


@attrs.frozen
class RoutingConfig:
    strategy: str = DEFAULT_STRATEGY
    sticky_ttl_s: float = 1 * HOURS  # the longest prompt-cache lifetime
    expiry_soon_s: float = 1 * HOURS
    allow_overage: bool = True


@attrs.frozen
class OpenAiConfig:
    """The OpenAI listener's model map (docs/openai.md): `models` (exact name or glob → Claude
    model, in the file's order) are tried before SPEC §9's defaults; a name no route matches
    passes unchanged when it is claude-*, else goes to `default_model`."""

    models: tuple[tuple[str, str], ...] = ()
    default_model: str = "claude-sonnet-4-6"


@attrs.frozen
class LogConfig:
    """The request log (docs/request-log.md)."""

    keep_days: int = 90  # rows of requests older than this are pruned in the background


@attrs.frozen
class OAuthConfig:
    """Claude Code's OAuth client (PROTOCOL.md §1); configurable so tests use the simulator.

    `usage_url` and `profile_url` are "" when the file does not set them: derived from
    [server] upstream_url. Read them through `Config.oauth`, which fills them in."""

    client_id: str = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
    authorize_url: str = "https://claude.ai/oauth/authorize"
    token_url: str = "https://platform.claude.com/v1/oauth/token"
    redirect_uri: str = "https://platform.claude.com/oauth/code/callback"
    usage_url: str = ""  # "" = {upstream_url}/api/oauth/usage
    profile_url: str = ""  # "" = {upstream_url}/api/oauth/profile
    scopes: tuple[str, ...] = (
        "user:profile",
        "user:inference",
        "user:sessions:claude_code",
        "user:mcp_servers",
        "user:file_upload",
    )

    def on_upstream(self, upstream_url: str) -> OAuthConfig:
        """These settings with the URLs left unset put on the API host `upstream_url`."""
        base = upstream_url.rstrip("/")
        return attrs.evolve(
            self,
            usage_url=self.usage_url or base + USAGE_PATH,
            profile_url=self.profile_url or base + PROFILE_PATH,
        )


@attrs.frozen
class AccountConfig:
    """A Claude account (OAuth), the only kind there is so far."""

    name: str
    plan: str = ""
    enabled: bool = True
    email: str = ""


@attrs.frozen
class Config:
    server: ServerConfig = attrs.Factory(ServerConfig)
    routing: RoutingConfig = attrs.Factory(RoutingConfig)
    # As written: URLs not set are "". Constructed and evolved as `oauth=`; read as `.oauth`.
    oauth_as_written: OAuthConfig = attrs.field(factory=OAuthConfig, alias="oauth")
    cooldowns: Durations = attrs.Factory(Durations)
    log: LogConfig = attrs.Factory(LogConfig)
    openai: OpenAiConfig = attrs.Factory(OpenAiConfig)
    accounts: tuple[AccountConfig, ...] = ()
    path: Path | None = None  # the file it came from; None for parsed text

    @property
    def oauth(self) -> OAuthConfig:
        """[oauth] with every URL filled in. Derived ones follow [server] upstream_url,
        including a `--upstream` override applied after loading; written ones stay."""
        return self.oauth_as_written.on_upstream(self.server.upstream_url)

    def account(self, name: str) -> AccountConfig | None:
        return next((a for a in self.accounts if a.name == name), None)

    def find_account(self, typed: str) -> AccountConfig | None:
        """The account a user means by `typed`: names are unique ignoring case (load.py), so
        `shunt use WORK` finds `work`; callers go on with the configured spelling."""
        return next((a for a in self.accounts if a.name.casefold() == typed.casefold()), None)

    def enabled_accounts(self) -> tuple[AccountConfig, ...]:
        return tuple(a for a in self.accounts if a.enabled)
