"""What a solver run returns, whatever the solver."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

SOLUTION = "solution"  # sat / optimal / feasible: values are an answer
NO_SOLUTION = "no_solution"  # unsat / infeasible: proven
UNKNOWN = "unknown"  # gave up or time limit; values hold the incumbent if any
ERROR = "error"  # crashed, refused the input, or printed nothing nncc can read


@dataclass
class SolverResult:
    """A solver's verdict and values keyed by the solver-side variable names.

    ``exact`` holds rational values where the solver printed them exactly
    (SMT-LIB); ``approximate`` names values that were irrational (algebraic
    numbers) and were approximated to a float. ``optimal`` is True when the
    solver proved the objective optimal; ``bound`` is its best bound.
    ``missing_means_zero`` is True when the solver leaves zero-valued
    variables out of its solution (cbc does in integer problems): a variable
    absent from ``values`` is then 0, not unknown.
    """

    status: str
    values: dict[str, float] = field(default_factory=dict)
    exact: dict[str, Fraction] = field(default_factory=dict)
    approximate: set[str] = field(default_factory=set)
    objective: float | None = None
    bound: float | None = None
    optimal: bool = False
    has_incumbent: bool = False
    solver: str = ""
    version: str = ""
    seconds: float = 0.0
    message: str = ""
    stdout: str = ""
    stderr: str = ""
    stopped: bool = False   # killed because another solver of a race answered first
    # a race's record (nncc.solvers.race): every racer's status and seconds, and whether
    # this result won (decided and was accepted) or was only the best that came back
    race: dict = field(default_factory=dict)
    race_winner: bool = False
    returncode: int | None = None
    missing_means_zero: bool = False


def race_note(result: SolverResult) -> str | None:
    """One sentence on a race's result (:mod:`nncc.solvers.race`), or None for a run of
    one solver."""
    if not result.race:
        return None
    others = ", ".join(f"{n} {r['status']} after {r['seconds']:.2f} s"
                       for n, r in result.race.items() if n != result.solver)
    if result.race_winner:
        return (f"race: {result.solver} answered first ({result.status}, "
                f"{result.seconds:.2f} s); {others}")
    return (f"race: no racer decided; the best answer is {result.solver}'s "
            f"({result.status}); {others}")
