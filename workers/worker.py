"""The worker process: one root nursery holding the IPC loop, the stream tasks and refreshers.

The front door hands us a connected Unix socket (inherited fd). Tokens arrive only over it,
never on the command line, so they cannot show up in `ps`.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from typing import Final

import attrs
import httpx
import trio

from shunt.heap import settle_after_startup
from shunt.ipc.channel import ChannelClosed, FrameChannel, SendWindow
from shunt.ipc.messages import (
    AssignAccount,
    Cancel,
    Configure,
    Credit,
    Failover,
    Forward,
    Message,
    Ping,
    Pong,
    ReleaseAccount,
    ResetCooldown,
    Shutdown,
    TokensPersisted,
    WorkerReady,
)
from shunt.tally import Tally
from workers.runtime import AccountRuntime
from workers.stream import serve_forward
from workers.upstream import UpstreamPool

logger = logging.getLogger(__name__)

EXIT_OK: Final = 0
EXIT_CHANNEL_BROKEN: Final = 3
FINAL_WRITE_S: Final = 2.0  # on exit, how long the last queued frames may take to write


@attrs.define
class _Stream:
    scope: trio.CancelScope
    window: SendWindow
    account: str


class Worker:
    def __init__(self, channel: FrameChannel, nursery: trio.Nursery, settings: Configure) -> None:
        self.channel = channel
        self.settings = settings
        self._nursery = nursery
        self.accounts: dict[str, AccountRuntime] = {}
        self._refreshers: dict[str, trio.CancelScope] = {}
        self.streams: dict[int, _Stream] = {}
        self.active = Tally()  # streams in progress, for draining
        # Pooled requests go over `upstream`; httpx is only for the OAuth and usage endpoints.
        self.upstream = UpstreamPool(
            settings.upstream_url,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            head_timeout_s=settings.head_timeout_s,
        )
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=settings.read_timeout_s,
                write=settings.read_timeout_s,
                pool=settings.connect_timeout_s,
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self.draining = False

    def __repr__(self) -> str:
        accounts = sorted(self.accounts)
        return f"<Worker pid={os.getpid()} accounts={accounts} streams={len(self.streams)}>"

    def send(self, message: Message) -> None:
        self.channel.send_nowait(message)

    def dispatch(self, message: Message) -> None:
        match message:
            case Forward():
                self._start_stream(message)
            case Credit(stream_id=sid, nbytes=n):
                stream = self.streams.get(sid)
                if stream is not None:
                    stream.window.grant(n)
            case Cancel(stream_id=sid):
                stream = self.streams.get(sid)
                if stream is not None:
                    stream.scope.cancel()
            case AssignAccount():
                self._assign(message)
            case ReleaseAccount(name=name):
                self._release(name)
            case TokensPersisted(account=name):
                runtime = self.accounts.get(name)
                if runtime is not None:
                    runtime.tokens_persisted(message)
            case ResetCooldown(account=name):
                runtime = self.accounts.get(name)
                if runtime is not None:
                    runtime.clear_cooldown()
            case Ping(seq=seq):
                self.send(Pong(seq, len(self.streams)))
            case Shutdown(grace_s=grace):
                self._nursery.start_soon(self._drain_and_exit, grace)
            case _:
                logger.error("worker got a %s frame it does not handle", type(message).__name__)

    def _assign(self, message: AssignAccount) -> None:
        runtime = self.accounts.get(message.name)
        if runtime is None:
            runtime = AccountRuntime(
                message.name, message.credential, self.settings, self.send, self._nursery
            )
            if message.previous is not None:
                runtime.machine.restore(message.previous, time.time())
            self.accounts[message.name] = runtime
            scope = trio.CancelScope()
            self._refreshers[message.name] = scope
            self._nursery.start_soon(self._run_refresher, runtime, scope)
            logger.info("account %s: assigned to worker %d", message.name, os.getpid())
        else:
            runtime.released = False
            runtime.replace_credential(message.credential)
        runtime.report()

    async def _run_refresher(self, runtime: AccountRuntime, scope: trio.CancelScope) -> None:
        with scope:
            await runtime.run_refresh_loop(self.client)

    def _release(self, name: str) -> None:
        runtime = self.accounts.get(name)
        if runtime is None:
            return
        runtime.released = True
        self._nursery.start_soon(self._forget_when_idle, runtime)

    async def _forget_when_idle(self, runtime: AccountRuntime) -> None:
        await runtime.in_flight.wait_idle()
        if runtime.released and self.accounts.get(runtime.name) is runtime:
            del self.accounts[runtime.name]
            self._refreshers.pop(runtime.name).cancel()
            logger.info("account %s: released by worker %d", runtime.name, os.getpid())

    def _start_stream(self, forward: Forward) -> None:
        runtime = self.accounts.get(forward.account)
        if runtime is None or runtime.released or self.draining:
            why = "worker is shutting down" if self.draining else "account not owned by this worker"
            self.send(Failover(forward.stream_id, forward.account, why))
            return
        stream = _Stream(trio.CancelScope(), SendWindow(forward.window_bytes), forward.account)
        self.streams[forward.stream_id] = stream
        self.active.add()
        self._nursery.start_soon(self._run_stream, forward, runtime, stream)

    async def _run_stream(self, forward: Forward, runtime: AccountRuntime, stream: _Stream) -> None:
        try:
            with stream.scope:
                await serve_forward(
                    forward, runtime, self.upstream, self.client, stream.window, self.send
                )
        finally:
            del self.streams[forward.stream_id]
            self.active.done()

    async def _drain_and_exit(self, grace_s: float) -> None:
        self.draining = True
        with trio.move_on_after(grace_s):
            await self.active.wait_idle()
        # The streams' last frames may still be queued: cancelling now would drop them.
        await self.channel.finish_writing(FINAL_WRITE_S)
        self._nursery.cancel_scope.cancel()


async def run_worker(fd: int) -> int:
    sock = trio.socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)
    os.close(fd)
    channel = FrameChannel(trio.SocketStream(sock), name=f"worker[{os.getpid()}]")
    exit_code = EXIT_OK
    async with trio.open_nursery() as nursery:
        nursery.start_soon(channel.run_writer)
        channel.send_nowait(WorkerReady(os.getpid()))
        messages = channel.messages()
        try:
            first = await anext(messages)
        except (StopAsyncIteration, ChannelClosed):
            nursery.cancel_scope.cancel()
            return EXIT_CHANNEL_BROKEN
        if not isinstance(first, Configure):
            logger.error("worker expected Configure first, got %s", type(first).__name__)
            nursery.cancel_scope.cancel()
            return EXIT_CHANNEL_BROKEN
        worker = Worker(channel, nursery, first)
        settle_after_startup()
        try:
            async for message in messages:
                worker.dispatch(message)
        except ChannelClosed as exc:
            logger.error("%s", exc)
            exit_code = EXIT_CHANNEL_BROKEN
        finally:
            # The front door is gone (or broke the channel): no stream may outlive it.
            nursery.cancel_scope.cancel()
            worker.upstream.close()
            with trio.CancelScope(shield=True):
                await worker.client.aclose()
    return exit_code


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2 or args[0] != "--fd" or not args[1].isdigit():
        print("usage: python -m workers --fd N  (started by `shunt serve`)", file=sys.stderr)
        return 2
    level = os.environ.get("SHUNT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(levelname)s worker[{os.getpid()}] %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    try:
        return trio.run(run_worker, int(args[1]))
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception:
        logger.exception("worker crashed")
        return 1
