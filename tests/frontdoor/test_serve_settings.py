"""What `shunt serve` hands its listener and its workers from config.toml (pure)."""

from __future__ import annotations

from shunt.config import parse_config
from shunt.frontdoor.serve import listener_limits, worker_settings

CONFIG = """
[server]
max_header_bytes = 4096
max_header_count = 40
header_timeout = "3s"
body_timeout = "4s"
write_timeout = "5s"
max_body_bytes = 1000
upstream_head_timeout = "90s"
"""


def test_the_listener_gets_every_server_limit():
    limits = listener_limits(parse_config(CONFIG, source="config.toml"))
    assert (limits.max_header_bytes, limits.max_header_count, limits.max_body_bytes) == (
        4096,
        40,
        1000,
    )
    assert (limits.header_timeout_s, limits.body_timeout_s, limits.write_timeout_s) == (3, 4, 5)


def test_the_workers_get_the_upstream_head_deadline():
    assert worker_settings(parse_config(CONFIG, source="config.toml")).head_timeout_s == 90
    assert worker_settings(parse_config("", source="config.toml")).head_timeout_s == 600
