"""cvc5: the binary (``cvc5 -q --produce-models [--tlimit=ms] FILE``) or
nncc's driver over the Python package, which takes the same arguments.

On ``--tlimit`` the binary prints nothing on stdout, a message on stderr and
exits 134; the driver does the same after printing ``unknown``. Either is
UNKNOWN "time limit". A model after ``unknown`` is never used: cvc5 prints
one that violates the constraints.
"""
from __future__ import annotations

import re

from nncc.solvers.smt_values import smt_result

EXIT_TIMEOUT = 134
_VERSION = re.compile(r"cvc5 version ([0-9][0-9.]*)", re.IGNORECASE)


def parse_version(text: str) -> str | None:
    """``This is cvc5 version 1.4.2 [...]`` -> ``1.4.2``."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def progress(line: str) -> str | None:
    """cvc5 prints nothing while it works: no incumbent to report."""
    return None


def read_result(run):
    """SolverResult from a finished cvc5 run."""
    timed_out = run.returncode == EXIT_TIMEOUT or "interrupted by timeout" in run.stderr
    return smt_result(run, time_limit_hit=timed_out)
