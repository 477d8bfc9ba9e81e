"""The model map (SPEC §9) and the /v1/models answers, checked against the openai SDK's Model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types import Model

from shunt.openai.errors import TranslationError
from shunt.openai.models import HAIKU, OPUS, SONNET, ModelMap, model_answer, model_list

DEFAULT = ModelMap()


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("gpt-4o", OPUS),
        ("o1", OPUS),
        ("o3", OPUS),
        ("gpt-5", OPUS),
        ("gpt-4o-mini", HAIKU),
        ("o1-mini", HAIKU),
        ("o3-mini", HAIKU),
        ("claude-opus-4-1", "claude-opus-4-1"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku-latest"),
        ("gpt-4.1", SONNET),
        ("gpt-4o-2024-08-06", SONNET),
        ("GPT-4O", SONNET),
        ("", SONNET),
    ],
)
def test_the_default_map_is_specs(asked: str, served: str) -> None:
    assert DEFAULT.resolve(asked) == served


def test_routes_are_tried_in_order_and_globs_match() -> None:
    model_map = ModelMap(
        routes=[("gpt-4o-mini", HAIKU), ("gpt-4o*", OPUS), ("claude-3-*", SONNET)],
        fallback="claude-x",
    )
    assert model_map.resolve("gpt-4o-mini") == HAIKU
    assert model_map.resolve("gpt-4o-2024-08-06") == OPUS
    assert model_map.resolve("claude-3-opus") == SONNET
    assert model_map.resolve("claude-opus-4-6") == "claude-opus-4-6"
    assert model_map.resolve("o1") == "claude-x"


def test_a_route_needs_a_name_and_a_model() -> None:
    with pytest.raises(ValueError, match="needs a name and a model"):
        ModelMap(routes=[("", OPUS)])


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=30))
def test_every_name_resolves_to_a_claude_model(name: str) -> None:
    assert DEFAULT.resolve(name).startswith("claude-")


def test_the_list_holds_the_exact_names_then_the_claude_models_once() -> None:
    model_map = ModelMap(routes=[("gpt-4o", OPUS), ("gpt-4*", OPUS), ("o3", HAIKU)])
    answer = model_list(model_map, created=1700000000)
    assert answer["object"] == "list"
    models = [Model.model_validate(item) for item in answer["data"]]
    assert [(m.id, m.owned_by) for m in models] == [
        ("gpt-4o", "shunt"),
        ("o3", "shunt"),
        (OPUS, "anthropic"),
        (HAIKU, "anthropic"),
        (SONNET, "anthropic"),
    ]
    assert {m.created for m in models} == {1700000000}


def test_the_default_list() -> None:
    ids = [item["id"] for item in model_list(DEFAULT, created=0)["data"]]
    aliases = ["gpt-4o", "o1", "o3", "gpt-5", "gpt-4o-mini", "o1-mini", "o3-mini"]
    assert ids == [*aliases, OPUS, HAIKU, SONNET]


def test_one_model_by_id() -> None:
    answer = model_answer(DEFAULT, "gpt-4o-mini", created=5)
    assert Model.model_validate(answer) == Model(
        id="gpt-4o-mini", object="model", created=5, owned_by="shunt"
    )
    assert model_answer(DEFAULT, HAIKU, created=5)["owned_by"] == "anthropic"


def test_an_unknown_model_id_is_openais_404() -> None:
    with pytest.raises(TranslationError) as caught:
        model_answer(DEFAULT, "gpt-4*", created=0)
    assert caught.value.status == 404
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert "'gpt-4*' does not exist" in caught.value.message
