"""Per-unit big-M against the paper's blanket M for binarised networks, same instances, same solver.

Two figures, each as a ratio seed / per-unit in one run:

* time to a proven optimum on small instances (N rows of the original Breast
  Cancer Wisconsin data, raw features 1-10 as in the paper, a step layer of d1
  units with learned thresholds, weights in [-1, 1]);
* the optimality gap (errors - bound) / errors after a time limit on a larger
  instance, and the incumbent's errors (the LP bound of a big-M model of
  training errors stays near 0 for long, so the gap alone says little).

Both encodings are solved by the same solver (highs by default) on the same
rows. Defaults are small (N = 50, 60, 70, 80, d1 = 3, 60 s limit; gap on N = 200,
d1 = 5, 20 s); ``--full`` uses N = 50 to 100 (300 s) and the full training part
(546 rows, d1 = 25) with 60 s for the gap. ``--smoke`` is seconds long (tests).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from nncc.api import solve
from nncc.problem.dataset import Dataset
from nncc.problem.datasets_binarised import breast_cancer_original
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery


def query(X, y, d1: int, big_m: str) -> TrainQuery:
    box = ParamDomain("real", -1.0, 1.0)
    net = Network("bdnn", "x", X.shape[1], [
        DenseLayer("h", d1, "step", box, box, levels=(0.0, 1.0), threshold="learned"),
        DenseLayer("y", 2, "identity", box, box)])
    data = Dataset("cancer", X, y, [0, 1], "original Wisconsin data")
    return TrainQuery(f"N={len(y)} d1={d1} M={big_m}", net, data, objective="errors", big_m=big_m)


def run(X, y, d1, big_m, solver, limit):
    ans = solve(query(X, y, d1, big_m), solver=solver, time_limit=limit)
    r = ans.result
    max_m = ans.compilation.encoded.inverse["max_M"]
    mean_m = ans.compilation.encoded.inverse["mean_step_M"]
    ok = ans.check is not None and ans.check.ok
    return {"status": ans.status, "seconds": r.seconds, "errors": ans.check.errors if ok else None,
            "gap": ans.check.gap if ok else None, "max_M": max_m, "mean_M": mean_m}


def _row(instance: str, m: str, r: dict) -> None:
    gap = "-" if r["gap"] is None else f"{r['gap']:.1%}"
    print(f"{instance:<22}{m:>6}{r['mean_M']:>8.3g}{r['max_M']:>11.3g}{r['status']:>10}"
          f"{str(r['errors']):>8}{r['seconds']:>9.2f}{gap:>8}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--full", action="store_true")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--solver", default="highs", choices=["highs", "cbc"])
    a = p.parse_args(argv)
    if a.full:
        small, d1_small, limit, big_n, d1_big, gap_limit = [50, 60, 70, 80, 100], 3, 300.0, 546, 25, 60.0
    elif a.smoke:
        small, d1_small, limit, big_n, d1_big, gap_limit = [16], 2, 30.0, 40, 2, 2.0
    else:
        small, d1_small, limit, big_n, d1_big, gap_limit = [50, 60, 70, 80], 3, 60.0, 200, 5, 20.0
    X, y = breast_cancer_original("drop")  # raw scores 1..10: the paper's r = 10
    order = np.random.default_rng(0).permutation(len(y))
    print(f"solver {a.solver}; original Wisconsin data (missing rows dropped), raw features 1-10; "
          "weights and thresholds in [-1, 1]")
    print(f"{'instance':<22}{'M':>6}{'mean M':>8}{'largest M':>11}{'status':>10}{'errors':>8}"
          f"{'seconds':>9}{'gap':>8}")
    ratios = []
    for n in small:
        rows = order[:n]
        out = {m: run(X[rows], y[rows], d1_small, m, a.solver, limit) for m in ("unit", "seed")}
        for m, r in out.items():
            _row(f"N={n} d1={d1_small}", m, r)
        if out["unit"]["status"] == out["seed"]["status"] == "solution":
            ratios.append(out["seed"]["seconds"] / max(out["unit"]["seconds"], 1e-3))
            print(f"  time-to-optimum ratio seed / per-unit: {ratios[-1]:.2f}")
        else:
            print(f"  no ratio: not both proven within {limit:g} s")
    rows = order[:big_n]
    out = {m: run(X[rows], y[rows], d1_big, m, a.solver, gap_limit) for m in ("unit", "seed")}
    for m, r in out.items():
        _row(f"N={big_n} d1={d1_big}", m, r)
    gu, gs = out["unit"]["gap"], out["seed"]["gap"]
    if gu is not None and gs is not None:
        print(f"  gap after {gap_limit:g} s, ratio seed / per-unit: "
              + (f"{gs / gu:.2f}" if gu > 0 else f"per-unit gap 0, seed gap {gs:.1%}"))
        eu, es = out["unit"]["errors"], out["seed"]["errors"]
        print(f"  incumbent errors after {gap_limit:g} s, ratio seed / per-unit: "
              + (f"{es / eu:.2f}" if eu else f"per-unit 0, seed {es}"))
    else:
        print(f"  gap ratio: an encoding had no incumbent after {gap_limit:g} s "
              f"(per-unit {gu}, seed {gs})")
    if ratios:
        print(f"time-to-optimum ratio seed / per-unit (geometric mean of {len(ratios)}): "
              f"{float(np.exp(np.mean(np.log(ratios)))):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
