"""`shunt serve`: the front door's root nursery (signals, listeners, supervisor)."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from contextlib import suppress
from functools import partial
from typing import Final

import httpx
import trio

from shunt.anthropic.errors import refusal as anthropic_refusal
from shunt.config import Config, validate_bind, validate_ports
from shunt.errors import CredentialsError
from shunt.frontdoor.accounts import AccountTable
from shunt.frontdoor.anthropic_api import AnthropicApi
from shunt.frontdoor.control import ControlApi
from shunt.frontdoor.credential_writer import CredentialWriter
from shunt.frontdoor.listen import open_anthropic_listeners, open_openai_listeners
from shunt.frontdoor.live_accounts import LiveAccounts, read_pinned
from shunt.frontdoor.openai_api import OpenAiApi
from shunt.frontdoor.passthrough import Passthrough
from shunt.frontdoor.pool import Pool
from shunt.frontdoor.reporting import ServingState, StatusReporter
from shunt.frontdoor.request_log_writer import RequestLogWriter
from shunt.frontdoor.supervisor import Supervisor
from shunt.heap import settle_after_startup
from shunt.http.server import ServerLimits, serve_http, serve_http_unix
from shunt.ipc.messages import Configure
from shunt.openai.errors import refusal as openai_refusal
from shunt.routing.router import RoutingPolicy
from shunt.routing.sticky import StickyTable
from shunt.storage.credentials import CredentialStore
from shunt.storage.paths import Paths, write_atomically

logger = logging.getLogger(__name__)

PASSTHROUGH_TIMEOUT_S: Final = 600.0
PREFETCH_WAIT_S: Final = 3.0  # at start, how long to wait for the workers' usage prefetch
LISTENER_STOP_S: Final = 5.0  # at stop, how long the cut requests may take to be recorded


def worker_settings(config: Config) -> Configure:
    return Configure(
        upstream_url=config.server.upstream_url,
        token_url=config.oauth.token_url,
        oauth_client_id=config.oauth.client_id,
        durations=config.cooldowns,
        head_timeout_s=config.server.upstream_head_timeout_s,
        usage_url=config.oauth.usage_url,
    )


def listener_limits(config: Config) -> ServerLimits:
    server = config.server
    return ServerLimits(
        max_body_bytes=server.max_body_bytes,
        max_header_bytes=server.max_header_bytes,
        max_header_count=server.max_header_count,
        header_timeout_s=server.header_timeout_s,
        body_timeout_s=server.body_timeout_s,
        write_timeout_s=server.write_timeout_s,
    )


async def serve(
    config: Config,
    paths: Paths,
    *,
    workers: int | None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run until SIGTERM/SIGINT, then drain in-flight requests for drain_timeout_s.

    Built in one direction: account table, credential writer and request log writer →
    supervisor → pool (given the supervisor's link lookup) → the HTTP APIs."""
    validate_bind(config.server)
    validate_ports(config.server)
    control_socket = paths.checked_control_socket()
    server = config.server
    routing = config.routing
    store = CredentialStore(paths.credentials_file)
    table = AccountTable(config, store.load())
    # Bound before any worker starts: a busy port is one clear line, not a start undone.
    listeners = await open_anthropic_listeners(server.host, server.port)
    openai_listeners = (
        await open_openai_listeners(server.host, server.openai_port) if server.openai else None
    )
    writer = CredentialWriter(store, table)
    request_log = RequestLogWriter(paths.request_log_file, keep_days=config.log.keep_days)
    supervisor = Supervisor(
        configure=worker_settings(config),
        credential_for=table.credential_for,
        snapshot_for=table.snapshot_for,
        on_report=table.on_report,
        on_tokens=writer.on_tokens,
        on_lost=table.count_lost_request,
        workers=workers,
        log_level=server.log_level,
        heartbeat_timeout_s=server.heartbeat_timeout_s,
    )
    pool = Pool(
        policy=RoutingPolicy(
            strategy=routing.strategy,
            allow_overage=routing.allow_overage,
            expiry_soon_s=routing.expiry_soon_s,
        ),
        sticky=StickyTable(ttl_s=routing.sticky_ttl_s),
        table=table,
        link_for=supervisor.link_for,
        on_record=request_log.submit,
    )
    pinned_file = paths.pinned_file
    pool.pinned = read_pinned(pinned_file, table)
    serving = ServingState()
    reporter = StatusReporter(
        table=table,
        writer=writer,
        supervisor=supervisor,
        pool=pool,
        serving=serving,
        request_log=request_log,
    )
    live = LiveAccounts(
        table=table, writer=writer, supervisor=supervisor, pool=pool, pinned_file=pinned_file
    )
    async with httpx.AsyncClient(
        base_url=server.upstream_url,
        timeout=httpx.Timeout(PASSTHROUGH_TIMEOUT_S, connect=10.0),
        trust_env=False,
    ) as client:
        api = AnthropicApi(
            server=server,
            pool=pool,
            passthrough=Passthrough(client, server.upstream_url),
            reporter=reporter,
            serving=serving,
        )
        openai_api = OpenAiApi(server=server, openai=config.openai, pool=pool, serving=serving)
        control = ControlApi(live=live, reporter=reporter)
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            await nursery.start(request_log.run)
            enabled = [account.name for account in config.enabled_accounts()]
            servable = table.servable(enabled)
            await nursery.start(supervisor.run, servable)
            missing = await table.wait_until_informed(servable, PREFETCH_WAIT_S)
            if missing:
                logger.info(
                    "starting without utilization data for %s (counted as 0 %% until they answer)",
                    ", ".join(missing),
                )
            limits = listener_limits(config)
            listener_scope = trio.CancelScope()
            listener_stopped = trio.Event()

            async def run_listeners(
                task_status: trio.TaskStatus[tuple[int, int | None]],
            ) -> None:
                try:
                    with listener_scope:  # cancelled when the drain ends: both stop
                        await serve_both(task_status)
                finally:
                    listener_stopped.set()

            # (handler, how its server's own refusals look, port, bound sockets), per listener
            served = [(api.handle, anthropic_refusal, server.port, listeners)]
            if openai_listeners is not None:
                served.append(
                    (openai_api.handle, openai_refusal, server.openai_port, openai_listeners)
                )

            async def serve_both(
                task_status: trio.TaskStatus[tuple[int, int | None]],
            ) -> None:
                async with trio.open_nursery() as both:
                    ports: list[int] = []
                    for handler, refusal, wanted, sockets in served:
                        ports.append(
                            await both.start(
                                partial(
                                    serve_http,
                                    handler,
                                    refusal=refusal,
                                    host=server.host,
                                    port=wanted,
                                    limits=limits,
                                    listeners=sockets,
                                )
                            )
                        )
                    task_status.started((ports[0], ports[1] if len(ports) > 1 else None))

            port, openai_port = await nursery.start(run_listeners)
            await nursery.start(
                partial(
                    serve_http_unix,
                    control.handle,
                    refusal=anthropic_refusal,
                    path=control_socket,
                )
            )
            settle_after_startup()
            _write_state(paths, config, port, openai_port)
            logger.info(
                "shunt listening on http://%s:%d with %d account(s), strategy %s",
                server.host,
                port,
                len(enabled),
                routing.strategy,
            )
            if openai_port is not None:
                logger.info("OpenAI API on http://%s:%d/v1", server.host, openai_port)
            task_status.started(port)
            lost: dict[str, str] = {}  # accounts whose refreshed token could not be saved
            try:
                await _wait_for_stop_signal()
                logger.info("stop requested: draining for up to %.0fs", server.drain_timeout_s)
                serving.draining = True
                with trio.move_on_after(server.drain_timeout_s):
                    await serving.in_flight.wait_idle()
                if serving.in_flight.count:
                    logger.warning(
                        "drain deadline passed with %d request(s) in flight",
                        serving.in_flight.count,
                    )
                pool.cut_reason = (
                    f"cut by shutdown: the drain deadline ({server.drain_timeout_s:g}s) passed"
                )
                listener_scope.cancel()
                await supervisor.shutdown(grace_s=1.0)
                lost = await writer.flush_at_shutdown()
                for line in lost.values():
                    logger.error("%s", line)
                with trio.move_on_after(LISTENER_STOP_S):
                    await listener_stopped.wait()  # the cut requests are recorded by then
                await request_log.close()
            finally:
                with suppress(FileNotFoundError):
                    paths.server_state_file.unlink()
                nursery.cancel_scope.cancel()
    if lost:
        names = ", ".join(lost)
        raise CredentialsError(
            f"stopped, but the refreshed token of {names} could not be saved to "
            f"{store.path}: once it is writable, run `shunt login NAME` for {names}"
        )


async def _wait_for_stop_signal() -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            logger.info("received %s", signal.Signals(signum).name)
            return


def _write_state(paths: Paths, config: Config, port: int, openai_port: int | None) -> None:
    """What the CLI needs to find and stop this server without reading config.toml (which may
    have been broken since): its socket, its config file, its drain deadline."""
    host = config.server.host
    state = {
        "pid": os.getpid(),
        "host": host,
        "port": port,
        "url": f"http://{host}:{port}",
        "started_at": time.time(),
        "control_socket": str(paths.control_socket),
        "config": str(config.path.resolve()) if config.path is not None else None,
        "drain_timeout_s": config.server.drain_timeout_s,
        "openai_port": openai_port,
        "openai_url": f"http://{host}:{openai_port}/v1" if openai_port is not None else None,
    }
    write_atomically(paths.server_state_file, json.dumps(state).encode(), mode=0o600)
