"""Whole-pipeline compile throughput: ``.nn`` text to a written file, against pysmt and Pyomo.

The query: 1,000 samples x 64 inputs (integers 0..16 like the digits data,
read from an NPZ file), a 64-32-2 ReLU network with unknown weights in
[-1, 1], margin 0.01 (normalised: QF_LRA / MILP). Each target is compiled in
a fresh process (parse, load data, encode, passes, write the file and its
symbol map), which reports its stage times and its peak RSS (module imports,
about 0.15 s once per process, are timed apart and not counted); the median of
five processes is shown with the rate of the fastest (the machine's timings
vary from run to run, mostly in first-touch memory), and the largest peak RSS. Then:

* pysmt building and printing the same first-layer rows as SMT-LIB, and
  Pyomo building them and writing MPS, on the first rows, extrapolated per
  nonzero (both are far too slow for the whole query), and the ratios;
* z3's time to read and assert the SMT-LIB file (no check-sat), with the
  data as integers (rows scaled to integer coefficients) and scaled by
  1/17 (decimals that cannot be scaled exactly: fractional coefficients).

    python benchmarks/compile_pipeline.py [--samples 1000] [--hidden 32] [--skip-z3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

PROGRAM = """network mlp {{ input x[{inputs}] dense h[{hidden}] relu dense y[2] weights real in [-1, 1] }}
data d = npz "data.npz"{scale}
train mlp on d {{ classify margin 0.01 }}
"""

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import nncc, nncc.frontend.semantics, nncc.writers.smtlib_writer, nncc.writers.mps_writer, nncc.writers.lp_writer
t1 = time.perf_counter()
q = nncc.load(sys.argv[1]).query()
t2 = time.perf_counter()
comp = nncc.compile(q, sys.argv[2], sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "encode": comp.seconds["encode"],
                  "passes": comp.seconds["passes"], "write": comp.seconds["write"],
                  "from_text": t3 - t1, "nnz": comp.program.nnz,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def compile_in_child(nn: str, target: str, out: str) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT, NNCC_PROGRESS="0")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", CHILD, nn, target, out], capture_output=True,
                       text=True, env=env, check=True)
    r = json.loads(p.stdout)
    r["process"] = time.perf_counter() - t
    return r


def z3_read_seconds(smt_path: str) -> float:
    """z3 reading and asserting the file: the script without check-sat and get-value."""
    body = open(smt_path).read()
    body = body[:body.index("(check-sat)")] + "(exit)\n"
    with tempfile.NamedTemporaryFile("w", suffix=".smt2", delete=False) as f:
        f.write(body)
    try:
        t = time.perf_counter()
        subprocess.run(["z3", f.name], capture_output=True, check=True)
        return time.perf_counter() - t
    finally:
        os.unlink(f.name)


def main() -> int:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--inputs", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--peer-rows", type=int, default=400)
    ap.add_argument("--skip-z3", action="store_true")
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per target (median shown)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, size=(args.samples, args.inputs)).astype(float)
    y = rng.integers(0, 2, size=args.samples)
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(os.path.join(tmp, "data.npz"), X=X, y=y)
        nn = os.path.join(tmp, "query.nn")
        with open(nn, "w") as f:
            f.write(PROGRAM.format(inputs=args.inputs, hidden=args.hidden, scale=""))
        print(f"query: {args.samples} samples x {args.inputs} inputs, {args.hidden} hidden units, "
              "weights unknown in [-1, 1], margin 0.01")
        print(f"{'target':<7} {'nonzeros':>10} {'from text':>10} {'M nnz/s':>8} {'best':>6} "
              f"{'process':>8} {'peak RSS':>9}   stages of the median run (s): load / encode / "
              "passes / write; import")
        rates = {}
        for target in ("smtlib", "mps", "lp"):
            out = os.path.join(tmp, "query." + target)
            runs = sorted((compile_in_child(nn, target, out) for _ in range(args.repeat)),
                          key=lambda x: x["from_text"])
            best, r = runs[0], runs[len(runs) // 2]  # the fastest and the median run
            r["rss_mb"] = max(x["rss_mb"] for x in runs)
            rates[target] = r["nnz"] / r["from_text"]
            print(f"{target:<7} {r['nnz']:>10,} {r['from_text']:>9.3f}s {rates[target] / 1e6:>8.2f} "
                  f"{r['nnz'] / best['from_text'] / 1e6:>6.2f} {r['process']:>7.2f}s {r['rss_mb']:>7.0f}MB"
                  f"   {r['load']:.3f} / {r['encode']:.3f} / {r['passes']:.3f} / {r['write']:.3f}; "
                  f"{r['import']:.3f}")
        print("bars: >= 2 M nonzeros/s for MPS, >= 5 M for SMT-LIB, peak RSS < 200 MB "
              "('from text': parse .nn, load data, encode, passes, write file + symbol map)")

        import nncc
        from compile_throughput import pyomo_seconds_per_nnz, pysmt_seconds_per_nnz
        q = nncc.load(nn).query()
        prog = nncc.lower(q, "smtlib").program
        first = next(i for i, b in enumerate(prog.blocks) if b.name.endswith(".affine"))
        prog.blocks.insert(0, prog.blocks.pop(first))  # the peers take the first block's rows
        rows = args.peer_rows
        s = pysmt_seconds_per_nnz(prog, rows)
        print(f"pysmt   {1 / s / 1e6:7.3f} M nonzeros/s on the first {rows} first-layer rows "
              f"(extrapolated); nncc SMT-LIB is {rates['smtlib'] * s:.0f}x faster")
        s = pyomo_seconds_per_nnz(prog, rows)
        print(f"Pyomo   {1 / s / 1e6:7.3f} M nonzeros/s on the first {rows} first-layer rows "
              f"(extrapolated); nncc MPS is {rates['mps'] * s:.0f}x faster")

        if not args.skip_z3:
            t_int = z3_read_seconds(os.path.join(tmp, "query.smtlib"))
            size_int = os.path.getsize(os.path.join(tmp, "query.smtlib")) / 1e6
            with open(nn, "w") as f:
                f.write(PROGRAM.format(inputs=args.inputs, hidden=args.hidden, scale=" scale 1/17"))
            frac = os.path.join(tmp, "frac.smtlib")
            compile_in_child(nn, "smtlib", frac)
            t_frac = z3_read_seconds(frac)
            size_frac = os.path.getsize(frac) / 1e6
            print(f"z3 read + assert: integer rows {t_int:.1f} s ({size_int:.0f} MB); "
                  f"fractional rows (data scaled 1/17) {t_frac:.1f} s ({size_frac:.0f} MB); "
                  f"ratio {t_frac / t_int:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
