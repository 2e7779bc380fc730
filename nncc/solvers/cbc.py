"""cbc: ``cbc FILE -timeMode elapsed -sec S -solve -solu OUT``.

The status comes from the solution file's first line, checked against the
log: cbc exits 0 whatever happened, writes no solution file when it could not
read the model, and (2.10.3, CPU-time mode) can lose its incumbent at a time
limit and then write LP junk under an "Optimal" heading. Values carry 8
significant digits; zero-valued variables are left out in integer problems.
"""
from __future__ import annotations

import re

from nncc.solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult

_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_VERSION = re.compile(r"Version:\s*(\S+)")
_INTEGER_SOLUTION = re.compile(r"Integer solution of " + _NUM + r" found")
_TREE = re.compile(r"After \d+ nodes, \d+ on tree, " + _NUM + r" best solution, best possible " + _NUM)
_PARTIAL = re.compile(r"best objective " + _NUM + r" \(best possible " + _NUM + r"\)")
_STATUS_OBJ = re.compile(r"objective value\s+" + _NUM)
_LOG_OBJ = re.compile(r"^Objective value:\s+" + _NUM, re.MULTILINE)
# Lines in which cbc says it could not read or run the model.
_ERROR_LINE = re.compile(r"Unknown image|Bad image|not valid|No match for|Unable to open|"
                         r"does not exist|error", re.IGNORECASE)
NO_INCUMBENT = 1e49  # cbc prints 1e+50 for "no solution" in its log


def parse_version(text: str) -> str | None:
    """``Version: 2.10.3`` (printed by ``cbc -quit``) -> ``2.10.3``."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def _gap_text(incumbent: float, bound: float) -> str:
    if abs(incumbent) < 1e-9:
        return "" if abs(incumbent - bound) > 1e-9 else ", gap 0%"
    return f", gap {abs(incumbent - bound) / abs(incumbent) * 100:.3g}%"


def progress(line: str) -> str | None:
    """Incumbent text from one log line, or None."""
    m = _TREE.search(line) or _PARTIAL.search(line)
    if m:
        inc, bound = float(m.group(1)), float(m.group(2))
        if inc >= NO_INCUMBENT:
            return f"no incumbent yet, bound {bound:g}"
        return f"incumbent {inc:g}, bound {bound:g}{_gap_text(inc, bound)}"
    m = _INTEGER_SOLUTION.search(line)
    if m:
        return f"incumbent {float(m.group(1)):g}"
    return None


def read_solution(text: str) -> tuple[str, float | None, dict[str, float]]:
    """Split a ``-solu`` file into (status line, objective, values by name)."""
    lines = text.splitlines()
    status = lines[0].strip() if lines else ""
    m = _STATUS_OBJ.search(status)
    objective = float(m.group(1)) if m else None
    values: dict[str, float] = {}
    for line in lines[1:]:
        parts = line.split()
        if parts and parts[0] == "**":  # cbc flags infeasible entries with **
            parts = parts[1:]
        if len(parts) >= 3 and parts[0].isdigit():
            try:
                values[parts[1]] = float(parts[2])
            except ValueError:
                pass
    return status, objective, values


def _log_facts(log: str) -> dict:
    facts: dict = {"result": None, "objective": None, "incumbent": None, "bound": None,
                   "cleanup_stopped": False, "error": None}
    for line in log.splitlines():
        s = line.strip()
        if s.startswith("Result - "):
            facts["result"] = s[len("Result - "):]
        elif s.startswith("Stopped - objective value"):
            # The final LP (integers fixed) ran out of time: values after it are junk.
            facts["cleanup_stopped"] = True
        m = _INTEGER_SOLUTION.search(s)
        if m:
            facts["incumbent"] = float(m.group(1))
        m = _TREE.search(s) or _PARTIAL.search(s)
        if m:
            if float(m.group(1)) < NO_INCUMBENT:
                facts["incumbent"] = float(m.group(1))
            facts["bound"] = float(m.group(2))
        if facts["error"] is None and _ERROR_LINE.search(s) and "read with 0 errors" not in s:
            facts["error"] = s
    m = _LOG_OBJ.search(log)
    if m:
        facts["objective"] = float(m.group(1))
    return facts


def run_again_with(run) -> list[str] | None:
    """cbc 2.10's preprocessing can lose feasibility and still print ``Optimal`` with a
    point that breaks rows (docs/solver-behaviour.md): solve again without it."""
    if "Postprocessed model is infeasible" in (run.stdout or ""):
        return ["-preprocess", "off"]
    return None


def read_result(run) -> SolverResult:
    """SolverResult from a finished cbc run (log on stdout, solution file)."""
    from nncc.solvers.runner import garbage_result

    facts = _log_facts(run.stdout + "\n" + run.stderr)
    result_line = facts["result"] or ""
    if run.solution_text is None or not run.solution_text.strip():
        if facts["error"]:
            return SolverResult(ERROR, message=f"cbc could not read the model: {facts['error']}")
        if result_line:
            return SolverResult(ERROR, message=f"cbc wrote no solution file (Result - {result_line})")
        return garbage_result(run, "cbc wrote no solution file")
    status, objective, values = read_solution(run.solution_text)
    low = status.lower()
    res = SolverResult(UNKNOWN, objective=objective, bound=facts["bound"],
                       missing_means_zero=True)
    if low.startswith("optimal"):
        res.status, res.optimal, res.values, res.has_incumbent = SOLUTION, True, values, True
        res.bound = objective
    elif low.startswith("infeasible") or low.startswith("integer infeasible"):
        # Values after "Infeasible" are junk: none are kept.
        res = SolverResult(NO_SOLUTION, message=status)
    elif low.startswith("unbounded"):
        res.objective = None
        res.message = "unbounded: the objective has no finite optimum (check variable bounds)"
    elif low.startswith("stopped"):
        on_time = "on time" in low
        res.message = ("time limit" if on_time else status.split(" - ")[0].lower())
        if "no integer solution" in low:
            # The values are the LP relaxation's, fractional: not an incumbent.
            res.objective = None
            res.message += ", no integer solution found"
        else:
            res.values, res.has_incumbent = values, True
            res.message += ", incumbent kept"
    else:
        return garbage_result(run, f"cbc solution file has an unknown status {status[:80]!r}")

    # cbc 2.10.3 can contradict itself after a time limit (see module docstring).
    contradiction = None
    if res.has_incumbent and facts["cleanup_stopped"]:
        contradiction = "its final LP stopped on the time limit"
    elif res.has_incumbent and facts["objective"] is not None and facts["objective"] >= NO_INCUMBENT:
        contradiction = f"its log gives objective {facts['objective']:g}"
    elif res.status == SOLUTION and result_line and not result_line.lower().startswith("optimal"):
        contradiction = f"its log says '{result_line}'"
    if contradiction:
        best = facts["incumbent"]
        return SolverResult(UNKNOWN, missing_means_zero=True, bound=facts["bound"], message=(
            f"cbc reported '{status}' but {contradiction}; values discarded"
            + (f" (its best incumbent was {best:g})" if best is not None else "")
            + ". Re-run with -timeMode elapsed or a longer limit"))
    return res
