"""``x != 0`` as ``|x| >= eps`` with one binary per variable, for MILP targets.

With ``x`` in ``[L, U]`` and ``L < 0 < U``, a binary ``t`` picks the side:
``x >= eps - (eps - L)(1 - t)`` and ``x <= -eps + (U + eps) t``. Where the
box excludes one side the bound is tightened instead. SMT-LIB keeps the
exact ``(not (= x 0))``; the MILP form is stronger by ``eps`` (default
1e-3, ``--epsilon``), so a MILP "no solution" there is proven only for
``|x| >= eps``.
"""
from __future__ import annotations

import numpy as np

from ..ir.program import BOOL, GE, LE, LinearBlock, NonzeroBlock, Program
from .reduction import Reduction


class NonzeroBigM(Reduction):
    name = "nonzero_big_m"

    def applies(self, program: Program) -> bool:
        return any(isinstance(b, NonzeroBlock) for b in program.blocks)

    def rewrite(self, program: Program) -> dict:
        count = 0
        for i, blk in enumerate(list(program.blocks)):
            if not isinstance(blk, NonzeroBlock):
                continue
            eps = blk.eps
            x = blk.x
            L, U = program.lb[x], program.ub[x]
            pos_only, neg_only = L >= 0, U <= 0
            program.lb[x[pos_only]] = np.maximum(L[pos_only], eps)
            program.ub[x[neg_only]] = np.minimum(U[neg_only], -eps)
            both = ~(pos_only | neg_only)
            rows = []
            if both.any():
                xs, Lb, Ub = x[both], L[both], U[both]
                Lb = np.where(np.isfinite(Lb), Lb, -1e6)
                Ub = np.where(np.isfinite(Ub), Ub, 1e6)
                n = len(xs)
                t = program.add_vars(f"{blk.name}.side", (n,), BOOL)
                # x - (eps - L) t >= L
                rows.append(LinearBlock.from_dense_rows(blk.name + ".pos", np.stack([xs, t], 1),
                                                        np.stack([np.ones(n), -(eps - Lb)], 1), GE, Lb))
                # x - (U + eps) t <= -eps
                rows.append(LinearBlock.from_dense_rows(blk.name + ".neg", np.stack([xs, t], 1),
                                                        np.stack([np.ones(n), -(Ub + eps)], 1), LE, -eps))
            program.blocks[i] = LinearBlock.concat(blk.name, rows)
            count += len(x)
        return {"nonzero": count}
