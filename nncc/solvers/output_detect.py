"""Reading a solver's output that a user saved by hand (``nncc decode``).

The kind is told by the text itself: a highs solution file has a ``Model
status`` line, a cbc ``-solu`` file starts with a status line such as
``Optimal - objective value 3.0``, and anything else is read as SMT-LIB
output (z3 or cvc5: ``sat`` followed by a get-value or get-model answer).
"""
from __future__ import annotations

import re

from ..errors import InputError
from . import cbc, highs
from .result import SolverResult
from .runner import RunOutput
from .smt_values import smt_result

_CBC_STATUS = re.compile(r"^(Optimal|Infeasible|Integer infeasible|Stopped|Unbounded)\b.*( - |objective)")


def detect_kind(text: str) -> str:
    """``highs``, ``cbc`` or ``smtlib``."""
    head = text.lstrip().splitlines()[:3] if text.strip() else [""]
    if any(ln.strip().startswith("Model status") for ln in head):
        return "highs"
    if _CBC_STATUS.match(head[0].strip()):
        return "cbc"
    return "smtlib"


def parse_any_output(text: str, path: str = "") -> SolverResult:
    """A :class:`SolverResult` from saved solver output of any supported kind."""
    if not text.strip():   # no solver ran here: say what is wrong with the file, not an exit code
        raise InputError(f"{path or 'the solver output'} is empty: there is no solver output to "
                         "decode (was the solver run, and did it write this file?)")
    kind = detect_kind(text)
    if kind == "smtlib":
        res = smt_result(RunOutput(text, "", 0, None, 0.0, None))
    else:
        run = RunOutput("", "", 0, text, 0.0, None)
        res = (highs if kind == "highs" else cbc).read_result(run)
    res.solver = res.solver or {"smtlib": "z3/cvc5 output", "highs": "highs solution",
                                "cbc": "cbc solution"}[kind]
    if path and res.message:
        res.message = f"{path}: {res.message}"
    return res
