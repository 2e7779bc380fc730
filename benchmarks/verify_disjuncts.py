"""Disjunctive properties: one solver run per disjunct (split) against one run with an
indicator binary per disjunct (indicator), on the VNN-COMP 2021 ACAS Xu test networks.

The property is ACAS Xu property 3's box cut into K slices along X_3 and X_4, each
slice a disjunct with the rows "Y_0 <= Y_j - t" (t shifts the rows so that some
runs are sat and some unsat, and the bounds alone do not decide).  Falsification
is off, so every disjunct the bounds leave open goes to the solver.

    python3 benchmarks/verify_disjuncts.py [--solver highs] [--k 4]
"""
import argparse
import time
from pathlib import Path

import numpy as np

from nncc.frontend.vnnlib import parse_vnnlib
from nncc.problem.onnx_import import load_onnx
from nncc.pipeline.verify import verify

F = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vnncomp2021_test"
LO = [-0.30353115613746867, -0.009549296585513092, 0.4933803235848431, 0.3, 0.3]
HI = [-0.29855281193475053, 0.009549296585513092, 0.49999999998567607, 0.5, 0.5]


def prop_text(k: int, t: float) -> str:
    head = "".join(f"(declare-const X_{i} Real)\n" for i in range(5))
    head += "".join(f"(declare-const Y_{j} Real)\n" for j in range(5))
    cuts = np.linspace(0.3, 0.5, k + 1)
    blocks = []
    for a in range(k):
        box = [f"(>= X_{i} {LO[i]!r}) (<= X_{i} {HI[i]!r})" for i in range(3)]
        box += [f"(>= X_3 {float(cuts[a])!r}) (<= X_3 {float(cuts[a + 1])!r})",
                f"(>= X_4 {float(cuts[k - 1 - a])!r}) (<= X_4 {float(cuts[k - a])!r})"]
        rows = " ".join(f"(<= Y_0 (- Y_{j} {t!r}))" for j in range(1, 5))
        blocks.append(f"(and {' '.join(box)} {rows})")
    return head + "(assert (or\n " + "\n ".join(blocks) + "))\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--time-limit", type=float, default=120)
    ap.add_argument("--bounds", default="symbolic", help="interval leaves more to the solver")
    ap.add_argument("--nets", nargs="+", default=["test_sat", "test_unsat"])
    ap.add_argument("--t", type=float, nargs="+", default=[0.0, 0.002, 0.005, -0.02, -0.05])
    a = ap.parse_args()
    print(f"{'net':<10} {'K':>2} {'t':>6} {'mode':<9} {'verdict':<8} {'open':>4} {'runs':>4} "
          f"{'solver s':>8} {'total s':>8}")
    for name in a.nets:
        net = load_onnx(str(F / f"{name}.onnx"))
        for k in a.k:
            for t in a.t:
                for mode in ("split", "indicator"):
                    prop = parse_vnnlib(prop_text(k, t), f"slices{k}.vnnlib")
                    t0 = time.perf_counter()
                    v = verify(None, None, net=net, prop=prop, solver=a.solver,
                               time_limit=a.time_limit, falsify_budget=0.0, disjuncts=mode,
                               bounds=a.bounds)
                    print(f"{name:<10} {k:>2} {t:>6} {mode:<9} {v.status:<8} "
                          f"{k - v.proven_by_bounds:>4} {v.milp_runs:>4} "
                          f"{v.seconds.get('solver', 0):>8.2f} {time.perf_counter() - t0:>8.2f}",
                          flush=True)


if __name__ == "__main__":
    main()
