"""Print integer formulas held as nested tuples (``(op, arg, ...)``, leaves are
names and ints) as SMT-LIB 2.6: the architecture encoding's writer."""
from __future__ import annotations

from typing import TextIO


def term_text(term) -> str:
    """One term as an s-expression; negative integers as ``(- n)``."""
    if isinstance(term, bool):
        return "true" if term else "false"
    if isinstance(term, int):
        return str(term) if term >= 0 else f"(- {-term})"
    if isinstance(term, str):
        return term
    head, *args = term
    if head == "and" and len(args) == 1:
        return term_text(args[0])
    return "(" + " ".join([head] + [term_text(a) for a in args]) + ")"


def write_formula(formula, out: TextIO, *, check: bool = True) -> None:
    """Header, declarations with their bounds, assertions and (``check``) check-sat / get-value."""
    space = formula.space
    out.write(f"; nncc architecture space '{space.name}': {space.describe()}\n")
    out.write(f"; {formula.logic}: every model is one architecture over {len(formula.decision_vars)} "
              "decision variables (layers, kernel/stride/padding/dilation per slot and dimension)\n")
    out.write("(set-option :produce-models true)\n")
    out.write(f"(set-logic {formula.logic})\n")
    for name, lo, hi in formula.declarations:
        out.write(f"(declare-fun {name} () Int)\n")
        out.write(f"(assert (and (<= {term_text(lo)} {name}) (<= {name} {term_text(hi)})))\n")
    for a in formula.assertions:
        out.write(f"(assert {term_text(a)})\n")
    if check:
        out.write("(check-sat)\n")
        out.write("(get-value (" + " ".join(formula.decision_vars) + "))\n")
