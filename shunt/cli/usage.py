"""`shunt usage`: requests and tokens per account, day, model or client, or the last requests,
read from the request log (docs/request-log.md).

It opens the database read-only, so it works the same while the server runs and after it
stopped, and never needs config.toml or the control socket.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Mapping
from typing import cast

import click

from shunt.cli.common import friendly_errors
from shunt.requestlog.report import (
    DEFAULT_GROUPING,
    GROUPINGS,
    UsageGroup,
    day_of,
    group_usage,
    summarize,
    window_start,
)
from shunt.requestlog.store import RequestStore, open_for_reading
from shunt.storage.paths import resolve_paths

DEFAULT_DAYS = 7
DEFAULT_LAST = 20


@click.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=DEFAULT_DAYS,
    show_default=True,
    help="The last N calendar days, today included",
)
@click.option(
    "--by",
    type=click.Choice(list(GROUPINGS)),
    default=DEFAULT_GROUPING,
    show_default=True,
    help="What each row adds up",
)
@click.option("--utc", is_flag=True, help="Days and times in UTC instead of local time")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@click.option("--requests", "list_requests", is_flag=True, help="List the last requests instead")
@click.option("--account", default=None, help="Only the requests of this account")
@click.option(
    "--last",
    type=click.IntRange(min=1),
    default=None,
    help=f"With --requests: how many  [default: {DEFAULT_LAST}]",
)
@friendly_errors
def usage(
    days: int,
    by: str,
    utc: bool,
    as_json: bool,
    list_requests: bool,
    account: str | None,
    last: int | None,
) -> None:
    """Requests, tokens, failures and failovers from the request log (the server may be
    stopped). Default: per account per day, days in local time."""
    if last is not None and not list_requests:
        raise click.UsageError("--last goes with --requests")
    from shunt.cli.views.usage_view import render_requests, render_usage

    path = resolve_paths().request_log_file
    tz = datetime.UTC if utc else None
    store = open_for_reading(path)
    if store is None:
        if as_json:
            click.echo(
                json.dumps({"path": str(path), "requests" if list_requests else "groups": []})
            )
        else:
            click.echo(f"No requests logged yet ({path}).")
        return
    try:
        if list_requests:
            document = requests_document(store, tz, last or DEFAULT_LAST, account)
            text = render_requests(document)
        else:
            document = usage_document(store, tz, time.time(), days, by, account)
            text = render_usage(document)
    finally:
        store.close()
    click.echo(json.dumps(document, indent=2) if as_json else text)


def usage_document(
    store: RequestStore,
    tz: datetime.tzinfo | None,
    now: float,
    days: int,
    by: str,
    account: str | None,
) -> dict[str, object]:
    since = window_start(now, days, tz)
    rows = store.usage_rows(since, account)
    fields = GROUPINGS[by]
    return {
        "path": str(store.path),
        "timezone": "UTC" if tz is not None else "local",
        "days": days,
        "since": since,
        "since_day": day_of(since, tz),
        "by": list(fields),
        "account": account,
        "groups": [_group(group, fields) for group in group_usage(rows, by, tz)],
        "total": _group(summarize((), rows), ()),
    }


def requests_document(
    store: RequestStore, tz: datetime.tzinfo | None, last: int, account: str | None
) -> dict[str, object]:
    requests = []
    for row in store.recent(last, account):
        started = cast(float, row["started"])
        moment = datetime.datetime.fromtimestamp(started, tz).astimezone(tz)  # with its offset
        requests.append(
            {
                **row,
                "time": moment.isoformat(sep=" ", timespec="seconds"),
                "skipped": json.loads(cast(str, row["skipped"])),
            }
        )
    return {
        "path": str(store.path),
        "timezone": "UTC" if tz is not None else "local",
        "account": account,
        "requests": requests,
    }


def _group(group: UsageGroup, fields: tuple[str, ...]) -> Mapping[str, object]:
    return {
        **dict(zip(fields, group.key, strict=True)),
        "requests": group.requests,
        "failures": group.failures,
        "failovers": group.failovers,
        "input_tokens": group.input_tokens,
        "output_tokens": group.output_tokens,
        "cache_read_tokens": group.cache_read_tokens,
        "cache_creation_tokens": group.cache_creation_tokens,
        "median_duration_ms": round(group.median_duration_ms, 1),
    }


USAGE_COMMANDS = (usage,)
