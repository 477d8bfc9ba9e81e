"""The simulator served on 127.0.0.1:0 from a thread of its own, for synchronous code under test
(the CLI's httpx.Client) that cannot share a trio loop with it.

The simulator's state belongs to its thread: a test changes it (faults, the clock, a consent)
through `call`, which runs a function there and returns its result.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import trio

from shunt.simulator import Simulator, serve_simulator

T = TypeVar("T")
START_TIMEOUT_S = 10.0


class SimulatorThread:
    def __init__(self, sim: Simulator, port: int, token: trio.lowlevel.TrioToken) -> None:
        self.sim = sim
        self.url = f"http://127.0.0.1:{port}"
        self._token = token

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` run in the simulator's thread."""
        return trio.from_thread.run_sync(partial(function, *args, **kwargs), trio_token=self._token)


@contextmanager
def simulator_in_thread(sim: Simulator) -> Iterator[SimulatorThread]:
    """Serve `sim` until the block ends; the thread is joined (and its errors raised) then."""
    started: queue.Queue[tuple[int, trio.lowlevel.TrioToken, trio.CancelScope]] = queue.Queue()
    failure: list[BaseException] = []

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            port = await nursery.start(partial(serve_simulator, sim, host="127.0.0.1", port=0))
            started.put((port, trio.lowlevel.current_trio_token(), nursery.cancel_scope))

    def run() -> None:
        try:
            trio.run(serve)
        except BaseException as exc:  # handed to the test's thread, which raises it
            failure.append(exc)

    thread = threading.Thread(target=run, name="simulator", daemon=True)
    thread.start()
    try:
        port, token, scope = started.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        thread.join(START_TIMEOUT_S)
        raise AssertionError(f"the simulator did not start: {failure}") from None
    try:
        yield SimulatorThread(sim, port, token)
    finally:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)
        thread.join(START_TIMEOUT_S)
        assert not thread.is_alive(), "the simulator's thread did not stop"
        if failure:
            raise failure[0]
