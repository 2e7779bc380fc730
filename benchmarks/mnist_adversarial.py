"""Minimal-L1 targeted adversarials on the issue's MNIST 784-64-64-10 network: nncc against its peers.

The network and test images come from ``mnist_model.py`` (trained and cached on
first use). Images: the first ``--images`` test images (in the order of the
seeded split) that the network classifies correctly. Target class:
``(label + 1) % 10``. Every encoding gets the same question: the input in
[0, 1]^784 closest in L1 to the image whose strict argmax is the target,
winning by ``--margin`` (0.01) over every other class, solved by highs with
``--time-limit`` seconds per image:

* ``nncc symbolic`` (nncc's default), ``nncc lp``: ``nncc.solve(AdversarialQuery(...),
  "highs", bounds=...)`` -- a start first (greedy descent and LPs over
  activation regions, at most 2 s, checked), whose distance becomes a
  cutoff, then per-neuron big-M from back-substitution bounds over the inputs
  within that distance, or from LP-tightened bounds (``--bounds-budget``
  seconds of in-process LP solves); the solver's limit does not count the
  start and the bounds, the "total" column does.  Before the MILP, ReLU
  splitting (``nncc.analysis.relu_split``, up to 10 s or half the limit,
  taken from the solver's time) tries to prove the start optimal (nothing
  within 1 - 1e-4 of its distance; solver ``relu splitting``), or, without
  a start, that no input of the box reaches the class; in a ball it gets
  a first look of 0.25 s before the start.  A query the bounds prove
  unanswerable never reaches the solver;
* ``nncc symbolic no-start`` / ``nncc interval no-start``: the same MILP
  without the start (``start=False``); interval is the first figures' encoding
  (skipped unless asked for);
* ``paper``: the paper's encoding -- a blanket big-M of 100 and fixed [0, 5]
  bounds on every hidden activation (a >= z, a >= 0, a <= z + 100 (1 - d),
  a <= 100 d; pre-activations free), written with nncc's IR and MPS writer and
  run through nncc's solver runner;
* ``omlt``: OMLT's ``ReluBigMFormulation`` over the network read from the same
  ONNX file (input bounds [0, 1]), objective and target rows in Pyomo, solved
  by highs through Pyomo's appsi interface (highspy, same HiGHS version).

Every answer, whoever found it, goes through nncc's forward-pass check of the
query (``check_network_answer``: box, strict argmax = target by the margin,
onnxruntime agrees); "distance" is the L1 distance recomputed from the input.
"bound" is the solver's proven lower bound on the distance.

Then: evaluation of a fixed input (``EvaluateQuery``, solver seconds), and the
L-infinity ball question (epsilon 0.02, 0.05, 0.1 around each image: minimal L1
inside the ball, or proof that no adversarial exists there) with the nncc
variants and the paper's encoding: median seconds to a proven answer.

    python benchmarks/mnist_adversarial.py [--images 10] [--time-limit 60] [--cache DIR]
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import nncc  # noqa: E402
from nncc.ir.program import BOOL, EQ, GE, LE, REAL, LinearBlock, Objective, Program  # noqa: E402
from nncc.problem.fixed_network import Affine, Relu  # noqa: E402
from nncc.problem.onnx_import import load_onnx  # noqa: E402
from nncc.problem.query import AdversarialQuery, EvaluateQuery  # noqa: E402
from nncc.checks.check_network import check_network_answer  # noqa: E402
from nncc.solvers.registry import load_registry  # noqa: E402
from nncc.solvers.result import NO_SOLUTION  # noqa: E402
from nncc.solvers.runner import solve_file  # noqa: E402
from nncc.writers.mps_writer import write_mps  # noqa: E402
from nncc.writers.symbol_map import SymbolMap  # noqa: E402

import mnist_model  # noqa: E402

SEED_M, SEED_ACT_HI = 100.0, 5.0
REL_TOL = 1e-4  # highs' default relative MIP gap: "optimal" answers may differ this much


class Row:
    """One encoding's outcome on one question."""

    def __init__(self, enc, status="", distance=None, bound=None, solver_s=None, total_s=None,
                 optimal=False, infeasible=False, note="", objective=None):
        self.enc, self.status, self.distance, self.bound = enc, status, distance, bound
        self.objective = objective
        self.solver_s, self.total_s = solver_s, total_s
        self.optimal, self.infeasible, self.note = optimal, infeasible, note

    @property
    def proven(self) -> bool:
        return self.optimal or self.infeasible


def fmt(v, spec=".3f", none="-"):
    return none if v is None else format(v, spec)


# ---------------------------------------------------------------- nncc
def run_nncc(q, bounds: str, T: float, budget: float, start: bool = True,
             split: bool = True) -> Row:
    t0 = time.perf_counter()
    ans = nncc.solve(q, "highs", time_limit=T, bounds=bounds, bounds_budget=budget, start=start,
                     split_budget=10.0 if split else 0.0)
    total = time.perf_counter() - t0
    r = ans.result
    dist = ans.check.value if (ans.check is not None and ans.check.ok) else None
    note = "; ".join(n for n in ans.notes if "bounds" in n or "start" in n)
    if ans.status == "check_failed":
        note += " CHECK FAILED: " + "; ".join(ans.check.problems)
    optimal = bool(r is not None and r.optimal and ans.status == "solution")
    infeasible = ans.status == NO_SOLUTION
    bound = r.bound if r is not None else None
    if infeasible:
        bound = float("inf")
    return Row(f"nncc {bounds}" + ("" if start else " no-start") + ("" if split else " no-split"),
               ans.status, dist, bound,
               r.seconds if r else None, total, optimal, infeasible, note, r.objective if r else None)


# ---------------------------------------------------------------- the paper's encoding
def paper_program(net, x0, lo, hi, target: int, margin: float):
    """The paper's MILP: blanket big-M 100, activations in [0, 5], pre-activations free."""
    n = net.n_inputs
    prog = Program(name="paper_adversarial")
    x = prog.add_vars("input", (n,), REAL, lo, hi)
    h = x
    affines = [l for l in net.layers if isinstance(l, Affine)]
    relus_after = [isinstance(net.layers[i + 1], Relu) if i + 1 < len(net.layers) else False
                   for i, l in enumerate(net.layers) if isinstance(l, Affine)]
    for k, (layer, relu) in enumerate(zip(affines, relus_after)):
        W = np.asarray(layer.W.toarray() if hasattr(layer.W, "toarray") else layer.W, float)
        b = np.asarray(layer.b, float)
        m = W.shape[0]
        z = prog.add_vars(f"z{k}", (m,), REAL, -np.inf, np.inf)
        cols = np.concatenate([np.broadcast_to(h[None, :], (m, len(h))), z[:, None]], axis=1)
        coefs = np.concatenate([W, -np.ones((m, 1))], axis=1)
        prog.add(LinearBlock.from_dense_rows(f"affine{k}", cols, coefs, EQ, -b, drop_zeros=True))
        if not relu:
            h = z
            continue
        a = prog.add_vars(f"a{k}", (m,), REAL, 0.0, SEED_ACT_HI)
        d = prog.add_vars(f"d{k}", (m,), BOOL)
        one = np.ones(m)
        prog.add(LinearBlock.from_dense_rows(f"relu{k}.above", np.stack([a, z], 1), [1.0, -1.0],
                                             GE, 0.0))
        # a <= z + M (1 - d):  a - z + M d <= M
        prog.add(LinearBlock.from_dense_rows(f"relu{k}.upper_z", np.stack([a, z, d], 1),
                                             np.stack([one, -one, SEED_M * one], 1), LE, SEED_M))
        # a <= M d
        prog.add(LinearBlock.from_dense_rows(f"relu{k}.upper_off", np.stack([a, d], 1),
                                             np.stack([one, -SEED_M * one], 1), LE, 0.0))
        h = a
    y = h
    K = len(y)
    others = np.array([k for k in range(K) if k != target])
    prog.add(LinearBlock.from_dense_rows("target_wins",
                                         np.stack([np.full(len(others), y[target]), y[others]], 1),
                                         [1.0, -1.0], GE, margin))
    reach = np.maximum(hi - x0, x0 - lo).clip(min=0)
    t = prog.add_vars("distance", (n,), REAL, 0.0, reach)
    one = np.ones(n)
    prog.add(LinearBlock.from_dense_rows("distance_up", np.stack([t, x], 1),
                                         np.stack([one, -one], 1), GE, -x0))
    prog.add(LinearBlock.from_dense_rows("distance_down", np.stack([t, x], 1),
                                         np.stack([one, one], 1), GE, x0))
    prog.objective = Objective("min", t, one)
    return prog, x, y


# (skip key, row name): nncc's default (symbolic bounds and a start), LP bounds with a
# start, the default without a start, and interval bounds without a start (the
# first figures' "nncc interval")
NNCC_VARIANTS = [("symbolic", "nncc symbolic"), ("nosplit", "nncc symbolic no-split"),
                 ("lp", "nncc lp"), ("nostart", "nncc symbolic no-start"),
                 ("interval", "nncc interval no-start")]


def nncc_rows(q, T: float, budget: float, skip: set) -> list:
    rows = []
    if "symbolic" not in skip:
        rows.append(run_nncc(q, "symbolic", T, budget))
    if "nosplit" not in skip:
        rows.append(run_nncc(q, "symbolic", T, budget, split=False))
    if "lp" not in skip:
        rows.append(run_nncc(q, "lp", T, budget))
    if "nostart" not in skip:
        rows.append(run_nncc(q, "symbolic", T, budget, start=False))
    if "interval" not in skip:
        rows.append(run_nncc(q, "interval", T, budget, start=False))
    return rows


def check_peer(q, x, y_claimed):
    """nncc's forward-pass check of an input found by a peer encoding."""
    chk = check_network_answer(q, {"input": np.asarray(x, float),
                                   "output": np.asarray(y_claimed, float)})
    return chk


def run_paper(q, net, T: float, tmpdir: str) -> Row:
    from nncc.problem.query import adversarial_box
    t0 = time.perf_counter()
    x0 = np.asarray(q.x0, float)
    lo, hi = adversarial_box(q)
    prog, xi, yi = paper_program(net, x0, lo, hi, q.target, q.margin)
    path = os.path.join(tmpdir, "paper.mps")
    with open(path, "wb") as f:
        write_mps(prog, f)
    res = solve_file(load_registry().get("highs"), path, "mps", time_limit=T, workdir=tmpdir)
    total = time.perf_counter() - t0
    dist, note = None, ""
    if res.has_incumbent and res.values:
        vec = SymbolMap.from_program(prog, "mps").vector(res.values)
        chk = check_peer(q, vec[xi], vec[yi])
        if chk.ok:
            dist = chk.value
        else:
            note = "CHECK FAILED: " + "; ".join(chk.problems)
    status = res.status if not note else "check_failed"
    infeasible = res.status == NO_SOLUTION
    bound = float("inf") if infeasible else res.bound
    return Row("paper bigM100", status, dist, bound, res.seconds, total,
               bool(res.optimal and not note), infeasible, note, res.objective)


# ---------------------------------------------------------------- OMLT
def omlt_readable(model):
    """OMLT 1.2's ONNX parser reads ``attr["alpha"]`` / ``attr["beta"]`` of every Gemm
    and fails with KeyError when they are left at their ONNX defaults (1.0), as
    nncc's exporter does: state them explicitly (same model)."""
    from onnx import helper
    for node in model.graph.node:
        if node.op_type == "Gemm":
            have = {a.name for a in node.attribute}
            for name in ("alpha", "beta"):
                if name not in have:
                    node.attribute.append(helper.make_attribute(name, 1.0))
    return model


def run_omlt(q, onnx_path: str, T: float) -> Row:
    import onnx
    import pyomo.environ as pyo
    from omlt import OmltBlock
    from omlt.io import load_onnx_neural_network
    from omlt.neuralnet import ReluBigMFormulation
    from pyomo.contrib.appsi.solvers import Highs
    from pyomo.contrib.appsi.base import TerminationCondition

    t0 = time.perf_counter()
    x0 = np.asarray(q.x0, float)
    n = len(x0)
    netdef = load_onnx_neural_network(omlt_readable(onnx.load(onnx_path)),
                                      input_bounds={i: (0.0, 1.0) for i in range(n)})
    m = pyo.ConcreteModel()
    m.nn = OmltBlock()
    m.nn.build_formulation(ReluBigMFormulation(netdef))
    reach = np.maximum(1.0 - x0, x0)
    m.I = pyo.RangeSet(0, n - 1)
    m.t = pyo.Var(m.I, bounds=lambda _m, i: (0.0, float(reach[i])))
    m.up = pyo.Constraint(m.I, rule=lambda _m, i: _m.t[i] >= _m.nn.inputs[i] - float(x0[i]))
    m.down = pyo.Constraint(m.I, rule=lambda _m, i: _m.t[i] >= float(x0[i]) - _m.nn.inputs[i])
    K = q.network.n_outputs
    others = [k for k in range(K) if k != q.target]
    m.O = pyo.Set(initialize=others)
    m.wins = pyo.Constraint(m.O, rule=lambda _m, k: _m.nn.outputs[q.target] - _m.nn.outputs[k]
                            >= float(q.margin))
    m.obj = pyo.Objective(expr=sum(m.t[i] for i in m.I), sense=pyo.minimize)
    build = time.perf_counter() - t0
    opt = Highs()
    opt.config.time_limit = T
    opt.config.load_solution = False
    t1 = time.perf_counter()
    res = opt.solve(m)
    solver_s = time.perf_counter() - t1
    total = time.perf_counter() - t0
    tc = res.termination_condition
    dist, note = None, f"Pyomo/OMLT build {build:.1f} s"
    optimal = tc == TerminationCondition.optimal
    infeasible = tc == TerminationCondition.infeasible
    if res.best_feasible_objective is not None:
        res.solution_loader.load_vars()
        x = np.array([pyo.value(m.nn.inputs[i]) for i in range(n)])
        y = np.array([pyo.value(m.nn.outputs[k]) for k in range(K)])
        chk = check_peer(q, x, y)
        if chk.ok:
            dist = chk.value
        else:
            note += "; CHECK FAILED: " + "; ".join(chk.problems)
            optimal = False
    bound = float("inf") if infeasible else res.best_objective_bound
    status = {TerminationCondition.optimal: "solution", TerminationCondition.infeasible:
              "no_solution", TerminationCondition.maxTimeLimit: "unknown"}.get(tc, str(tc))
    return Row("omlt bigM", status, dist, bound, solver_s, total, optimal, infeasible, note,
               res.best_feasible_objective)


# ---------------------------------------------------------------- tables
def print_table(title: str, rows: list[Row]) -> None:
    print(title)
    print(f"  {'encoding':<14} {'status':<12} {'distance':>9} {'objective':>9} {'bound':>9} "
          f"{'solver s':>9} {'total s':>8}  note")
    for r in rows:
        b = "infeas." if r.bound == float("inf") else fmt(r.bound)
        print(f"  {r.enc:<14} {r.status + ('*' if r.optimal else ''):<12} {fmt(r.distance):>9} "
              f"{fmt(r.objective):>9} {b:>9} {fmt(r.solver_s, '.2f'):>9} {fmt(r.total_s, '.2f'):>8}  {r.note}")


def median_text(values: list[float], censored: list[bool]) -> str:
    """Median where a censored value (no proven answer) counts as its time limit, at least."""
    if not values:
        return "-"
    order = np.argsort(values, kind="stable")
    k = len(values)
    mids = [order[(k - 1) // 2], order[k // 2]]
    med = float(np.median(values))
    return (">=" if any(censored[i] for i in mids) else "") + f"{med:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=60.0, help="highs seconds per image")
    ap.add_argument("--margin", type=float, default=0.01)
    ap.add_argument("--bounds-budget", type=float, default=10.0,
                    help="seconds of LP bound tightening for nncc's bounds='lp'")
    ap.add_argument("--eps", default="0.02,0.05,0.1", help="L-infinity radii ('' to skip)")
    ap.add_argument("--ball-time-limit", type=float, default=None,
                    help="highs seconds per ball query (default: --time-limit)")
    ap.add_argument("--skip", default="interval,nosplit", help="comma list of encodings to leave out: "
                    "symbolic,nosplit,lp,nostart,interval,paper,omlt (default: interval,nosplit)")
    ap.add_argument("--balls-only", action="store_true",
                    help="skip the unrestricted question and the evaluation")
    ap.add_argument("--cache", default=mnist_model.DEFAULT_CACHE)
    ap.add_argument("--seed", type=int, default=0, help="seed of the split and the training")
    args = ap.parse_args()
    T = args.time_limit
    TB = args.ball_time_limit or T
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    warnings.filterwarnings("ignore")

    onnx_path, test_path = mnist_model.build(args.cache, args.seed)
    net = load_onnx(onnx_path, name="mnist")
    with np.load(test_path) as d:
        X, Y = d["X"], d["y"]
    pred = net.forward(X).argmax(axis=1)
    chosen = np.flatnonzero(pred == Y)[:args.images]
    spec = load_registry().get("highs")
    print(f"network {onnx_path}: {net.relu_count()} ReLUs; highs {spec.version()}; "
          f"{len(chosen)} images (test indices {chosen.tolist()}), target = (label + 1) % 10, "
          f"margin {args.margin}, L1, box [0, 1]^784, time limit {T:g} s per image and encoding; "
          f"nncc lp bounds budget {args.bounds_budget:g} s")
    _, acts = net.forward(X[chosen], return_all=True)
    hidden = [a for a, l in zip(acts, net.layers) if isinstance(l, Relu)]
    over = [int(np.any(np.concatenate([h[i] for h in hidden]) > SEED_ACT_HI)) for i in
            range(len(chosen))]
    print(f"the paper's [0, {SEED_ACT_HI:g}] activation bounds: {sum(over)} of {len(chosen)} chosen "
          f"images have a hidden activation above {SEED_ACT_HI:g} at the image itself (largest "
          f"{max(float(h.max()) for h in hidden):.2f}); on those the paper's MILP excludes the "
          "image, so its 'optimal', 'infeasible' and bounds hold for its restricted model only "
          "(its answers are still checked by the forward pass)")
    print("status '*' = proven optimal; distance = L1 recomputed from the input by nncc's "
          "forward-pass check (blank if no checked answer); bound = solver's proven lower bound\n")

    all_rows: list[list[Row]] = []
    evals = []
    with tempfile.TemporaryDirectory(prefix="nncc-mnist-") as tmp:
        for n_img, idx in enumerate([] if args.balls_only else chosen):
            x0, label = X[idx].astype(float), int(Y[idx])
            target = (label + 1) % 10
            q = AdversarialQuery(f"adv{idx}", net, x0, 0.0, 1.0, target=target,
                                 margin=args.margin, norm="l1")
            rows = nncc_rows(q, T, args.bounds_budget, skip)
            if "paper" not in skip:
                rows.append(run_paper(q, net, T, tmp))
            if "omlt" not in skip:
                rows.append(run_omlt(q, onnx_path, T))
            print_table(f"image {n_img + 1} (test #{idx}, label {label} -> target {target})", rows)
            sys.stdout.flush()
            all_rows.append(rows)
            # evaluation of the fixed input
            ev = nncc.solve(EvaluateQuery(f"eval{idx}", net, x0[None]), "highs")
            ok = ev.check is not None and ev.check.ok
            m = re.search(r"HiGHS run time\s*:\s*(\S+)", ev.result.stdout or "")
            evals.append((ev.status, ok, ev.result.seconds, ev.seconds["total"],
                          float(m.group(1)) if m else float("nan")))

        # ------------------------------------------------------------ summary
        encs = [r.enc for r in all_rows[0]] if all_rows else []
        print("\nsummary over", len(all_rows), "images (time limit", f"{T:g} s):")
        for j, e in enumerate(encs):
            col = [rows[j] for rows in all_rows]
            n_opt = sum(r.optimal for r in col)
            n_ans = sum(r.distance is not None for r in col)
            n_pos_bound = sum(r.bound is not None and r.bound > 1e-6 for r in col)
            ds = [r.distance for r in col if r.distance is not None]
            print(f"  {e:<14} proven optimal {n_opt}/{len(col)}, checked answer {n_ans}/{len(col)}, "
                  f"positive lower bound {n_pos_bound}/{len(col)}, "
                  f"median solver s {np.median([r.solver_s or 0 for r in col]):.1f}"
                  + (f", mean distance {np.mean(ds):.3f}" if ds else ""))
        for j, e in enumerate(encs):
            if not e.startswith("nncc"):
                continue
            worse = []
            for i, rows in enumerate(all_rows):
                mine = rows[j].distance
                for r in rows:
                    if r.enc.startswith("nncc") or r.distance is None:
                        continue
                    if mine is None or mine > r.distance * (1 + REL_TOL) + 1e-9:
                        worse.append(f"image {i + 1}: {fmt(mine)} vs {r.enc} {r.distance:.3f}")
            print(f"  {e}: distance worse than a peer's (beyond highs' 1e-4 relative gap): "
                  + ("never" if not worse else f"{len(worse)} times: " + "; ".join(worse)))
        if evals:
            secs = [e[2] for e in evals]
            print(f"\nevaluate a fixed input (EvaluateQuery, highs): statuses "
                  f"{sorted(set(e[0] for e in evals))}, checks ok {sum(e[1] for e in evals)}/"
                  f"{len(evals)}; HiGHS run time (its log) median "
                  f"{np.median([e[4] for e in evals]):.3f} s, max {max(e[4] for e in evals):.3f} s; "
                  f"highs process wall seconds per image: median {np.median(secs):.3f}, "
                  f"max {max(secs):.3f}; nncc total (encode+write+solve+check) median "
                  f"{np.median([e[3] for e in evals]):.3f}")

        # ------------------------------------------------------------ L-infinity balls
        eps_list = [float(e) for e in args.eps.split(",") if e.strip()]
        if eps_list:
            print(f"\nL-infinity balls: minimal L1 inside the ball (or proof none exists), "
                  f"time limit {TB:g} s; '*' optimal, 'infeas.' = proven no adversarial in the ball")
        for eps in eps_list:
            per_enc: dict[str, list[Row]] = {}
            print(f"epsilon {eps}:")
            print(f"  {'image':<6} " + " | ".join(f"{e:>26}" for e in
                  [name for key, name in NNCC_VARIANTS + [("paper", "paper bigM100")]
                   if key not in skip]))
            for n_img, idx in enumerate(chosen):
                x0, label = X[idx].astype(float), int(Y[idx])
                q = AdversarialQuery(f"ball{idx}", net, x0, 0.0, 1.0, target=(label + 1) % 10,
                                     margin=args.margin, norm="l1", epsilon=eps)
                rows = nncc_rows(q, TB, args.bounds_budget, skip)
                if "paper" not in skip:
                    rows.append(run_paper(q, net, TB, tmp))
                cells = []
                for r in rows:
                    per_enc.setdefault(r.enc, []).append(r)
                    what = ("infeas." if r.infeasible else
                            (fmt(r.distance) + ("*" if r.optimal else "")) if r.distance is not None
                            else r.status)
                    cells.append(f"{what:>12} {fmt(r.total_s, '.2f'):>6}s/{fmt(r.solver_s, '.2f'):>5}s")
                print(f"  {n_img + 1:<6} " + " | ".join(cells))
                sys.stdout.flush()
            if "paper bigM100" in per_enc:
                wrong = []
                for i, sr in enumerate(per_enc["paper bigM100"]):
                    best = min([r.distance for e2, col2 in per_enc.items() if e2 != "paper bigM100"
                                for r in [col2[i]] if r.distance is not None], default=None)
                    if best is not None and (sr.infeasible or (sr.optimal and sr.distance is not None
                                                               and sr.distance > best * (1 + REL_TOL) + 1e-9)):
                        wrong.append(f"image {i + 1} (paper {'infeasible' if sr.infeasible else fmt(sr.distance)}"
                                     f", nncc found {best:.3f})")
                print("  the paper's proofs contradicted by a checked nncc answer: "
                      + (", ".join(wrong) if wrong else "none"))
            for e, col in per_enc.items():
                tot = [r.total_s for r in col]
                sol = [r.solver_s for r in col]
                cens = [not r.proven for r in col]
                print(f"  {e:<14} proven {sum(r.proven for r in col)}/{len(col)} "
                      f"(infeasible {sum(r.infeasible for r in col)}); median seconds to a proven "
                      f"answer: total {median_text(tot, cens)}, solver {median_text(sol, cens)}")
            if "nncc symbolic" in per_enc and "nncc symbolic no-split" in per_enc:
                a, b = per_enc["nncc symbolic"], per_enc["nncc symbolic no-split"]
                ratios = [y.total_s / x.total_s for x, y in zip(a, b) if x.proven]
                print(f"  ReLU splitting: median {np.median([r.total_s for r in a]):.2f} s with, "
                      f"{np.median([r.total_s for r in b]):.2f} s without (the MILP alone); "
                      f"per ball proven with it, time without / with: "
                      + ", ".join(f"{v:.1f}x" for v in ratios)
                      + " (the MILP's time-outs count at the limit)")
            if "paper bigM100" in per_enc:
                seedm = np.median([r.total_s for r in per_enc["paper bigM100"]])
                for e in [name for _, name in NNCC_VARIANTS]:
                    if e in per_enc and e != "nncc symbolic no-split":
                        mm = np.median([r.total_s for r in per_enc[e]])
                        print(f"  speed-up of {e} over the paper's encoding (median total seconds): "
                              f"{seedm / mm:.1f}x" + (" (a median at the time limit, no proven "
                                                      "answer: not a true ratio)" if ">=" in (
                                median_text([r.total_s for r in per_enc[e]],
                                            [not r.proven for r in per_enc[e]])
                                + median_text([r.total_s for r in per_enc["paper bigM100"]],
                                              [not r.proven for r in per_enc["paper bigM100"]]))
                                else ""))


if __name__ == "__main__":
    main()
