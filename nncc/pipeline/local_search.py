"""Local search for binarised networks (``method local-search``): the paper's mountain climbing.

Block-coordinate descent on the weights, with restarts:

1. Start from the exact MILP of a random subset of the samples (``SUBSET``
   of them, seeded, solved within the per-step limit), or, when that finds
   nothing, from random weights in their domains; the activations follow.
2. In a network with one hidden layer, optimise each hidden unit in turn with
   everything else fixed (its weights, threshold and activations: a MILP with
   two binaries per sample). Then optimise one layer's weights with every
   other layer fixed: the output layer
   over the current hidden activations (a small MILP: only the error binaries),
   then each hidden layer with the layers after it fixed (its activations are
   recomputed by the MILP; no products, since the next layer's weights are
   known). Each sub-problem is the binarised encoding of
   :mod:`nncc.encodings.binarised` with ``fixed`` layers, solved by HiGHS in
   process with a per-step time limit and the current weights as a start.
3. Keep a step when the forward pass counts fewer training errors; when a full
   sweep brings nothing, restart from new random weights.
4. Stop at the budget or after ``restarts`` restarts, and return the best
   weights seen.

The budget is CPU seconds of this process (:class:`nncc.budget.Budget`; HiGHS
runs in it): ``--time-limit`` seconds (default 60), each
sub-problem at most an eighth of them, so that the same steps are taken on an
idle machine and a loaded one (with wall-clock eighths, 24 busy processes on 2
cores cut the example's first sub-problem short: 53% training accuracy instead
of 100%; ``benchmarks/local_search_under_load.py``). A ``--time-limit`` the
user gives is also a wall-clock deadline, as everywhere.

With ``robust linf R`` the errors are robust ones throughout (a sample is an
error unless it is right and every first-layer unit keeps its side over its
ball, :func:`_unsteady`): the sub-problems that optimise the first layer carry
the robust rows of the MILP, the others and the unit steps do not, and the
forward pass's robust count decides what is kept.

The answer is a local optimum, never a proven one: its status is ``unknown``
(a checked answer, not proven optimal) and the report says "local search";
only an answer without training errors is ``solution`` (nothing is better).
Progress (restart, incumbent training accuracy, elapsed seconds) goes to
standard error.
"""
from __future__ import annotations

import time

import numpy as np

from ..encodings.binarised import encode_binarised, encode_hidden_unit
from ..ir.program import BOOL, EQ, GE, INT, KINDS, LE, Program
from ..passes.bool_product_linearisation import BoolProductLinearisation
from ..passes.reduction import apply_chain
from ..passes.strict_epsilon import DEFAULT_EPSILON
from ..solvers.result import SOLUTION, UNKNOWN, SolverResult

DEFAULT_BUDGET = 60.0
SUBSET = 40  # samples in a restart's starting MILP


def solve_program_in_process(prog: Program, time_limit: float | None, start: np.ndarray | None = None,
                             cpu_limit: float | None = None):
    """A linear program (after the MILP passes) solved by HiGHS in process:
    ``(x or None, objective, bound)``. ``time_limit``: wall-clock seconds (None: none);
    ``cpu_limit``: CPU seconds of this process, by HiGHS's interrupt callback (HiGHS
    has no CPU limit of its own), which does not shrink when the machine is loaded."""
    import scipy.sparse as sp

    from ..solvers.highs_inprocess import highspy, quiet_highs
    h = quiet_highs()
    inf = highspy.kHighsInf
    n = prog.n_vars
    cost = np.zeros(n)
    if prog.objective is not None:
        np.add.at(cost, prog.objective.idx, prog.objective.coef * (1 if prog.objective.sense == "min" else -1))
    lb = np.where(np.isfinite(prog.lb), prog.lb, -inf)
    ub = np.where(np.isfinite(prog.ub), prog.ub, inf)
    h.addCols(n, cost, lb, ub, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    integer = np.flatnonzero(np.isin(prog.kinds, (KINDS.index(BOOL), KINDS.index(INT))))
    if len(integer):
        h.changeColsIntegrality(len(integer), integer.astype(np.int32),
                                np.full(len(integer), highspy.HighsVarType.kInteger))
    for b in prog.blocks:
        if b.n_rows == 0:
            continue
        A = sp.csr_matrix((b.data, b.indices, b.indptr), shape=(b.n_rows, n))
        A.sum_duplicates()
        lo = np.where((b.sense == GE) | (b.sense == EQ), b.rhs, -inf)
        hi = np.where((b.sense == LE) | (b.sense == EQ), b.rhs, inf)
        h.addRows(b.n_rows, lo, hi, A.nnz, A.indptr[:-1].astype(np.int32),
                  A.indices.astype(np.int32), A.data)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.1))
    # no "threads" option: HiGHS has one scheduler per process, and a model that asks for
    # another thread count than the first model of the process had fails to run (kError,
    # no solution), which made every sub-problem fail after any other in-process HiGHS
    if cpu_limit is not None:
        stop = time.process_time() + max(float(cpu_limit), 0.1)

        def interrupt(kind, message, data_out, data_in, user_data):
            if time.process_time() >= stop:
                data_in.user_interrupt = True
        h.setCallback(interrupt, None)
        for kind in ("kCallbackMipInterrupt", "kCallbackSimplexInterrupt"):
            h.startCallback(getattr(highspy.cb.HighsCallbackType, kind))
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.clip(start, prog.lb, prog.ub))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # no feasible point
        return None, None, None
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    return x, float(info.objective_function_value), float(info.mip_dual_bound)


def random_parameters(net, rng) -> dict[str, np.ndarray]:
    """Weights drawn uniformly from their domains; learned thresholds likewise, fixed ones as given."""
    out = {}
    for k, layer in enumerate(net.layers):
        shape = (layer.size, net.fan_in(k))
        for key, dom, shp in ((f"{layer.name}.weight", layer.weight_domain, shape),
                              (f"{layer.name}.bias", layer.bias_domain, (layer.size,))):
            if key.endswith(".bias") and layer.is_step and layer.threshold != "learned":
                out[key] = np.full(layer.size, -float(layer.threshold))
            elif dom.kind == "set":
                out[key] = rng.choice(np.asarray(dom.values), size=shp)
            elif dom.kind == "int":
                out[key] = rng.integers(int(dom.lo), int(dom.hi) + 1, size=shp).astype(np.float64)
            else:
                out[key] = rng.uniform(dom.lo, dom.hi, size=shp)
    return out


def _unsteady(net, params, X, radius: float) -> np.ndarray:
    """Per sample: some first-layer unit changes side within the L-infinity ball (exact:
    ``W x + b -/+ r ||W_j||_1``); all False without robust training."""
    if radius <= 0.0 or not net.layers[0].is_step:
        return np.zeros(len(X), dtype=bool)
    W = np.asarray(params[f"{net.layers[0].name}.weight"], dtype=np.float64)
    z = np.asarray(X, dtype=np.float64) @ W.T + params[f"{net.layers[0].name}.bias"]
    spread = radius * np.abs(W).sum(axis=1)
    return ~np.all(np.where(z >= 0.0, z - spread >= 0.0, z + spread < 0.0), axis=1)


def _forward_errors(net, params, X, y, radius: float = 0.0) -> tuple[int, list[np.ndarray], np.ndarray]:
    """Training errors (robust ones with ``radius``: wrong, or not steady over the
    ball), the step layers' activations and the scores."""
    h = np.asarray(X, dtype=np.float64)
    acts = []
    for layer in net.layers:
        z = h @ params[f"{layer.name}.weight"].T + params[f"{layer.name}.bias"]
        if layer.is_step:
            acts.append(z >= 0.0)
            h = np.where(z >= 0.0, layer.levels[1], layer.levels[0])
        else:
            h = z
    wrong = (np.argmax(h, axis=1) != y) | _unsteady(net, params, X, radius)
    return int(np.sum(wrong)), acts, h


def _start_vector(prog: Program, net, layer, params, acts, scores, y, epsilon,
                  unsteady=None) -> np.ndarray:
    """The current weights as a start for the sub-problem of ``layer`` (values by group)."""
    x = np.zeros(prog.n_vars)
    names = {g.name: g for g in prog.groups}
    step_layers = [l for l in net.layers if l.is_step]

    def put(name, value):
        if name in names:
            g = names[name]
            x[g.offset:g.offset + g.size] = np.asarray(value, dtype=np.float64).reshape(-1)
    put(f"{layer.name}.weight.abs", np.abs(params[f"{layer.name}.weight"]))  # robust rows
    for key in (f"{layer.name}.weight", f"{layer.name}.bias"):
        put(key, params[key])
        dom = layer.weight_domain if key.endswith("weight") else layer.bias_domain
        if dom.kind == "set":
            put(key + ".choice", np.asarray(params[key]) == dom.values[1])
    for l, a in zip(step_layers, acts):
        put(f"{l.name}.act", a)
    lab = np.arange(len(y))
    own = scores[lab, y]
    other = scores.copy()
    other[lab, y] = -np.inf
    put("errors", (own - other.max(axis=1) < epsilon)
        | (False if unsteady is None else unsteady))
    k = net.layers.index(layer)
    if k > 0 and f"{layer.name}.product" in names:
        prev = acts[step_layers.index(net.layers[k - 1])]
        put(f"{layer.name}.product", params[f"{layer.name}.weight"][None] * prev[:, None, :])
    return x


def solve_local_search(query, *, time_limit: float | None = None, epsilon: float = DEFAULT_EPSILON,
                       progress=None, step_limit: float | None = None):
    """Run the local search on a binarised training query; return a checked ``Answer``."""
    from .answer import Answer
    from ..checks.check_binarised import check_binarised, polish_weights
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    radius = float(query.robust)  # robust training: errors counted over the ball
    from ..budget import Budget
    budget = float(time_limit or DEFAULT_BUDGET)
    step_limit = step_limit or max(1.0, budget / 8)
    rng = np.random.default_rng(query.seed)
    t0 = time.perf_counter()
    # the search stops early enough for the last sub-problem, the centring LP and the
    # check to fit in the budget (1-3 s at a few hundred samples; up to 3.1 s measured)
    reserve = max(1.0, 0.08 * budget) if budget > 2.0 else 0.0
    clock = Budget(budget - reserve, None if time_limit is None else t0 + budget - reserve)
    left = clock.left   # CPU seconds, never past the user's wall-clock deadline

    def run(prog, cpu: float, start=None):
        """One sub-problem: at most ``cpu`` CPU seconds, never past the deadline."""
        wall = None if clock.deadline is None else max(clock.deadline - time.perf_counter(), 0.0)
        return solve_program_in_process(prog, wall, start, cpu_limit=min(cpu, left()))
    best, best_err, restarts, solves = None, None, 0, 0
    passes = [BoolProductLinearisation()]
    while left() > 0 and (query.restarts == 0 or restarts < query.restarts):
        restarts += 1
        params = _subset_start(query, rng, lambda p: run(p, step_limit), epsilon, passes)
        solves += 1
        if params is None:
            params = random_parameters(net, rng)
        err, acts, scores = _forward_errors(net, params, X, y, radius)
        improved = True
        while improved and left() > 0 and err > 0:
            improved = False
            if len(net.layers) == 2:  # one hidden layer: also one unit at a time
                params, err, acts, scores, n, better = _unit_sweep(
                    query, params, err, rng,
                    lambda p, st: run(p, max(0.5, step_limit / 4), st), left, epsilon)
                solves += n
                improved = improved or better
            for layer in reversed(net.layers):
                if left() <= 0 or err == 0:
                    break
                fixed = {l.name: (params[f"{l.name}.weight"], params[f"{l.name}.bias"])
                         for l in net.layers if l is not layer}
                enc = encode_binarised(query, epsilon, fixed=fixed)
                prog, _ = apply_chain(enc.program, passes)
                start = _start_vector(prog, net, layer, params, acts, scores, y, epsilon,
                                      _unsteady(net, params, X, radius))
                x, _, _ = run(prog, step_limit, start)
                solves += 1
                if x is None:
                    continue
                groups = prog.group_values(x)
                trial = dict(params)
                trial[f"{layer.name}.weight"] = _snap(groups[f"{layer.name}.weight"], layer.weight_domain)
                if f"{layer.name}.bias" in groups:
                    trial[f"{layer.name}.bias"] = _snap(groups[f"{layer.name}.bias"], layer.bias_domain)
                trial = _centred(net, X, y, trial, groups, epsilon, radius)
                t_err, t_acts, t_scores = _forward_errors(net, trial, X, y, radius)
                if t_err < err:
                    params, err, acts, scores = trial, t_err, t_acts, t_scores
                    improved = True
            if progress is not None and improved:
                progress.stage(f"local search: restart {restarts}, training accuracy "
                               f"{1 - err / len(y):.2%} (incumbent "
                               f"{1 - min(err, best_err if best_err is not None else err) / len(y):.2%}), "
                               f"{time.perf_counter() - t0:.1f} s")
        if best_err is None or err < best_err:
            best, best_err = params, err
        if progress is not None:
            progress.stage(f"local search: restart {restarts}, incumbent training accuracy "
                           f"{1 - best_err / len(y):.2%}, {time.perf_counter() - t0:.1f} s")
        if best_err == 0:
            break
    # centre the weights (as for a MILP answer) so that float32 / float64 passes agree
    _, acts, scores = _forward_errors(net, best, X, y)
    correct = (np.argmax(scores, axis=1) == y) & ~_unsteady(net, best, X, radius)
    best, slack = polish_weights(net, X, y, best, acts, correct, epsilon, robust=radius)
    seconds = time.perf_counter() - t0
    check = check_binarised(query, best, method="local-search", claimed_errors=best_err)
    check.polished = slack
    result = SolverResult(UNKNOWN, solver="local-search", version="local search (HiGHS in process)",
                          seconds=seconds, has_incumbent=True,
                          message=f"local search: {restarts} restarts, {solves} sub-problems, "
                                  f"{seconds:.1f} s ({clock.used():.1f} CPU s) of a {budget:g} CPU s "
                                  "budget")
    notes = [f"local search (method local-search): {restarts} restarts, {solves} sub-problems "
             "solved by HiGHS; a local optimum, not proven optimal"] + check.notes
    status = UNKNOWN if check.ok else "check_failed"
    if check.ok and best_err == 0:
        # no training errors: nothing can be better, whatever found it
        status, check.proven_optimal, check.bound = SOLUTION, True, 0.0
        result.status, result.optimal = SOLUTION, True
        notes[0] = (f"local search (method local-search): {restarts} restarts, {solves} sub-problems "
                    "solved by HiGHS; no training errors, so optimal")
    ans = Answer(status, query, best, check, result, None, notes, how="local search")
    ans.seconds = {"compile": 0.0, "write": 0.0, "solve": seconds, "total": seconds}
    return ans


def _unit_sweep(query, params, err, rng, run, left, epsilon):
    """Each unit of the (only) hidden layer in turn, in a random order, re-optimised with
    every other weight fixed (:func:`~nncc.encodings.binarised.encode_hidden_unit`);
    a change is kept when the forward pass counts fewer errors. ``run(prog, start)``
    solves one sub-problem within its limits."""
    from ..checks.check_binarised import polish_weights
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    hidden, out = net.layers
    beta, gamma = hidden.levels
    radius = float(query.robust)
    err, acts, scores = _forward_errors(net, params, X, y, radius)
    solves, better = 0, False
    for j in rng.permutation(hidden.size):
        if left() <= 0 or err == 0:
            break
        V = params[f"{out.name}.weight"]
        h_j = np.where(acts[0][:, j], gamma, beta)
        rest = scores - h_j[:, None] * V[:, j][None, :]
        prog = encode_hidden_unit(hidden, X, y, int(j), rest, V[:, j], epsilon)
        start = np.zeros(prog.n_vars)
        g = {gr.name: gr for gr in prog.groups}

        def put(name, value):
            if name in g:
                start[g[name].offset:g[name].offset + g[name].size] = np.asarray(value, float).reshape(-1)
        put(f"{hidden.name}.weight", params[f"{hidden.name}.weight"][j])
        put(f"{hidden.name}.bias", params[f"{hidden.name}.bias"][j:j + 1])
        put(f"{hidden.name}.act", acts[0][:, j])
        lab = np.arange(len(y))
        other = scores.copy()
        other[lab, y] = -np.inf
        put("errors", (scores[lab, y] - other.max(axis=1) < epsilon) | _unsteady(net, params, X, radius))
        x, _, _ = run(prog, start)
        solves += 1
        if x is None:
            continue
        groups = prog.group_values(x)
        trial = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        trial[f"{hidden.name}.weight"][j] = _snap(groups[f"{hidden.name}.weight"][0], hidden.weight_domain)
        if f"{hidden.name}.bias" in groups:
            trial[f"{hidden.name}.bias"][j] = _snap(groups[f"{hidden.name}.bias"], hidden.bias_domain)[0]
        u = acts[0].copy()
        u[:, j] = np.round(groups[f"{hidden.name}.act"][:, 0]) > 0.5
        trial, _ = polish_weights(net, X, y, trial, [u], np.round(groups["errors"]) < 0.5,
                                  epsilon, robust=radius)
        t_err, t_acts, t_scores = _forward_errors(net, trial, X, y, radius)
        if t_err < err:
            params, err, acts, scores, better = trial, t_err, t_acts, t_scores, True
    return params, err, acts, scores, solves, better


def _subset_start(query, rng, run, epsilon: float, passes):
    """Parameters from the MILP of a random subset of the training samples, or None;
    ``run(prog)`` solves it within its limits."""
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    rows = np.sort(rng.choice(len(y), size=min(SUBSET, len(y)), replace=False))
    enc = encode_binarised(query, epsilon, X=X[rows], y=y[rows])
    prog, _ = apply_chain(enc.program, passes)
    x, _, _ = run(prog)
    if x is None:
        return None
    groups = prog.group_values(x)
    out = random_parameters(net, rng)  # fixed thresholds
    for layer in net.layers:
        out[f"{layer.name}.weight"] = _snap(groups[f"{layer.name}.weight"], layer.weight_domain)
        if f"{layer.name}.bias" in groups:
            out[f"{layer.name}.bias"] = _snap(groups[f"{layer.name}.bias"], layer.bias_domain)
    return _centred(net, X[rows], y[rows], out, groups, epsilon, float(query.robust))


def _centred(net, X, y, params, groups, epsilon, radius: float = 0.0):
    """A sub-problem's weights moved off the thresholds (the LP of
    :func:`~nncc.checks.check_binarised.polish_weights`), keeping the activations and the
    correct samples of its MILP answer; layers it did not model keep the forward pass's."""
    from ..checks.check_binarised import polish_weights
    _, acts, _ = _forward_errors(net, params, X, y)
    steps = [l for l in net.layers if l.is_step]
    acts = [np.round(groups[f"{l.name}.act"]) > 0.5 if f"{l.name}.act" in groups else a
            for l, a in zip(steps, acts)]
    correct = np.round(groups["errors"]) < 0.5
    out, _ = polish_weights(net, X, y, params, acts, correct, epsilon, robust=radius)
    return out


def _snap(v: np.ndarray, dom) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if dom.kind == "int":
        return np.round(v)
    if dom.kind == "set":
        vals = np.asarray(dom.values)
        return vals[np.argmin(np.abs(v[..., None] - vals), axis=-1)]
    return np.clip(v, dom.lo, dom.hi)
