"""The command line that runs the simulator as its own process (`python -m shunt.simulator`).

Whatever starts one (demo, bench, bench-soak, the end-to-end tests) builds its argv here, next
to cli.py, which defines the options: one keyword per option, so a renamed option is changed
in one place. tests/simulator/test_process.py checks the two agree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path


def simulator_argv(
    *,
    host: str | None = None,
    port: int | None = None,
    accounts: Iterable[str] = (),
    time_scale: float | None = None,
    seed: int | None = None,
    credentials_out: Path | None = None,
    ready_file: Path | None = None,
    latency_ms: float | None = None,
    event_delay_ms: float | None = None,
    access_ttl_s: float | None = None,
    prompt_cache: bool = False,
    prompt_cache_ttl_s: float | None = None,
    claude_code_only: bool = False,
    log_level: str | None = None,
) -> list[str]:
    """argv for one simulator process. None (or no accounts) leaves an option out, so the
    command's own default applies; each account is a `--account` value as the command takes
    it, NAME[:FIVE_HOUR_TOKENS[:SEVEN_DAY_TOKENS]]; `prompt_cache` and `claude_code_only` add
    the `--prompt-cache` and `--claude-code-only` flags."""
    options: tuple[tuple[str, object], ...] = (
        ("--host", host),
        ("--port", port),
        ("--time-scale", time_scale),
        ("--seed", seed),
        ("--credentials-out", credentials_out),
        ("--ready-file", ready_file),
        ("--latency-ms", latency_ms),
        ("--event-delay-ms", event_delay_ms),
        ("--access-ttl-s", access_ttl_s),
        ("--prompt-cache-ttl-s", prompt_cache_ttl_s),
        ("--log-level", log_level),
    )
    argv = [sys.executable, "-m", "shunt.simulator"]
    for flag, value in options:
        if value is not None:
            argv += [flag, str(value)]
    for account in accounts:
        argv += ["--account", account]
    if prompt_cache:
        argv.append("--prompt-cache")
    if claude_code_only:
        argv.append("--claude-code-only")
    return argv
