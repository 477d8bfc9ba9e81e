"""The OpenAI listener's settings: [server] openai / openai_port and the [openai] model map."""

from __future__ import annotations

import re

import pytest

from shunt.config import (
    Config,
    OpenAiConfig,
)
from shunt.errors import ConfigError
from tests.config.support import parse


def test_the_openai_listener_settings():
    assert (Config().server.openai, Config().server.openai_port) == (True, 8083)
    server = parse("[server]\nopenai_port = 0\nopenai = false").server
    assert (server.openai, server.openai_port) == (False, 0)
    with pytest.raises(ConfigError, match=r"\[server\] openai_port = 70000 "):
        parse("[server]\nopenai_port = 70000")
    with pytest.raises(ConfigError, match=r"\[server\] openai = 'yes' "):
        parse("[server]\nopenai = 'yes'")
    with pytest.raises(ConfigError, match="did you mean 'openai_port'"):
        parse("[server]\nopenai_prot = 8083")


def test_port_8083_loads():
    """It once failed with an error about openai_port, a key the user never wrote."""
    assert parse("[server]\nport = 8083").server.port == 8083


def test_the_openai_model_map():
    assert parse("").openai == OpenAiConfig()
    config = parse(
        '[openai]\ndefault_model = "claude-haiku-4-5-20251001"\n'
        '[openai.models]\n"gpt-4.1*" = "claude-opus-4-6"\n"my-model" = "claude-sonnet-4-6"\n'
    )
    assert config.openai.models == (
        ("gpt-4.1*", "claude-opus-4-6"),
        ("my-model", "claude-sonnet-4-6"),
    ), "in the file's order: the first route that matches wins"
    assert config.openai.default_model == "claude-haiku-4-5-20251001"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[openai]\nmodels = 3", "[openai] models = 3 must be a table of names"),
        ('[openai.models]\n"gpt-4o" = 1', "[openai] models.gpt-4o = 1 must be a string"),
        ('[openai.models]\n"gpt-4o" = ""', "needs a model name and a Claude model"),
        ('[openai]\ndefault_model = ""', "[openai] default_model = '' must not be empty"),
        ("[openai]\nmodel = 'x'", "[openai] has an unknown key 'model'; did you mean 'models'?"),
    ],
)
def test_a_bad_model_map_is_a_clear_error(text, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        parse(text)
