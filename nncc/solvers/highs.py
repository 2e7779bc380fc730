"""HiGHS: ``highs --model_file FILE --solution_file OUT --time_limit S``.

The status is the solution file's ``Model status`` line; values are the
``# Columns N`` block of ``# Primal solution values`` (13 significant
digits). highs exits 0 for optimal, infeasible, unbounded and time limit, and
255 without a solution file on parse errors -- including ``Parser reached
timeout``, since its time limit includes reading the file.
"""
from __future__ import annotations

import os
import re

from nncc.solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult

_VERSION = re.compile(r"HiGHS version (\S+?)\.?(?:\s|$)", re.IGNORECASE)
# B&B table: Src Proc. InQueue | Leaves Expl. | BestBound BestSol Gap | ...
_TABLE = re.compile(r"^\s*[A-Za-z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s+(\S+)")
_REPORT = re.compile(r"^\s*(Primal bound|Dual bound)\s+(\S+)")


def parse_version(text: str) -> str | None:
    """``HiGHS version 1.15.1 Githash ...`` -> ``1.15.1``."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "inf", "-inf" parse; "Large" and "-" do not


def progress(line: str) -> str | None:
    """Incumbent text from one line of the branch-and-bound table, or None."""
    m = _TABLE.match(line)
    if not m:
        return None
    bound, best, gap = _number(m.group(1)), _number(m.group(2)), m.group(3)
    if best is None or abs(best) == float("inf"):
        return None if bound is None else f"no incumbent yet, bound {bound:g}"
    text = f"incumbent {best:g}"
    if bound is not None and abs(bound) != float("inf"):
        text += f", bound {bound:g}"
    if gap.endswith("%"):
        text += f", gap {gap}"
    return text


def read_solution(text: str) -> tuple[str, bool, float | None, dict[str, float]]:
    """Split a highs solution file into (model status, primal feasible, objective, values)."""
    lines = [ln.strip() for ln in text.splitlines()]
    status, feasible, objective, values = "", False, None, {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line == "Model status" and i + 1 < len(lines):
            status = lines[i + 1]
            i += 2
            continue
        if line.startswith("Model status"):  # "Model status: Optimal" in other styles
            status = line.split(":", 1)[-1].strip()
        elif line == "# Primal solution values" and i + 1 < len(lines):
            feasible = lines[i + 1] == "Feasible"
            i += 2
            while i < len(lines) and not lines[i].startswith("# Dual"):
                if lines[i].split()[:1] == ["Objective"]:   # not Objective_bound (1.16)
                    objective = _number(lines[i].split()[-1])
                elif lines[i].startswith("# Columns"):
                    count = int(lines[i].split()[-1])
                    for entry in lines[i + 1:i + 1 + count]:
                        name, _, value = entry.rpartition(" ")
                        num = _number(value)
                        if name and num is not None:
                            values[name] = num
                    i += count
                i += 1
            continue
        i += 1
    return status, feasible, objective, values


# With a known answer (an adversarial start's cutoff) only the proof is left to do,
# and highs' primal heuristics cost time for nothing: on the MNIST epsilon-0.1 balls
# their sub-MIPs (RINS, RENS) took 8 of the 12 s of a 3-node search.
BOUND_FOCUS = {"mip_heuristic_effort": "0", "mip_heuristic_run_feasibility_jump": "false",
               "mip_heuristic_run_rins": "false", "mip_heuristic_run_rens": "false",
               "mip_heuristic_run_root_reduced_cost": "false"}


# A training MILP's root LP (a zero objective, one dense row per sample and unit) is
# highly degenerate: dual simplex took 104 s of the 105 s for 200 MNIST images on a
# 784-10 network, the interior-point method 15 s, and randomized rounding of that
# point found the answer at the root (benchmarks/train_root_lp.py). The highsbox
# binary takes the option only from an options file.
ROOT_IPM = {"mip_lp_solver": "ipm"}
FOCUS = {"bound": BOUND_FOCUS, "root-ipm": ROOT_IPM}
# ``solve --root-lp``: ``auto`` is the interior-point method for training MILPs and
# highs' own choice else (``nncc.pipeline.solve._focus``)
ROOT_LP = ("auto", "ipm", "simplex")


def focus_args(focus: str, tmpdir: str) -> list[str]:
    """Arguments for ``focus`` (``"bound"``: an answer is known, prove the bound;
    ``"root-ipm"``: the root LP by the interior-point method): an options file in
    ``tmpdir``."""
    if focus not in FOCUS:
        return []
    path = os.path.join(tmpdir, "focus.opt")
    with open(path, "w") as f:
        f.writelines(f"{k} = {v}\n" for k, v in FOCUS[focus].items())
    return ["--options_file", path]


def _log_facts(log: str) -> tuple[float | None, str | None]:
    bound, error = None, None
    for line in log.splitlines():
        m = _REPORT.match(line)
        if m and m.group(1) == "Dual bound":
            bound = _number(m.group(2))
        s = line.strip()
        if error is None and (s.startswith("ERROR") or "rror loading" in s or "timeout" in s):
            error = s
    return bound, error


def read_result(run) -> SolverResult:
    """SolverResult from a finished highs run (log on stdout, solution file)."""
    from nncc.solvers.runner import garbage_result

    log = run.stdout + "\n" + run.stderr
    bound, error = _log_facts(log)
    if not run.solution_text or not run.solution_text.strip():
        if "Parser reached timeout" in log:
            return SolverResult(UNKNOWN, message="time limit (reached while reading the model)")
        if error:
            return SolverResult(ERROR, message=f"highs could not solve the model: {error}")
        return garbage_result(run, "highs wrote no solution file")
    status, feasible, objective, values = read_solution(run.solution_text)
    low = status.lower()
    if low == "optimal":
        return SolverResult(SOLUTION, values=values, objective=objective, optimal=True,
                            bound=objective if bound is None else bound, has_incumbent=True)
    if low == "empty":
        return SolverResult(SOLUTION, values=values, objective=objective, optimal=True,
                            message="empty model")
    if low == "infeasible":
        return SolverResult(NO_SOLUTION, message="infeasible")
    if "unbounded" in low:
        return SolverResult(UNKNOWN, message=f"{low}: the objective has no finite optimum "
                                             "(check variable bounds)")
    if ("limit" in low or "interrupted" in low or "objective" in low or low == "unknown"):
        res = SolverResult(UNKNOWN, bound=bound, message="time limit" if "time" in low else low)
        if feasible and values:
            res.values, res.objective, res.has_incumbent = values, objective, True
            res.message += ", incumbent kept"
        else:
            res.message += ", no feasible solution found"
        return res
    if status:
        return SolverResult(ERROR, message=f"highs: {status}" + (f" ({error})" if error else ""))
    return garbage_result(run, "highs solution file has no model status")
