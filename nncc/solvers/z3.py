"""z3: ``z3 -smt2 [-T:s] FILE``; reads its standard output.

z3 prints ``sat`` / ``unsat`` / ``unknown``, or ``timeout`` when ``-T`` fires
(exit code 0). After ``unsat`` a get-value prints ``(error ...)`` and z3 exits
1: that is expected, not a failure.
"""
from __future__ import annotations

import re

from nncc.solvers.smt_values import smt_result

_VERSION = re.compile(r"Z3 version (\S+)", re.IGNORECASE)


def parse_version(text: str) -> str | None:
    """``Z3 version 5.4.0 - 64 bit`` -> ``5.4.0``."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def progress(line: str) -> str | None:
    """z3 prints nothing while it works: no incumbent to report."""
    return None


def read_result(run):
    """SolverResult from a finished z3 run (see smt_values.smt_result)."""
    return smt_result(run)
