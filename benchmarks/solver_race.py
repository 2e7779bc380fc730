"""A solver race (``--solver race:highs,cbc``) against each solver alone, in one run.

The MILP instances that exist here, each solved by ``highs``, by ``cbc`` and by
the race, one after the other, with every step before the solver turned off so
that the solver decides:

* the VNN-COMP 2021 test instances (``../shared/fixtures/vnncomp2021_test``):
  ``verify`` with no falsification and no splitting;
* the MIPVerify test network (``../shared/fixtures/mipverify_mfc``): the
  closest input of each other class, L-infinity and L1, with no start (margin 1e-5,
  as the tests take it: a tie is not a flip);
* ``examples/bdnn.nn``: binarised training queries (MILP);
* ``examples/xor_questions.nn``: maximise and adversarial queries, no start.

Every answer is the pipeline's checked answer. For each configuration: answered
instances, total seconds (an unanswered run counts its time limit), and the
geometric mean of its time over the faster of the two solvers alone per
instance (the "virtual best"). The race runs both solvers at once, so on two
cores it uses twice the processor time of one solver alone.

    python benchmarks/solver_race.py [--time-limit 60] [--only NAME]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures"
CONFIGS = ["highs", "cbc", "race:highs,cbc"]


def instances():
    """(name, run(solver, time_limit) -> (status, checked)) for every instance found."""
    import nncc
    from nncc.pipeline.verify import verify

    out = []
    vnn = FIXTURES / "vnncomp2021_test"
    if vnn.exists():
        for onnx, prop in [("test_nano.onnx", "test_nano.vnnlib"),
                           ("test_tiny.onnx", "test_tiny.vnnlib"),
                           ("test_small.onnx", "test_small.vnnlib"),
                           ("test_sat.onnx", "test_prop.vnnlib"),
                           ("test_unsat.onnx", "test_prop.vnnlib")]:
            def run(solver, limit, onnx=onnx, prop=prop):
                v = verify(str(vnn / onnx), str(vnn / prop), solver=solver, time_limit=limit,
                           falsify_budget=0.0, split_budget=0.0)
                return v.status, v.status != "sat" or bool(v.check and v.check.ok)
            out.append((f"verify {onnx[:-5]}", run))
    mfc = FIXTURES / "mipverify_mfc"
    if mfc.exists():
        x0 = np.array(json.loads((mfc / "mfc_net.json").read_text())["input_flattened_C_order"])
        for norm in ("linf", "l1"):
            for target in (0, 1, 3):
                def run(solver, limit, norm=norm, target=target):
                    a = nncc.adversarial(str(mfc / "mfc_net.onnx"), x0, target=target, norm=norm,
                                         lo=0, hi=1, margin=1e-5, solver=solver, time_limit=limit,
                                         start=False, split_budget=0.0)
                    return a.status, a.status != "solution" or bool(a.check and a.check.ok)
                out.append((f"mipverify target {target} {norm}", run))
    doc_names = [("bdnn.nn", None), ("bdnn.nn", "sparse"), ("bdnn.nn", "robust"),
                 ("bdnn.nn", "hinge"), ("xor_questions.nn", "strongest_one"),
                 ("xor_questions.nn", "typical_zero"), ("xor_questions.nn", "flip_origin")]
    for file, query in doc_names:
        try:
            q = nncc.load(str(ROOT / "examples" / file)).query(query)
        except Exception as e:   # the data extra missing, say
            print(f"  skipped {file} {query}: {e}", file=sys.stderr)
            continue

        def run(solver, limit, q=q):
            a = nncc.solve(q, solver=solver, time_limit=limit, start=False, split_budget=0.0)
            return a.status, a.status != "solution" or bool(a.check and a.check.ok)
        out.append((f"{file[:-3]} {query or q.name}", run))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--only", help="instances whose name contains this")
    args = ap.parse_args(argv)
    rows = []
    for name, run in instances():
        if args.only and args.only not in name:
            continue
        row = {"instance": name}
        for cfg in CONFIGS:
            t = time.perf_counter()
            status, checked = run(cfg, args.time_limit)
            row[cfg] = (time.perf_counter() - t, status, checked)
            print(f"  {name:<32} {cfg:<15} {row[cfg][0]:7.2f} s  {status}"
                  + ("" if checked else "  CHECK FAILED"), file=sys.stderr, flush=True)
        rows.append(row)

    def answered(status):
        return status in ("solution", "no_solution", "sat", "unsat")

    print(f"\ntime limit {args.time_limit:g} s per run; seconds (status)\n")
    print("| instance | " + " | ".join(CONFIGS) + " |")
    print("|---|" + "---|" * len(CONFIGS))
    for r in rows:
        print(f"| {r['instance']} | " + " | ".join(f"{r[c][0]:.2f} ({r[c][1]})" for c in CONFIGS)
              + " |")
    print("\n| configuration | answered | total s | geo. mean / virtual best | "
          "total / virtual best |")
    print("|---|---|---|---|---|")
    vbest = [min(r["highs"][0] if answered(r["highs"][1]) else math.inf,
                 r["cbc"][0] if answered(r["cbc"][1]) else math.inf) for r in rows]
    vb_total = sum(v if math.isfinite(v) else args.time_limit for v in vbest)
    for c in CONFIGS:
        secs = [r[c][0] if answered(r[c][1]) else args.time_limit for r in rows]
        n = sum(answered(r[c][1]) for r in rows)
        ratios = [s / v for s, v in zip(secs, vbest) if math.isfinite(v)]
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else math.nan
        print(f"| {c} | {n}/{len(rows)} | {sum(secs):.2f} | {geo:.2f}x | "
              f"{sum(secs) / vb_total:.2f}x |")
    bad = [r["instance"] for r in rows for c in CONFIGS if not r[c][2]]
    if bad:
        print(f"\nCHECK FAILED: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
