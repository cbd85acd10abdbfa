"""Child processes that must not outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(signum: signal.Signals) -> None:
    """Ask the kernel to send `signum` to this process when its parent dies (Linux only).

    A parent killed outright (kill -9, OOM) runs no clean-up, so nothing else would stop
    its children; they would hold ports, memory and open pipes for ever.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
