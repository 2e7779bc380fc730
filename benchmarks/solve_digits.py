"""Solve time of the paper's digits query: normalised vs the paper's encoding, SMT vs MILP.

digits classes 0 and 1, 100 samples (seed 7), a 64-10-2 ReLU network with
weights in [-1, 1], margin 0.01. Runs, in one process:

* z3 on the paper's (direct, QF_NRA) encoding,
* z3 and cvc5 on the normalised encoding (QF_LRA),
* highs and cbc on the normalised encoding as a MILP,

each with a time limit; a time-out counts as a lower bound (printed ">= T").
Every answer is re-checked by the forward pass.

    python benchmarks/solve_digits.py [--time-limit 120] [--samples 25,50,100] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import nncc  # noqa: E402

PROGRAM = """
network mlp {{ input x[64]  dense h[{hidden}] relu  dense y[2]  weights real in [-1, 1] }}
data digits = bundled "digits" classes [0, 1] sample {samples} seed 7 scale 1/16
train mlp on digits {{
    classify margin {margin}
    normalise {normalise}
}}
"""


def run(samples: int, hidden: int, margin: float, normalise: str, solver: str, limit: float) -> dict:
    text = PROGRAM.format(samples=samples, hidden=hidden, margin=margin, normalise=normalise)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits.nn")
        with open(path, "w") as f:
            f.write(text)
        q = nncc.load(path).query()
        t0 = time.perf_counter()
        ans = nncc.solve(q, solver, time_limit=limit)
        wall = time.perf_counter() - t0
    return {"encoding": "normalised" if normalise == "auto" else "paper (direct)", "solver": solver,
            "status": ans.status, "seconds": wall,
            "solver_seconds": ans.result.seconds if ans.result else None,
            "logic": ans.compilation.logic.smt if ans.compilation else None,
            "accuracy": ans.check.accuracy if ans.check else None,
            "min_margin": ans.check.min_margin if ans.check else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--samples", default="25,50,100", help="comma-separated sample counts")
    ap.add_argument("--hidden", type=int, default=10)
    ap.add_argument("--margin", type=float, default=0.01)
    ap.add_argument("--solvers", default="z3,cvc5,highs,cbc",
                    help="solvers for the normalised encoding (the paper's always runs on z3)")
    ap.add_argument("--json", help="also write the rows as JSON")
    args = ap.parse_args()
    rows = []
    limit = args.time_limit
    for samples in [int(s) for s in args.samples.split(",")]:
        print(f"digits 0/1, {samples} samples, 64-{args.hidden}-2, margin {args.margin}, "
              f"time limit {limit:g} s", flush=True)
        cases = [("off", "z3")] + [("auto", s) for s in args.solvers.split(",")]
        block = []
        for normalise, solver in cases:
            r = run(samples, args.hidden, args.margin, normalise, solver, limit)
            r["samples"] = samples
            block.append(r)
            shown = f"{r['seconds']:8.2f} s" if r["status"] == "solution" else f">= {limit:6.0f} s"
            print(f"  {r['encoding']:<16} {solver:<6} {r['logic'] or '':<8} {r['status']:<12} {shown}"
                  + (f"  accuracy {r['accuracy']:.0%}, margin {r['min_margin']:.4g}"
                     if r["accuracy"] is not None else ""), flush=True)
        base = block[0]
        solved = base["status"] == "solution"
        base_t = base["seconds"] if solved else limit
        for r in block[1:]:
            if r["status"] == "solution":
                print(f"  ratio, paper's encoding on z3 / normalised on {r['solver']}: "
                      f"{base_t / r['seconds']:.1f}x" + ("" if solved else " or more (time-out)"))
        rows += block
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
