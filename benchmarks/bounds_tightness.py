"""Tightness and cost of interval, symbolic, LP and MILP bounds on a 784-64-64-10 ReLU network.

The network: random He-scaled weights (normal, std sqrt(2 / fan_in)), small
random biases, seed 0 -- a stand-in for an MNIST-sized MLP.  Input boxes: the
L-infinity balls of radius 0.02, 0.05 and 0.1 around a random point of
[0, 1]^784 (clipped to [0, 1]), and the whole of [0, 1]^784.

Methods: interval; symbolic (back-substitution, nncc's default); LP and MILP
(which start from the symbolic bounds).  Prints, per box and method: seconds, unstable ReLUs (of 128), mean width of
the pre-activation bounds of the ReLUs, mean width of the 10 output bounds,
and how many neurons the solves tightened / left at interval bounds (MILP:
LP solves + MILP solves).

    python benchmarks/bounds_tightness.py                 # LP 30 s, MILP 60 s per box (~5 min)
    python benchmarks/bounds_tightness.py --quick         # LP 5 s, MILP 5 s per box
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nncc.analysis.interval_bounds import interval_bounds  # noqa: E402
from nncc.analysis.lp_bounds import lp_bounds  # noqa: E402
from nncc.analysis.symbolic_bounds import symbolic_bounds  # noqa: E402
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu  # noqa: E402


def he_network(sizes=(784, 64, 64, 10), seed: int = 0) -> FixedNetwork:
    """Dense ReLU network with He-normal weights and biases of std 0.1."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(size=(n_out, n_in)) * np.sqrt(2.0 / n_in)
        layers.append(Affine(f"dense{i}", W, rng.normal(size=n_out) * 0.1))
        if i < len(sizes) - 2:
            layers.append(Relu(f"relu{i}", n_out))
    net = FixedNetwork("he_784_64_64_10", (sizes[0],), (sizes[-1],), layers)
    net.check_shapes()
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lp-budget", type=float, default=30.0)
    ap.add_argument("--milp-budget", type=float, default=60.0)
    ap.add_argument("--neuron-time", type=float, default=2.0, help="MILP time limit per solve")
    ap.add_argument("--quick", action="store_true", help="5 s budgets")
    args = ap.parse_args()
    if args.quick:
        args.lp_budget = args.milp_budget = 5.0
        args.neuron_time = 1.0

    net = he_network()
    x0 = np.random.default_rng(1).uniform(0, 1, 784)
    boxes = [(f"eps={r}", np.clip(x0 - r, 0, 1), np.clip(x0 + r, 0, 1)) for r in (0.02, 0.05, 0.1)]
    boxes.append(("[0,1]^784", np.zeros(784), np.ones(784)))

    # check soundness on samples as we go: a benchmark of wrong bounds is worthless
    rng = np.random.default_rng(2)

    print(f"network {net.name}: {net.relu_count()} ReLUs; LP budget {args.lp_budget} s, "
          f"MILP budget {args.milp_budget} s ({args.neuron_time} s per solve)")
    head = f"{'box':>10} {'method':>8} {'seconds':>8} {'unstable':>8} {'pre-act width':>13} " \
           f"{'out width':>10} {'tightened':>9} {'left':>5}"
    print(head)
    print("-" * len(head))
    for name, lo, hi in boxes:
        X = np.vstack([rng.uniform(lo, hi, size=(2000, 784)), lo[None], hi[None]])
        _, outs = net.forward(X, return_all=True)
        runs = []
        t = time.perf_counter()
        ib = interval_bounds(net, lo, hi)
        runs.append(("interval", time.perf_counter() - t, ib))
        t = time.perf_counter()
        sb = symbolic_bounds(net, lo, hi)
        runs.append(("symbolic", time.perf_counter() - t, sb))
        t = time.perf_counter()
        lb = lp_bounds(net, lo, hi, time_budget=args.lp_budget)
        runs.append(("lp", time.perf_counter() - t, lb))
        t = time.perf_counter()
        mb = lp_bounds(net, lo, hi, time_budget=args.milp_budget, method="milp",
                       neuron_time_limit=args.neuron_time)
        runs.append(("milp", time.perf_counter() - t, mb))
        for method, secs, b in runs:
            assert b.contains(outs), f"{method} bounds miss a sampled point"
            out_w = float(np.mean(b.hi[-1] - b.lo[-1]))
            st = b.stats
            tight = st.get("neurons_tightened", "")
            left = st.get("neurons_left", "")
            if method == "milp":
                tight = f"{st['neurons_tightened']}+{st['milp_neurons_tightened']}"
                left = f"{st['neurons_left']}+{st['milp_neurons_left']}"
            print(f"{name:>10} {method:>8} {secs:8.3f} {b.stable_counts()['unstable']:8d} "
                  f"{b.mean_pre_relu_width():13.4f} {out_w:10.4f} {tight!s:>9} {left!s:>5}")
        sampled = np.mean(np.concatenate([outs[k].max(0) - outs[k].min(0) for k in (0, 2)]))
        print(f"{'':>10} {'sampled':>8} {'':>8} {'':>8} {sampled:13.4f}   (range over the samples: a lower bound)")


if __name__ == "__main__":
    main()
