"""Training with three or more classes: the box-end MILP against the exact QF_NRA query.

With K >= 3 classes nncc restricts the output weights to the ends of their box
(``nncc/encodings/train_vertices.py``): a MILP, solved here by highs and cbc.
The exact query (``normalise off``) keeps the products of output weights and
hidden activations: QF_NRA, for z3 and cvc5. Both run on the same queries, one
after the other, with the pipeline's checked answers:

* iris 4-8-3 on 30 rows (seed 1), the case that had no answer in 60 s;
* iris 4-8-3 on 75 rows (on all 150, scikit-learn's L-BFGS reaches 98.7% at
  best with 8 units, and no method here answers in 60 s);
* digits 64-10-3 (classes 0, 1, 2) on 60 images;
* digits 64-10-10 on 50 images.

Inputs scaled to [0, 1] (min-max), weights and biases real in [-1, 1], margin
0.01. Per instance and method: status, checked, seconds (an unanswered run
counts its time limit); then the ratio of the best exact method's time to the
box-end MILP's (highs), a lower bound where the exact one did not answer.

    python benchmarks/train_k_classes.py [--time-limit 60] [--only NAME]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# (encoding, solver, highs' root LP: the default, by interior point, or by dual simplex)
METHODS = [("box ends", "highs", "auto"), ("box ends", "highs", "simplex"), ("box ends", "cbc", "auto"),
           ("exact", "z3", "auto"), ("exact", "cvc5", "auto")]
# name, bundled set, inputs, hidden units, classes (None: all), rows (None: all)
CASES = [("iris 4-8-3 n=30", "iris", 4, 8, None, 30), ("iris 4-8-3 n=75", "iris", 4, 8, None, 75),
         ("digits 64-10-3 n=60", "digits", 64, 10, [0, 1, 2], 60),
         ("digits 64-10-10 n=50", "digits", 64, 10, None, 50)]


def instance(dataset: str, d: int, hidden: int, classes, n):
    import nncc
    pick = f" classes [{', '.join(map(str, classes))}]" if classes else ""
    sample = f" sample {n} seed 1" if n else ""
    K = len(classes) if classes else {"iris": 3, "digits": 10}[dataset]
    text = f"""
network net {{
    input  x[{d}]
    dense  h[{hidden}] relu
    dense  y[{K}]
    weights real in [-1, 1]
}}
data d = bundled "{dataset}"{pick}{sample} scale minmax
train net on d {{
    classify margin 0.01
}}
"""
    return nncc.load("k_classes.nn", text).queries[0]


def run_one(q, how: str, solver: str, root_lp: str, limit: float):
    from nncc.pipeline.solve import solve

    q.normalise = "off" if how == "exact" else "auto"
    t0 = time.perf_counter()
    ans = solve(q, solver, time_limit=limit, root_lp=root_lp)
    seconds = time.perf_counter() - t0
    checked = ans.check is not None and ans.check.ok
    kind = ans.compilation.encoded.inverse["kind"] if ans.compilation else "-"
    return ans.status, checked, seconds, kind


def label(how: str, solver: str, root_lp: str) -> str:
    return f"{how}, {solver}" + (f" (root {root_lp})" if root_lp != "auto" else "")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--only", help="instances whose name contains this text")
    a = p.parse_args(argv)
    rows = {}
    print(f"{'instance':<24}{'method':<32}{'encoding':<10}{'status':<13}{'checked':<9}"
          f"{'seconds':>9}", flush=True)
    for name, dataset, d, hidden, classes, n in CASES:
        if a.only and a.only not in name:
            continue
        q = instance(dataset, d, hidden, classes, n)
        for how, solver, root_lp in METHODS:
            status, checked, secs, kind = run_one(q, how, solver, root_lp, a.time_limit)
            answered = status == "solution" and checked
            rows[name, how, solver, root_lp] = (answered, secs if answered else max(secs, a.time_limit))
            print(f"{name:<24}{label(how, solver, root_lp):<32}{kind:<10}{status:<13}"
                  f"{str(checked):<9}{secs:9.2f}", flush=True)
    names = list(dict.fromkeys(k[0] for k in rows))
    ratios = []
    print(f"\n{'instance':<24}{'box ends, highs s':>18}{'best exact s':>14}{'exact / box ends':>18}")
    for name in names:
        ok_b, s_b = rows[name, "box ends", "highs", "auto"]
        exact = [rows[name, "exact", s, "auto"] for s in ("z3", "cvc5")]
        ok_e = any(e[0] for e in exact)
        s_e = min(e[1] for e in exact if e[0]) if ok_e else max(e[1] for e in exact)
        if ok_b:
            ratios.append(s_e / s_b)
        print(f"{name:<24}{s_b:17.2f}{'' if ok_b else '*':1}{s_e:13.2f}{'' if ok_e else '*':1}"
              f"{s_e / s_b:17.1f}{'' if ok_e else '+':1}")
    for how, solver, root_lp in METHODS:
        got = [v for k, v in rows.items() if k[1:] == (how, solver, root_lp)]
        print(f"{label(how, solver, root_lp)}: answered {sum(g[0] for g in got)}/{len(got)}, "
              f"total {sum(g[1] for g in got):.1f} s")
    if ratios:
        print(f"geometric mean exact / box ends over {len(ratios)} instances: "
              f"{math.exp(np.mean(np.log(ratios))):.1f}  (* = no checked answer: its time "
              "limit; + = a lower bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
