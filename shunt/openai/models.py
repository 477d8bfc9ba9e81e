"""The model map (SPEC §9): which Claude model serves a model name an OpenAI client asks for, and
the `GET /v1/models` and `GET /v1/models/{id}` answers in OpenAI's shape.

The map is data: an ordered list of (exact name or glob → Claude model). The first route that
matches wins; a name no route matches passes unchanged when it is a Claude model (`claude-…`),
else it goes to the fallback. The default routes are SPEC §9's; the `[openai] models` setting
will replace them.

    ModelMap().resolve("gpt-4o")                  → "claude-opus-4-6"
    model_list(ModelMap(), created=…)             → {"object": "list", "data": [...]}
    model_answer(ModelMap(), "gpt-4o", created=…) → {"id": "gpt-4o", "object": "model", ...}
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Final

import attrs

from shunt.openai.errors import TranslationError

OPUS: Final = "claude-opus-4-6"
SONNET: Final = "claude-sonnet-4-6"
HAIKU: Final = "claude-haiku-4-5-20251001"
CLAUDE_PREFIX: Final = "claude-"
DEFAULT_ROUTES: Final = (
    ("gpt-4o", OPUS),
    ("o1", OPUS),
    ("o3", OPUS),
    ("gpt-5", OPUS),
    ("gpt-4o-mini", HAIKU),
    ("o1-mini", HAIKU),
    ("o3-mini", HAIKU),
)
# `owned_by` in the model list: shunt's own names for Claude models, and Claude's.
ALIAS_OWNER: Final = "shunt"
CLAUDE_OWNER: Final = "anthropic"
_GLOB_CHARACTERS: Final = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return not _GLOB_CHARACTERS.isdisjoint(pattern)


def _routes(pairs: Iterable[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    routes = tuple((str(pattern), str(model)) for pattern, model in pairs)
    for pattern, model in routes:
        if not pattern or not model:
            raise ValueError(f"a model route needs a name and a model, not {pattern!r} → {model!r}")
    return routes


@attrs.frozen
class ModelMap:
    """Ordered (exact name or glob → Claude model) routes, then claude-* as is, then `fallback`.
    Globs are fnmatch's (`*`, `?`, `[…]`), case-sensitive, as OpenAI's model names are."""

    routes: tuple[tuple[str, str], ...] = attrs.field(default=DEFAULT_ROUTES, converter=_routes)
    fallback: str = SONNET

    def resolve(self, name: str) -> str:
        for pattern, model in self.routes:
            if name == pattern or (is_glob(pattern) and fnmatch.fnmatchcase(name, pattern)):
                return model
        if name.startswith(CLAUDE_PREFIX):
            return name
        return self.fallback

    def listed(self) -> list[tuple[str, str]]:
        """(id, owned_by) of every listed model: the exact names of the routes (a glob names no
        model), then each Claude model the map leads to, each once, in the map's order."""
        listed: dict[str, str] = {}
        for pattern, _ in self.routes:
            if not is_glob(pattern):
                listed.setdefault(pattern, CLAUDE_OWNER if _is_claude(pattern) else ALIAS_OWNER)
        for model in [*(model for _, model in self.routes), self.fallback]:
            listed.setdefault(model, CLAUDE_OWNER if _is_claude(model) else ALIAS_OWNER)
        return list(listed.items())


def _is_claude(name: str) -> bool:
    return name.startswith(CLAUDE_PREFIX)


def _model_object(model_id: str, owned_by: str, created: int) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def model_list(model_map: ModelMap, *, created: int) -> dict[str, object]:
    """The `GET /v1/models` answer; `created` (epoch seconds) is the same for every model."""
    return {
        "object": "list",
        "data": [_model_object(name, owner, created) for name, owner in model_map.listed()],
    }


def model_answer(model_map: ModelMap, model_id: str, *, created: int) -> dict[str, object]:
    """The `GET /v1/models/{id}` answer; an id the list does not hold is OpenAI's 404."""
    for name, owner in model_map.listed():
        if name == model_id:
            return _model_object(name, owner, created)
    raise TranslationError(
        404,
        f"The model '{model_id}' does not exist: shunt serves the models GET /v1/models lists.",
        param="model",
        code="model_not_found",
    )
