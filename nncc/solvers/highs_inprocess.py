"""HiGHS in this process (the ``highspy`` package), for the small LPs that are not
worth a subprocess: LP-tightened bounds, LPs over activation regions, the
centring LP of binarised weights, the local search's sub-MILPs.

``highspy`` is None when the package is missing; callers fall back or say so.
The subprocess runner for the ``highs`` binary is :mod:`nncc.solvers.highs`.
"""
from __future__ import annotations

try:  # optional at import time: the interval bounds and the rest of nncc work without it
    import highspy
except ImportError:  # pragma: no cover - reported when lp_bounds is called
    highspy = None


def quiet_highs():
    """A silent in-process HiGHS model.  The first ``Highs()`` of a process prints
    a banner on standard output (C level, before any option can be set), which
    would corrupt ``--json`` output: it goes to /dev/null instead."""
    import ctypes
    import os
    import sys
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        h = highspy.Highs()
        try:
            ctypes.CDLL(None).fflush(None)
        except (OSError, AttributeError):  # pragma: no cover - no C library handle
            pass
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.silent()
    h.setOptionValue("output_flag", False)
    return h
