"""Where shunt may listen (SPEC §11): the bind rule and the two listeners' ports."""

from __future__ import annotations

import pytest

from shunt.config import (
    ServerConfig,
    validate_bind,
    validate_ports,
)
from shunt.errors import ConfigError
from tests.config.support import parse


@pytest.mark.parametrize(
    ("server", "refused"),
    [
        (ServerConfig(port=9000, openai_port=9000), True),
        (ServerConfig(port=9000, openai_port=9000, openai=False), False),
        (ServerConfig(port=0, openai_port=0), False),
        (ServerConfig(port=9000, openai_port=9001), False),
    ],
)
def test_the_two_listeners_need_two_ports(server, refused):
    if refused:
        with pytest.raises(ConfigError, match=r"need a port each.*--no-openai"):
            validate_ports(server)
    else:
        validate_ports(server)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "localhost", "LocalHost", "::1", "[::1]", "::ffff:127.0.0.1"]
)
def test_loopback_binds_need_no_key(host):
    validate_bind(ServerConfig(host=host))


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", "128.0.0.1", "::2"]
)
def test_other_binds_need_a_key(host):
    with pytest.raises(ConfigError) as info:
        validate_bind(ServerConfig(host=host))
    message = str(info.value)
    assert repr(host) in message
    assert "remote_key" in message
    assert "127.0.0.1" in message
    validate_bind(ServerConfig(host=host, remote_key="a-long-random-secret"))


def test_bind_check_reads_the_parsed_config():
    config = parse('[server]\nhost = "0.0.0.0"\nremote_key = "k3y-k3y-k3y"')
    validate_bind(config.server)
