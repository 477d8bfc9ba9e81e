"""Where the bench puts its load client and the simulator (pure plan; pinning a real child)."""

import os
import subprocess
import sys
import time

import pytest

from shunt.bench.placement import pin_process, plan_placement


def test_two_or_more_cpus_put_the_client_first_and_the_simulator_last():
    placement = plan_placement([3, 1, 2])
    assert placement is not None
    assert (placement.client_cpus, placement.simulator_cpus) == ({1}, {3})
    assert placement.describe() == (
        "load client on CPU 1, simulator on CPU 3; shunt's processes unpinned"
    )


def test_one_cpu_pins_nothing():
    assert plan_placement([0]) is None
    assert plan_placement([]) is None


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")
def test_pinning_reaches_every_thread_of_a_child():
    cpus = sorted(os.sched_getaffinity(0))
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(30,)).start()\n"
    code += "time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while len(os.listdir(f"/proc/{child.pid}/task")) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        pin_process(child.pid, frozenset({cpus[-1]}))
        masks = {
            os.sched_getaffinity(int(t)) == {cpus[-1]}
            for t in os.listdir(f"/proc/{child.pid}/task")
        }
        assert masks == {True}
    finally:
        child.kill()
        child.wait()
