"""The command line that runs `shunt serve` as its own process.

Whatever starts one (`shunt start`, the demo, the bench, bench-soak, the end-to-end tests)
builds its argv here: one keyword per option, so a renamed or added option is changed in one
place. tests/cli/test_server.py checks that `shunt serve` accepts every option built here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def serve_argv(
    *,
    host: str | None = None,
    port: int | None = None,
    openai_port: int | None = None,
    openai: bool = True,
    workers: str | None = None,
    log_level: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """argv for one `shunt serve`. None leaves an option out, so the config file (or the
    command's default) applies. A caller that binds port 0 should give openai_port 0 too (or
    openai=False): the OpenAI listener's default port is fixed, 8083."""
    argv = [sys.executable, "-m", "shunt", "serve"]
    for flag, value in (
        ("--host", host),
        ("--port", port),
        ("--openai-port", openai_port),
        ("--workers", workers),
        ("--log-level", log_level),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if not openai:
        argv.append("--no-openai")
    return [*argv, *extra]
