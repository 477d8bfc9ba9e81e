"""PURE: what must change in a running server when config.toml changes (gunicorn-style
reconciliation of desired accounts against running ones)."""

from __future__ import annotations

import attrs

from shunt.config import Config


@attrs.frozen
class AccountChanges:
    start: tuple[str, ...] = ()  # new and enabled, or newly enabled: give them a worker
    stop: tuple[str, ...] = ()  # removed, or newly disabled: drain, then release
    removed: tuple[str, ...] = ()  # gone from the config: forget them entirely
    disabled: tuple[str, ...] = ()  # still configured, but switched off

    @property
    def empty(self) -> bool:
        return not (self.start or self.stop)


def plan_changes(old: Config, new: Config) -> AccountChanges:
    old_enabled = {a.name for a in old.accounts if a.enabled}
    new_enabled = {a.name for a in new.accounts if a.enabled}
    new_names = {a.name for a in new.accounts}
    removed = {a.name for a in old.accounts} - new_names
    return AccountChanges(
        start=tuple(sorted(new_enabled - old_enabled)),
        stop=tuple(sorted(old_enabled - new_enabled)),
        removed=tuple(sorted(removed)),
        disabled=tuple(sorted((old_enabled - new_enabled) & new_names)),
    )
