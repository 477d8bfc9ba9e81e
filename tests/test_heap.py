"""The collector settings the front door and workers apply once started."""

from __future__ import annotations

import subprocess
import sys


def test_settle_freezes_startup_objects_and_raises_the_young_threshold():
    # In a child interpreter: freezing the test process's own heap is not this test's business.
    code = (
        "import gc\n"
        "from shunt.heap import YOUNG_THRESHOLD, settle_after_startup\n"
        "before = gc.get_threshold()\n"
        "settle_after_startup()\n"
        "after = gc.get_threshold()\n"
        "assert gc.get_freeze_count() > 1000, gc.get_freeze_count()\n"
        "assert after == (YOUNG_THRESHOLD, before[1], before[2]), after\n"
        "assert gc.isenabled()\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
