"""Strict rows (``<``, ``>``) as non-strict rows with an epsilon, for MILP targets.

MPS and LP cannot say ``a x > b``; solvers also accept a row violated by
their feasibility tolerance (about 1e-6 to 1e-7 for cbc and highs). So
``a x > b`` becomes ``a x >= b + eps`` with ``eps`` well above that
tolerance (default 1e-3, ``--epsilon``), and the forward-pass check then
sees a strict inequality that really holds.
"""
from __future__ import annotations

import numpy as np

from ..ir.program import GE, GT, LE, LT, LinearBlock, Program
from .reduction import Reduction

DEFAULT_EPSILON = 1e-3


class StrictEpsilon(Reduction):
    name = "strict_epsilon"

    def __init__(self, epsilon: float = DEFAULT_EPSILON):
        self.epsilon = float(epsilon)

    def applies(self, program: Program) -> bool:
        return any(isinstance(b, LinearBlock) and np.isin(b.sense, (LT, GT)).any()
                   for b in program.blocks)

    def rewrite(self, program: Program) -> dict:
        count = 0
        for i, b in enumerate(program.blocks):
            if not isinstance(b, LinearBlock):
                continue
            lt, gt = b.sense == LT, b.sense == GT
            if not (lt.any() or gt.any()):
                continue
            sense, rhs = b.sense.copy(), b.rhs.copy()
            sense[lt], rhs[lt] = LE, rhs[lt] - self.epsilon
            sense[gt], rhs[gt] = GE, rhs[gt] + self.epsilon
            count += int(lt.sum() + gt.sum())
            program.blocks[i] = LinearBlock(b.name, b.indptr, b.indices, b.data, sense, rhs)
        return {"epsilon": self.epsilon, "rows": count}
