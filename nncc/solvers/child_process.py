"""Solver processes that never outlive nncc.

Every solver runs in its own session (process group), so that a time-out or
Ctrl-C kills it with everything it started. That covers every way nncc ends
except one: killed with SIGKILL (an out-of-memory killer, ``kill -9``, a
batch system's hard limit), nncc runs no code, and a solver in its own
session would run on, orphaned, for as long as its own limit allows (none,
for a solver run without ``--time-limit``). On Linux the kernel is asked to
send the solver SIGKILL when its parent dies (``PR_SET_PDEATHSIG``).

The signal follows the thread that started the process; nncc's callers wait
for the solver in the thread that started it, so it fires only when nncc is
gone.
"""
from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
_libc = None
if sys.platform.startswith("linux"):
    try:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl  # noqa: B018 - fail here, in the parent, if it is missing
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        _libc = None


def _die_with_parent(parent: int) -> None:
    # runs in the child between fork and exec: no imports, nothing that locks
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def solver_popen_args() -> dict:
    """Keyword arguments for ``subprocess.Popen`` of a solver: its own session,
    and (on Linux) death when nncc dies."""
    if _libc is None:
        return {"start_new_session": True}
    parent = os.getpid()
    return {"start_new_session": True, "preexec_fn": lambda: _die_with_parent(parent)}
