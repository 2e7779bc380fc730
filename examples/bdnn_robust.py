"""Robust and sparse binarised networks on the Breast Cancer Wisconsin data (original, 683 x 9).

For each radius R (``robust linf R``; 0 is plain training) and each seeded
80/20 shuffle of a row sample, trains a one-hidden-layer step network by the
MILP (HiGHS, within a time limit) or the local search (``--method
local-search``), optionally with ``regularize l1`` /
``nonzero at most K``, and reports per radius: training errors counted
robustly at R (as the MILP minimises them), test accuracy, *robust* test
accuracy at R (a test sample counts only if every first-layer unit keeps its
side over the whole L-infinity ball: the exact check of
:func:`nncc.checks.check_binarised.robust_correct`), the number of
non-zero weights, the MILP's gap and seconds. Every answer is re-checked
(numpy and onnxruntime) before it is counted.

    python3 examples/bdnn_robust.py --radii 0 0.05 0.1 --rows 120 --shuffles 2
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bdnn_breast_cancer import load, network  # noqa: E402

from nncc.api import solve  # noqa: E402
from nncc.problem.dataset import Dataset  # noqa: E402
from nncc.problem.datasets_binarised import split_dataset  # noqa: E402
from nncc.problem.query import TrainQuery  # noqa: E402
from nncc.checks.check_binarised import nonzero_weights, robust_correct  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--radii", type=float, nargs="+", default=[0.0, 0.05, 0.1])
    p.add_argument("--width", type=int, default=3, help="hidden units d1")
    p.add_argument("--rows", type=int, default=120, help="a seeded sample of the 683 rows")
    p.add_argument("--shuffles", type=int, default=2)
    p.add_argument("--l1", type=float, default=0.0, help="regularize l1 LAMBDA")
    p.add_argument("--budget", type=int, help="nonzero at most K")
    p.add_argument("--method", choices=["milp", "local-search"], default="milp")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds per run")
    a = p.parse_args(argv)
    if a.method == "local-search" and (a.l1 or a.budget is not None):
        p.error("the local search minimises (robust) errors only: --l1 / --budget need --method milp")
    X, y, what = load("original", a.rows)
    print(f"# {what}; d1 = {a.width}; {a.shuffles} shuffles; {a.method}, {a.time_limit:g} s per run "
          "(highs)"
          + (f"; regularize l1 {a.l1:g}" if a.l1 else "")
          + (f"; nonzero at most {a.budget}" if a.budget is not None else ""))
    print(f"{'radius':>7}{'answered':>10}{'train rob.err':>15}{'test acc':>10}{'test rob.acc':>14}"
          f"{'non-zero':>10}{'gap':>8}{'s':>7}")
    for r in a.radii:
        rows = []
        for s in range(a.shuffles):
            train, test = split_dataset(Dataset("cancer", X, y, [0, 1], what), 80, 20, s)
            net = network(train.n_features, a.width, True)
            q = TrainQuery(f"robust {r:g}", net, train, objective="errors", robust=r, l1=a.l1,
                           nonzero_budget=a.budget, method=a.method, seed=s)
            t0 = time.perf_counter()
            ans = solve(q, solver="highs", time_limit=a.time_limit)
            sec = time.perf_counter() - t0
            if ans.params is None or ans.check is None or not ans.check.ok:
                rows.append(None)
                continue
            rows.append((len(train.y) * (1 - ans.check.accuracy) if r == 0 else
                         ans.check.parts["robust_errors"],
                         float(np.mean(np.argmax(net.forward(ans.params, test.X), 1) == test.y)),
                         float(np.mean(robust_correct(net, ans.params, test.X, test.y, r))),
                         nonzero_weights(net, ans.params),
                         np.nan if a.method == "local-search" else ans.check.gap or 0.0, sec))
        done = [t for t in rows if t is not None]
        if not done:
            print(f"{r:>7g}{0:>7}/{len(rows):<2}")
            continue
        m = np.mean(np.array(done, dtype=float), axis=0)
        print(f"{r:>7g}{len(done):>7}/{len(rows):<2}{m[0]:>15.1f}{m[1]:>10.3f}{m[2]:>14.3f}"
              f"{m[3]:>10.1f}{'-' if np.isnan(m[4]) else f'{m[4]:.1%}':>8}{m[5]:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
