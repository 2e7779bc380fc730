"""ReLU relations as big-M rows with one binary per unstable neuron.

For ``a = max(0, z)`` with ``z`` in ``[L, U]`` (the variables' bounds, which
the encodings derive per neuron from the weight box and the data, never a
blanket constant):

* ``L >= 0``: the neuron is always active, ``a = z``;
* ``U <= 0``: always inactive, ``a = 0``;
* otherwise a binary ``d``: ``a >= z``, ``a >= 0``, ``a <= z - L (1 - d)``,
  ``a <= U d`` (the tightest big-M form for these bounds).

A neuron with an infinite bound cannot be written this way: the pass
refuses it and says which.
"""
from __future__ import annotations

import numpy as np

from ..errors import TargetError
from ..ir.program import BOOL, EQ, GE, LE, LinearBlock, Program, ReluBlock
from .reduction import Reduction


class ReluBigM(Reduction):
    name = "relu_big_m"

    def applies(self, program: Program) -> bool:
        return any(isinstance(b, ReluBlock) for b in program.blocks)

    def rewrite(self, program: Program) -> dict:
        stats = {"active": 0, "inactive": 0, "unstable": 0, "max_M": 0.0}
        for i, b in enumerate(list(program.blocks)):
            if not isinstance(b, ReluBlock):
                continue
            L, U = program.lb[b.inp], program.ub[b.inp]
            bad = ~np.isfinite(L) | ~np.isfinite(U)
            unstable = (L < 0) & (U > 0)
            if np.any(bad & unstable):
                k = int(np.flatnonzero(bad & unstable)[0])
                raise TargetError(f"ReLU block '{b.name}' has an unbounded input (neuron {k}); "
                                  "MILP needs finite bounds on every unstable neuron: give the "
                                  "weights and inputs a box, or use --target smtlib")
            act, ina = L >= 0, U <= 0
            rows = []
            # a = z where always active; a = 0 where always inactive
            if act.any():
                rows.append(LinearBlock.from_dense_rows(
                    b.name + ".active", np.stack([b.out[act], b.inp[act]], 1), [1.0, -1.0], EQ, 0.0))
            if ina.any():
                program.ub[b.out[ina]] = np.minimum(program.ub[b.out[ina]], 0.0)
                program.lb[b.out[ina]] = np.maximum(program.lb[b.out[ina]], 0.0)
            u = unstable
            if u.any():
                n = int(u.sum())
                d = program.add_vars(f"{b.name}.phase", (n,), BOOL)
                a, z, Lu, Uu = b.out[u], b.inp[u], L[u], U[u]
                # a >= z
                rows.append(LinearBlock.from_dense_rows(b.name + ".above_z", np.stack([a, z], 1),
                                                        [1.0, -1.0], GE, 0.0))
                # a - z - L d <= -L
                rows.append(LinearBlock.from_dense_rows(
                    b.name + ".upper_z", np.stack([a, z, d], 1),
                    np.stack([np.ones(n), -np.ones(n), -Lu], 1), LE, -Lu))
                # a - U d <= 0
                rows.append(LinearBlock.from_dense_rows(
                    b.name + ".upper_off", np.stack([a, d], 1),
                    np.stack([np.ones(n), -Uu], 1), LE, 0.0))
                stats["max_M"] = max(stats["max_M"], float(np.max(np.maximum(-Lu, Uu))))
            program.lb[b.out] = np.maximum(program.lb[b.out], 0.0)
            program.blocks[i] = LinearBlock.concat(b.name, rows) if rows else \
                LinearBlock.concat(b.name, [])
            stats["active"] += int(act.sum())
            stats["inactive"] += int(ina.sum())
            stats["unstable"] += int(u.sum())
        return stats
