"""Writer throughput on a program shaped like a training query, against pysmt and Pyomo.

The program: 1,000 samples x 64 inputs (integers 0..16, like the digits data),
32 hidden units with unknown weights and biases, pre-activations
``z[n,j] = sum_i X[n,i] W[j,i] + b[j]`` as equality rows (about 2.1 million
nonzeros), a ReLU block ``a = max(0, z)`` (SMT-LIB only), and a fixed final
layer of 2 outputs with a margin row per sample (linear, so MPS and LP can
take the program without the ReLU block).

Prints, per writer: seconds, nonzeros per second, output size, the writer's
peak traced allocation (tracemalloc, a separate run) and the process' peak
RSS; then pysmt (SMT-LIB) and Pyomo (MPS) on a subsample of the rows,
extrapolated per nonzero, and the ratios.

    python benchmarks/compile_throughput.py               # full size, integer data
    python benchmarks/compile_throughput.py --data float  # uniform real data
    python benchmarks/compile_throughput.py --quick       # smaller, < 30 s
    python benchmarks/compile_throughput.py --scaling     # CPU s from 250 to 4,000 samples

``--data float`` draws the inputs uniformly from [0, 16] (64,000 distinct
coefficients at 1,000 samples, each in 32 rows); ``--scaling`` times the MPS,
LP and SMT-LIB writers in CPU seconds (``time.process_time``: load on a shared
machine does not count) on both kinds of data at 250 .. 4,000 samples and
prints the exponent of CPU time in the number of nonzeros (a least-squares
fit of the logarithms; 1 is linear).
"""
from __future__ import annotations

import argparse
import warnings
import gc
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nncc.ir.program import EQ, GE, REAL, LinearBlock, Program, ReluBlock  # noqa: E402
from nncc.writers.lp_writer import write_lp  # noqa: E402
from nncc.writers.mps_writer import write_mps  # noqa: E402
from nncc.writers.smtlib_writer import write_smtlib  # noqa: E402


def training_program(samples: int = 1000, inputs: int = 64, hidden: int = 32, outputs: int = 2,
                     relu: bool = True, seed: int = 0, data: str = "int") -> Program:
    """The synthetic training query (see the module docstring); ``data`` int (0..16)
    or float (uniform in [0, 16], every coefficient distinct)."""
    rng = np.random.default_rng(seed)
    X = (rng.integers(0, 17, size=(samples, inputs)).astype(float) if data == "int"
         else rng.uniform(0, 16, size=(samples, inputs)))
    labels = rng.integers(0, outputs, size=samples)
    p = Program(name="train_mlp")
    W = p.add_vars("hidden.weight", (hidden, inputs), REAL, -1, 1)
    b = p.add_vars("hidden.bias", (hidden,), REAL, -1, 1)
    bound = X.sum(axis=1, keepdims=True) + 1.0
    z = p.add_vars("hidden.pre", (samples, hidden), REAL, -np.broadcast_to(bound, (samples, hidden)),
                   np.broadcast_to(bound, (samples, hidden)))
    a = p.add_vars("hidden.out", (samples, hidden), REAL, 0, np.broadcast_to(bound, (samples, hidden)))
    y = p.add_vars("out", (samples, outputs), REAL)
    # z[n,j] - sum_i X[n,i] W[j,i] - b[j] = 0 : row (n, j) over W[j,:], b[j], z[n,j]
    n_idx, j_idx = np.meshgrid(np.arange(samples), np.arange(hidden), indexing="ij")
    cols = np.concatenate([W[j_idx.reshape(-1)], b[j_idx.reshape(-1), None],
                           z.reshape(-1, 1)], axis=1)
    coefs = np.concatenate([-X[n_idx.reshape(-1)], -np.ones((samples * hidden, 1)),
                            np.ones((samples * hidden, 1))], axis=1)
    p.add(LinearBlock.from_dense_rows("hidden.affine", cols, coefs, EQ, 0.0))
    if relu:
        p.add(ReluBlock("hidden.relu", a.reshape(-1), z.reshape(-1)))
    V = np.round(rng.uniform(-1, 1, size=(outputs, hidden)), 3)
    src = a if relu else z
    n_idx, k_idx = np.meshgrid(np.arange(samples), np.arange(outputs), indexing="ij")
    cols = np.concatenate([src[n_idx.reshape(-1)], y.reshape(-1, 1)], axis=1)
    coefs = np.concatenate([V[k_idx.reshape(-1)], -np.ones((samples * outputs, 1))], axis=1)
    p.add(LinearBlock.from_dense_rows("out.affine", cols, coefs, EQ, 0.0))
    other = (labels + 1) % outputs
    p.add(LinearBlock.from_dense_rows(
        "margin", np.stack([y[np.arange(samples), labels], y[np.arange(samples), other]], 1),
        [1.0, -1.0], GE, 0.01))
    p.answer_groups = ["hidden.weight", "hidden.bias"]
    return p


def time_writer(writer, program, repeat: int = 1) -> tuple[float, int]:
    best, size = np.inf, 0
    for _ in range(repeat):
        with tempfile.TemporaryFile() as f:
            gc.collect()
            t = time.perf_counter()
            writer(program, f)
            f.flush()
            best = min(best, time.perf_counter() - t)
            size = f.tell()
    return best, size


def traced_peak(writer, program) -> int:
    gc.collect()
    tracemalloc.start()
    with open(os.devnull, "wb") as f:
        writer(program, f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def pysmt_seconds_per_nnz(program: Program, rows: int) -> float:
    """pysmt building and printing the first ``rows`` rows of the affine block."""
    from pysmt.shortcuts import And, Equals, Plus, Real, Symbol, Times, get_env
    from pysmt.smtlib.script import smtlibscript_from_formula
    from pysmt.typing import REAL as PREAL

    get_env().enable_infix_notation = False
    blk = program.blocks[0]
    names = program.var_names()
    t = time.perf_counter()
    syms = {}
    conj = []
    nnz = 0
    for r in range(rows):
        lo, hi = blk.indptr[r], blk.indptr[r + 1]
        terms = []
        for c, v in zip(blk.indices[lo:hi].tolist(), blk.data[lo:hi].tolist()):
            s = syms.get(c)
            if s is None:
                s = syms[c] = Symbol(names[c], PREAL)
            terms.append(Times(Real(v), s))
        nnz += hi - lo
        conj.append(Equals(Plus(terms), Real(float(blk.rhs[r]))))
    script = smtlibscript_from_formula(And(conj), logic="QF_LRA")
    buf = io.StringIO()
    script.serialize(buf, daggify=False)
    return (time.perf_counter() - t) / nnz


def pyomo_seconds_per_nnz(program: Program, rows: int) -> float:
    """Pyomo building a ConcreteModel of the first ``rows`` rows and writing MPS."""
    import logging

    import pyomo.environ as pyo
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    blk = program.blocks[0]
    t = time.perf_counter()
    used = np.unique(blk.indices[:blk.indptr[rows]])
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(len(used)))
    pos = {int(c): i for i, c in enumerate(used)}
    for c in used.tolist():
        m.x[pos[c]].setlb(float(program.lb[c]))
        m.x[pos[c]].setub(float(program.ub[c]))
    m.c = pyo.ConstraintList()
    nnz = 0
    for r in range(rows):
        lo, hi = blk.indptr[r], blk.indptr[r + 1]
        expr = sum(v * m.x[pos[c]] for c, v in zip(blk.indices[lo:hi].tolist(),
                                                   blk.data[lo:hi].tolist()))
        m.c.add(expr == float(blk.rhs[r]))
        nnz += hi - lo
    m.obj = pyo.Objective(expr=0)
    with tempfile.TemporaryDirectory() as d:
        m.write(os.path.join(d, "m.mps"), format="mps")
    return (time.perf_counter() - t) / nnz


def cpu_seconds(writer, program, repeat: int = 2) -> float:
    best = np.inf
    for _ in range(repeat):
        gc.collect()
        with open(os.devnull, "wb") as f:
            t = time.process_time()
            writer(program, f)
            best = min(best, time.process_time() - t)
    return best


def scaling(sizes=(250, 500, 1000, 2000, 4000)) -> int:
    print("CPU seconds per writer (best of 2) and M nonzeros per CPU-second")
    print(f"{'data':6s} {'writer':7s} " + " ".join(f"{n:>13,}" for n in sizes) + "  exponent")
    for data in ("int", "float"):
        progs = {relu: [training_program(n, relu=relu, data=data) for n in sizes]
                 for relu in (True, False)}
        for label, writer, relu in (("smtlib", write_smtlib, True), ("mps", write_mps, False),
                                    ("lp", write_lp, False)):
            ps = progs[relu]
            secs = [cpu_seconds(writer, p) for p in ps]
            nnz = [p.nnz for p in ps]
            slope = np.polyfit(np.log(nnz), np.log(secs), 1)[0]
            cells = " ".join(f"{s:6.2f}s {z / s / 1e6:4.1f}M" for s, z in zip(secs, nnz))
            print(f"{data:6s} {label:7s} {cells}  {slope:.2f}")
    return 0


def main(argv=None) -> int:
    warnings.simplefilter("ignore", UserWarning)  # pysmt: "QF_LRA is not reducible"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller program, fewer baseline rows")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", choices=("int", "float"), default="int")
    ap.add_argument("--scaling", action="store_true",
                    help="CPU seconds and growth exponent from 250 to 4,000 samples")
    args = ap.parse_args(argv)
    if args.scaling:
        return scaling()
    samples = args.samples or (200 if args.quick else 1000)
    base_rows = 100 if args.quick else 400

    t = time.perf_counter()
    smt_prog = training_program(samples, relu=True, data=args.data)
    milp_prog = training_program(samples, relu=False, data=args.data)
    print(f"program: {samples} samples ({args.data} data), {smt_prog.n_vars} variables, {smt_prog.n_rows} rows, "
          f"{smt_prog.nnz} nonzeros (SMT-LIB), {milp_prog.nnz} (MPS/LP); built in "
          f"{time.perf_counter() - t:.2f} s")
    results = {}
    for label, writer, prog in (("smtlib", write_smtlib, smt_prog), ("mps", write_mps, milp_prog),
                                ("lp", write_lp, milp_prog)):
        secs, size = time_writer(writer, prog, args.repeat)
        peak = traced_peak(writer, prog)
        results[label] = prog.nnz / secs
        print(f"{label:7s} {secs:7.3f} s  {prog.nnz / secs / 1e6:6.2f} M nonzeros/s  "
              f"{size / 1e6:7.1f} MB  writer peak {peak / 2**20:6.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MiB (program arrays included)")

    rows = min(base_rows, smt_prog.blocks[0].n_rows)
    try:
        s = pysmt_seconds_per_nnz(smt_prog, rows)
        print(f"pysmt   {1 / s / 1e6:6.3f} M nonzeros/s (first {rows} rows, extrapolated per "
              f"nonzero); nncc smtlib is {results['smtlib'] * s:.0f}x faster")
    except ImportError as e:
        print(f"pysmt not available: {e}")
    try:
        s = pyomo_seconds_per_nnz(milp_prog, rows)
        print(f"pyomo   {1 / s / 1e6:6.3f} M nonzeros/s (first {rows} rows, extrapolated per "
              f"nonzero); nncc mps is {results['mps'] * s:.0f}x faster")
    except ImportError as e:
        print(f"pyomo not available: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
