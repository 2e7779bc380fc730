"""The most typical digit: ``maximize net.y[K] { input in [0, 1]  wins  ratio 1.2 }``.

On the MNIST 784-64-64-10 network of ``benchmarks/mnist_model.py``, per class
K: the start alone (gradient ascent and LPs over activation regions,
:mod:`nncc.analysis.maximize_start`), then the same solver and time limit
without the start (the MILP alone) and with it (the start's value as the
solver's cutoff). Prints per run the value (checked by the forward pass), the
bound on the optimum reported beside it, the gap and the seconds; and the
ratio of the values with and without the start.

    python benchmarks/maximize_mnist.py [--classes 8] [--time-limit 60] [--solver highs]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import mnist_model  # noqa: E402

import nncc  # noqa: E402
from nncc.analysis.maximize_start import find_maximize_start  # noqa: E402
from nncc.problem.onnx_import import load_onnx  # noqa: E402
from nncc.problem.query import MaximizeQuery  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default="8", help="comma-separated classes (default 8)")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--cache", default=mnist_model.DEFAULT_CACHE)
    args = ap.parse_args()
    onnx_path, _ = mnist_model.build(args.cache)
    net = load_onnx(onnx_path)
    lo, hi = np.zeros(net.n_inputs), np.ones(net.n_inputs)
    print(f"{'class':>5} {'run':<14} {'status':<8} {'value':>10} {'bound':>10} {'gap':>8} "
          f"{'seconds':>8}")
    for k in (int(c) for c in args.classes.split(",")):
        q = MaximizeQuery(f"typical_{k}", net, k, lo, hi, wins=True, ratio=1.2)
        t = time.perf_counter()
        s = find_maximize_start(q, lo, hi, budget=2.0)
        print(f"{k:>5} {'start alone':<14} {'-':<8} "
              f"{(s.value if s else float('nan')):>10.4g} {'-':>10} {'-':>8} "
              f"{time.perf_counter() - t:>8.2f}")
        values = {}
        for name, start in (("MILP alone", False), ("MILP + start", True)):
            t = time.perf_counter()
            a = nncc.solve(q, args.solver, time_limit=args.time_limit, start=start)
            v = a.check.value if a.check is not None and a.check.ok else float("nan")
            b = a.result.bound if a.result is not None and a.result.bound is not None else float("nan")
            gap = abs(b - v) / max(abs(b), 1e-12) if np.isfinite(b) and np.isfinite(v) else float("nan")
            values[name] = v
            print(f"{k:>5} {name:<14} {a.status:<8} {v:>10.4g} {b:>10.4g} {gap:>8.1%} "
                  f"{time.perf_counter() - t:>8.1f}")
        print(f"      value with the start / without: "
              f"{values['MILP + start'] / values['MILP alone']:.2f}x")


if __name__ == "__main__":
    main()
