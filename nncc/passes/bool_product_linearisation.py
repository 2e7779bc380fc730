"""Exact linearisation of ``p = b * x`` (``b`` binary, ``x`` in ``[L, U]``).

Four rows, exact for a 0/1 ``b``:
``p >= L b``, ``p <= U b``, ``p <= x - L (1 - b)``, ``p >= x - U (1 - b)``.
"""
from __future__ import annotations

import numpy as np

from ..errors import TargetError
from ..ir.program import GE, LE, BoolProductBlock, LinearBlock, Program
from .reduction import Reduction


class BoolProductLinearisation(Reduction):
    name = "bool_product_linearisation"

    def applies(self, program: Program) -> bool:
        return any(isinstance(b, BoolProductBlock) for b in program.blocks)

    def rewrite(self, program: Program) -> dict:
        count = 0
        for i, blk in enumerate(list(program.blocks)):
            if not isinstance(blk, BoolProductBlock):
                continue
            L, U = program.lb[blk.x], program.ub[blk.x]
            if not (np.all(np.isfinite(L)) and np.all(np.isfinite(U))):
                raise TargetError(f"product block '{blk.name}' multiplies a Boolean by an unbounded "
                                  "variable; MILP needs finite bounds (or use --target smtlib)")
            p, b, x = blk.out, blk.b, blk.x
            n = len(p)
            one = np.ones(n)
            rows = [
                # p - L b >= 0
                LinearBlock.from_dense_rows(blk.name + ".lo", np.stack([p, b], 1),
                                            np.stack([one, -L], 1), GE, 0.0),
                # p - U b <= 0
                LinearBlock.from_dense_rows(blk.name + ".hi", np.stack([p, b], 1),
                                            np.stack([one, -U], 1), LE, 0.0),
                # p - x - L b <= -L
                LinearBlock.from_dense_rows(blk.name + ".on_hi", np.stack([p, x, b], 1),
                                            np.stack([one, -one, -L], 1), LE, -L),
                # p - x - U b >= -U
                LinearBlock.from_dense_rows(blk.name + ".on_lo", np.stack([p, x, b], 1),
                                            np.stack([one, -one, -U], 1), GE, -U),
            ]
            program.lb[p] = np.maximum(program.lb[p], np.minimum(L, 0.0))
            program.ub[p] = np.minimum(program.ub[p], np.maximum(U, 0.0))
            program.blocks[i] = LinearBlock.concat(blk.name, rows)
            count += n
        return {"products": count}
