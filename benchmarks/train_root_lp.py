"""The root LP of training MILPs: highs' interior-point method against its dual simplex.

``nncc solve --root-lp auto`` (the default) has highs solve the root LP of a
training query by the interior-point method (``mip_lp_solver = ipm``); this
runs every training MILP that exists here both ways, one after the other, with
the pipeline's checked answers:

* the first paper's Table 1 cells (``examples/smt_init.py``): a 784-h-2 ReLU
  network that classifies n MNIST images (4 against 9, margin 0.01, the exact
  normalised MILP), h/n = 10/100 (seeds 0 and 1), 10/200, 10/500 and 50/100;
  and the 8x8 digits cell 10/40;
* the training queries of ``examples/*.nn`` that lower to a MILP or an LP
  (the binarised network of ``bdnn.nn`` and its variants, ``digits.nn``,
  ``xor.nn``, ...).

For each instance and method: status, seconds (an unanswered run counts its
time limit) and the objective; then the ratio simplex / ipm per instance and
its geometric mean over the instances that either method answered.

    python benchmarks/train_root_lp.py [--time-limit 120] [--only NAME] [--no-mnist]
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
sys.path.insert(0, str(ROOT / "examples"))
METHODS = ["simplex", "ipm"]
MNIST_CELLS = [((10,), 100, 0), ((10,), 100, 1), ((10,), 200, 0), ((10,), 500, 0), ((50,), 100, 0)]


def instances(mnist: bool):
    """``(name, query)`` for every training MILP found."""
    import nncc
    import smt_init as S
    from nncc.pipeline.compile import encode_query

    out = []
    cells = [("digits", (10,), 40, 0)] + ([("mnist", h, n, s) for h, n, s in MNIST_CELLS]
                                          if mnist else [])
    data = {}
    for kind, hidden, n, seed in cells:
        if kind not in data:
            data[kind] = S.load_data(kind, (4, 9), None)
        Xtr, ytr = data[kind][:2]
        sub = np.sort(np.random.default_rng(seed).choice(len(ytr), n, replace=False))
        q = S.train_query(Xtr.shape[1], hidden, Xtr[sub], ytr[sub], (4, 9))
        out.append((f"{kind} h={S.hid_name(hidden)} n={n} seed {seed}", q))
    for path in sorted((ROOT / "examples").glob("*.nn")):
        try:
            doc = nncc.load(str(path))
        except Exception:  # noqa: BLE001 - a file of another kind (architectures) or a missing extra
            continue
        for q in doc.queries:
            if q.kind != "train" or getattr(q, "method", None) == "local-search":
                continue
            if not encode_query(q).program.logic().milp:
                continue
            out.append((f"{path.name} {q.name}", q))
    return out


def run_one(q, method: str, limit: float):
    from nncc.pipeline.solve import solve

    t0 = time.perf_counter()
    ans = solve(q, "highs", time_limit=limit, root_lp=method)
    seconds = time.perf_counter() - t0
    checked = ans.check is not None and ans.check.ok
    objective = ans.result.objective if ans.result is not None else None
    return ans.status, checked, seconds, objective


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--time-limit", type=float, default=120.0)
    p.add_argument("--only", help="instances whose name contains this text")
    p.add_argument("--no-mnist", action="store_true", help="leave out the MNIST cells (minutes)")
    a = p.parse_args(argv)
    rows = []
    print(f"{'instance':<44}{'method':<9}{'status':<13}{'checked':<9}{'seconds':>9}{'objective':>11}",
          flush=True)
    for name, q in instances(not a.no_mnist):
        if a.only and a.only not in name:
            continue
        for method in METHODS:
            status, checked, secs, obj = run_one(q, method, a.time_limit)
            answered = status == "solution" and checked
            rows.append((name, method, answered, secs if answered else max(secs, a.time_limit)))
            print(f"{name:<44}{method:<9}{status:<13}{str(checked):<9}{secs:9.2f}"
                  f"{'-' if obj is None else format(obj, '.4g'):>11}", flush=True)
    names = list(dict.fromkeys(r[0] for r in rows))
    ratios = []
    print("\ninstance                                    simplex s    ipm s   simplex / ipm")
    for n in names:
        (_, _, a1, s1), (_, _, a2, s2) = [r for r in rows if r[0] == n]
        if a1 or a2:
            ratios.append(s1 / s2)
        print(f"{n:<44}{s1:9.2f}{'' if a1 else '*':1}{s2:8.2f}{'' if a2 else '*':1}{s1 / s2:12.2f}")
    for m in METHODS:
        got = [r for r in rows if r[1] == m]
        print(f"{m}: answered {sum(r[2] for r in got)}/{len(got)}, total {sum(r[3] for r in got):.1f} s")
    if ratios:
        print(f"geometric mean simplex / ipm over {len(ratios)} instances: "
              f"{math.exp(np.mean(np.log(ratios))):.2f}  (* = no checked answer: its time limit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
