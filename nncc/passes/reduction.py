"""Reductions in the style of CVXPY: ``apply`` rewrites, ``invert`` maps answers back.

A pass over a :class:`~nncc.ir.program.Program` returns a new program and
JSON-able inverse data; ``invert`` turns a value vector of the new program
into one of the old. The passes here only append variables and replace
blocks, so the usual inverse is "keep the first ``n_vars`` values".
"""
from __future__ import annotations

import copy

import numpy as np

from ..ir.program import Program


class Reduction:
    """One rewrite of a program; subclasses implement :meth:`rewrite`, and
    :meth:`invert` where keeping the first ``n_vars`` values is not the inverse.
    Each subclass is known by its ``name``, which its inverse data records, so that
    :func:`invert_chain` calls the pass's own :meth:`invert`."""

    name = "reduction"
    _by_name: dict = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        Reduction._by_name[cls.name] = cls

    def applies(self, program: Program) -> bool:
        """Whether the program contains anything this pass rewrites."""
        return True

    def apply(self, program: Program) -> tuple[Program, dict]:
        out = copy.copy(program)
        out.blocks = list(program.blocks)
        out.groups = list(program.groups)
        # bounds are tightened in place by passes: never touch the input's arrays
        out.lb, out.ub, out.kinds = program.lb.copy(), program.ub.copy(), program.kinds.copy()
        n = program.n_vars
        info = self.rewrite(out) or {}
        return out, {"pass": self.name, "n_vars": n, **info}

    def rewrite(self, program: Program) -> dict | None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def invert(cls, x: np.ndarray, inverse: dict) -> np.ndarray:
        return x[: inverse["n_vars"]]


def apply_chain(program: Program, passes: list[Reduction]) -> tuple[Program, list[dict]]:
    """Apply ``passes`` in order; return the program and the inverse data list."""
    inverses = []
    for p in passes:
        if p.applies(program):
            program, inv = p.apply(program)
            inverses.append(inv)
    return program, inverses


def invert_chain(x: np.ndarray, inverses: list[dict]) -> np.ndarray:
    """Map a value vector of the final program back through every pass."""
    for inv in reversed(inverses):
        x = Reduction._by_name.get(inv.get("pass"), Reduction).invert(x, inv)
    return x
