"""Named points between the steps of a write, where the test suite can stop the process
dead (SIGKILL, as a crash or an impatient operator would) to prove that a write
killed anywhere leaves a ledger that the next command puts right.

Nothing happens unless the environment variable RELEASEGATE_TEST_KILL_AT names a
step; only the test suite sets it.
"""

from __future__ import annotations

import os
import signal

# In the order a write passes them.
STEPS = ("locked", "fetched", "worked-out", "stored", "committed", "marked", "moved",
         "pushed", "copied")

_KILL_AT = os.environ.get("RELEASEGATE_TEST_KILL_AT")


def reached(step: str) -> None:
    """A write reached `step`; killed here when the test suite asked for it."""
    if step == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
