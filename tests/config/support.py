"""What the config tests share: a source name for messages and the parser bound to it."""

from __future__ import annotations

from shunt.config import Config, parse_config

SOURCE = "/home/u/.config/shunt/config.toml"


def parse(text: str) -> Config:
    return parse_config(text, source=SOURCE)
