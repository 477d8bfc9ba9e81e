"""What `shunt serve` hands its workers from config.toml (pure)."""

from __future__ import annotations

from shunt.config import parse_config
from shunt.frontdoor.serve import worker_settings

CONFIG = """
[server]
upstream_head_timeout = "90s"
"""


def test_the_workers_get_the_upstream_head_deadline():
    assert worker_settings(parse_config(CONFIG, source="config.toml")).head_timeout_s == 90
    assert worker_settings(parse_config("", source="config.toml")).head_timeout_s == 600
