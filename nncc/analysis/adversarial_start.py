"""A good adversarial found fast, before the MILP: an answer to start from and a cutoff.

The MILP of an adversarial question proves what it finds, but on a real
network (MNIST 784-64-64-10) its branch and bound can run for minutes
before it holds a good incumbent.  Two cheap steps find one first:

1. **Greedy descent** on the network's own gradient (exact for a ReLU
   network: it is the linear map of the current activation region).  The
   worst of the query's class rows ``c . y >= rhs`` (``y_t - y_k >= margin``
   for every other ``k``; ``y_t >= ratio y_k``; for "any class but the
   label", ``y_k - y_label >= margin`` for one chosen ``k``) is pushed up:
   for L1 and L0 one input at a time, the one with the largest gradient that
   the box lets move, as far as the linear model says is needed (few inputs
   change); for L-infinity, sign-gradient steps inside a ball whose radius
   is found by bisection.
2. **Polish** in the activation region of that point: with every ReLU's
   phase (and every MaxPool's winner) fixed the network is affine, and the
   closest input in the region that still satisfies the class rows is an
   LP (HiGHS, in process).  Its answer lies on the border of the region;
   the phases of the ReLUs on the border are flipped and the LP solved
   again while the distance goes down (a descent over adjacent regions).

The result is checked by the forward pass like any answer
(:func:`nncc.checks.check_network.check_network_answer`); only a checked
start is returned.  Its distance ``D`` bounds the optimum, so the encoding
may add ``distance <= D`` (a cutoff: the optimum stays inside) and tighten
neuron bounds over the inputs within ``D`` of ``x0``; and when the MILP
finds nothing better within its time limit, the start is the answer,
reported as not proven optimal.  Nothing here claims optimality.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..budget import Budget
from ..problem.fixed_network import Affine, MaxPool, Relu
from ..solvers.highs_inprocess import highspy, quiet_highs


@dataclass
class Start:
    """A checked adversarial input: ``x``, its ``distance`` in the query's norm,
    the class it was steered to, and how it was found."""

    x: np.ndarray
    distance: float
    winner: int
    seconds: float
    lp_solves: int
    descent_steps: int
    found_by: str | None = None   # how, when not by greedy descent

    def note(self, norm: str) -> str:
        how = self.found_by or f"greedy descent, {self.descent_steps} steps"
        return (f"start: a {norm} distance of {self.distance:.6g} found in {self.seconds:.2f} s "
                f"({how}; {self.lp_solves} LPs over activation regions); the solver was asked "
                "for anything closer")


def class_rows(K: int, winner: int, margin: float, ratio: float | None = None,
               against: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(C, rhs)``: the rows ``C y >= rhs`` over the outputs that make ``winner`` beat
    every other class by ``margin`` (and be ``ratio`` times it), or, with
    ``against``, beat that one class by ``margin`` ("any class but the label")."""
    rows, rhs = [], []
    for k in ([against] if against is not None else range(K)):
        if k == winner:
            continue
        c = np.zeros(K)
        c[winner], c[k] = 1.0, -1.0
        rows.append(c)
        rhs.append(float(margin))
        if ratio is not None and against is None:
            c = np.zeros(K)
            c[winner], c[k] = 1.0, -float(ratio)
            rows.append(c)
            rhs.append(0.0)
    return np.array(rows).reshape(-1, K), np.array(rhs)


def query_rows(query, K: int, label: int, winner: int) -> tuple[np.ndarray, np.ndarray]:
    """The class rows of an adversarial query, steering to ``winner`` (the target, or
    the chosen class for "any class but the label")."""
    if query.target is not None:
        return class_rows(K, winner, query.margin, query.ratio)
    return class_rows(K, winner, query.margin, against=label)


def layer_outputs(net, x: np.ndarray) -> list[np.ndarray]:
    h, outs = net.forward(x[None], return_all=True)
    return [o[0] for o in outs]


def network_output(outs: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The network output from :func:`layer_outputs`'s list (``x`` itself when the network
    has no layer: the identity)."""
    return outs[-1] if outs else x


def _winners(layer: MaxPool, inp: np.ndarray) -> np.ndarray:
    """The input index that is the maximum of each MaxPool group at ``inp``."""
    g = np.asarray(layer.groups)
    vals = np.where(g >= 0, inp[np.maximum(g, 0)], -np.inf)
    return g[np.arange(g.shape[0]), np.argmax(vals, axis=1)]


def gradient(net, outs: list[np.ndarray], x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``d (c . y) / dx`` at ``x`` (the linear map of its activation region)."""
    v = np.asarray(c, dtype=np.float64)
    layers = net.layers
    for k in range(len(layers) - 1, -1, -1):
        layer = layers[k]
        inp = outs[k - 1] if k > 0 else x
        if isinstance(layer, Affine):
            v = np.asarray(layer.W.T @ v).ravel()
        elif isinstance(layer, Relu):
            v = v * (inp > 0)
        elif isinstance(layer, MaxPool):
            win = _winners(layer, inp)
            out = np.zeros(layer.n_in)
            np.add.at(out, win, v)
            v = out
        else:  # pragma: no cover - FixedNetwork has only these
            raise TypeError(type(layer).__name__)
    return v


def _slack(y, C, rhs):
    s = C @ y - rhs
    return s, int(np.argmin(s))


def _greedy_sparse(net, x0, lo, hi, C, rhs, goal, budget, max_steps) -> tuple[np.ndarray | None, int]:
    """One input at a time (L1 / L0)."""
    x = x0.copy()
    for step in range(max_steps):
        outs = layer_outputs(net, x)
        s, j = _slack(network_output(outs, x), C, rhs)
        if s[j] >= goal:
            return x, step
        if budget.expired():
            break
        d = gradient(net, outs, x, C[j])
        room = np.where(d > 0, hi - x, x - lo)
        score = np.where(room > 1e-12, np.abs(d), 0.0)
        i = int(np.argmax(score))
        if score[i] <= 0.0:
            break
        need = (goal - s[j]) / abs(d[i]) * 1.05
        x[i] += np.sign(d[i]) * min(room[i], max(need, 1e-6 * (1.0 + room[i])))
    return None, max_steps


def greedy_linf(net, x0, lo, hi, C, rhs, goal, budget) -> tuple[np.ndarray | None, int]:
    """Sign-gradient steps inside the ball of radius ``r``; ``r`` by bisection, until
    ``budget`` (a :class:`~nncc.budget.Budget`) is spent."""
    reach = float(np.max(np.maximum(hi - x0, x0 - lo))) if x0.size else 0.0
    steps = 0

    def attempt(r):
        nonlocal steps
        blo, bhi = np.maximum(lo, x0 - r), np.minimum(hi, x0 + r)
        x = x0.copy()
        for _ in range(25):
            steps += 1
            outs = layer_outputs(net, x)
            s, j = _slack(network_output(outs, x), C, rhs)
            if s[j] >= goal:
                return x
            d = gradient(net, outs, x, C[j])
            x = np.clip(x + 0.25 * r * np.sign(d), blo, bhi)
        outs = layer_outputs(net, x)
        s, j = _slack(network_output(outs, x), C, rhs)
        return x if s[j] >= goal else None

    best = attempt(reach)
    if best is None:
        return None, steps
    lo_r, hi_r = 0.0, reach
    for _ in range(12):
        if budget.expired():
            break
        mid = 0.5 * (lo_r + hi_r)
        x = attempt(mid)
        if x is None:
            lo_r = mid
        else:
            best, hi_r = x, mid
    return best, steps


def region_lp(net, x0, lo, hi, C, rhs, norm, pattern, changed=None, maximise=None):
    """The closest input to ``x0`` in the activation region ``pattern`` (per Relu
    layer a boolean array: active; per MaxPool layer the winning member) that
    satisfies ``C y >= rhs``; None if the LP has no optimum. With ``maximise``
    (a vector over the outputs) the input of the region and the box that
    maximises ``maximise . y`` instead (``x0`` and ``norm`` unused)."""
    n = x0.size
    col_lb, col_ub, cost = [lo.copy()], [hi.copy()], [np.zeros(n)]
    if norm == "l0" and changed is not None:
        fixed = ~changed
        col_lb[0][fixed] = x0[fixed]
        col_ub[0][fixed] = x0[fixed]
    ncol = n
    r_rows, r_cols, r_vals, r_lo, r_hi = [], [], [], [], []
    nrow = 0

    def add_rows(rows, cols, vals, rl, ru):
        nonlocal nrow
        r_rows.append(np.asarray(rows) + nrow)
        r_cols.append(np.asarray(cols))
        r_vals.append(np.asarray(vals, dtype=np.float64))
        r_lo.append(np.asarray(rl, dtype=np.float64))
        r_hi.append(np.asarray(ru, dtype=np.float64))
        nrow += len(rl)

    def new_cols(lb, ub, c=None):
        nonlocal ncol
        lb = np.asarray(lb, dtype=np.float64)
        col_lb.append(lb)
        col_ub.append(np.asarray(ub, dtype=np.float64))
        cost.append(np.zeros(lb.size) if c is None else np.asarray(c, dtype=np.float64))
        idx = np.arange(ncol, ncol + lb.size)
        ncol += lb.size
        return idx

    h = np.arange(n)  # column of each value; -1: the constant 0
    for k, layer in enumerate(net.layers):
        if isinstance(layer, Affine):
            W = sp.csc_matrix(layer.W) if not sp.issparse(layer.W) else layer.W.tocsc()
            live = h >= 0
            Wl = W[:, np.flatnonzero(live)].tocoo()
            m = layer.n_out
            y = new_cols(np.full(m, -np.inf), np.full(m, np.inf))
            b = np.asarray(layer.b, dtype=np.float64).ravel()
            add_rows(np.concatenate([np.arange(m), Wl.row]),
                     np.concatenate([y, h[live][Wl.col]]),
                     np.concatenate([np.ones(m), -Wl.data]), b, b)
            h = y
        elif isinstance(layer, Relu):
            act = pattern[k]
            z = h
            # active: the value is z, with z >= 0; inactive: the value is 0, with z <= 0
            zc = z[z >= 0]
            a_mask = act[z >= 0]
            lbs = np.concatenate(col_lb)
            ubs = np.concatenate(col_ub)
            lbs[zc[a_mask]] = np.maximum(lbs[zc[a_mask]], 0.0)
            ubs[zc[~a_mask]] = np.minimum(ubs[zc[~a_mask]], 0.0)
            col_lb, col_ub = [lbs], [ubs]
            h = np.where(act & (z >= 0), z, -1)
        elif isinstance(layer, MaxPool):
            g = np.asarray(layer.groups)
            win = pattern[k]
            out = h[win]
            rows, cols, vals, rl = [], [], [], []
            r = 0
            for q in range(g.shape[0]):
                for j in g[q][g[q] >= 0]:
                    if j == win[q]:
                        continue
                    # x_win - x_j >= 0 (a -1 column is the constant 0)
                    if h[win[q]] >= 0:
                        rows.append(r), cols.append(h[win[q]]), vals.append(1.0)
                    if h[j] >= 0:
                        rows.append(r), cols.append(h[j]), vals.append(-1.0)
                    rl.append(0.0)
                    r += 1
            if r:
                add_rows(rows, cols, vals, rl, np.full(r, np.inf))
            h = out
    # the class rows over the output: C y >= rhs (a hair above, for the float32 check)
    yc = h
    live = yc >= 0
    Cl = sp.coo_matrix(C[:, live])
    add_rows(Cl.row, yc[live][Cl.col], Cl.data, rhs + 1e-6 * (1.0 + np.abs(rhs)),
             np.full(len(rhs), np.inf))
    if maximise is not None:
        c = np.asarray(maximise, dtype=np.float64)
        return _solve_region(n, ncol, nrow, cost, col_lb, col_ub, r_rows, r_cols, r_vals, r_lo,
                             r_hi, lo, hi, objective=(yc, c))
    reach = np.maximum(np.maximum(hi - x0, x0 - lo), 0.0)
    xi = np.arange(n)
    if norm == "linf":
        s = new_cols([0.0], [float(reach.max()) if n else 0.0], [1.0])
        sc = np.full(n, s[0])
    else:
        sc = new_cols(np.zeros(n), reach, np.ones(n))
    rr = np.arange(n)
    add_rows(np.concatenate([rr, rr]), np.concatenate([sc, xi]),
             np.concatenate([np.ones(n), -np.ones(n)]), -x0, np.full(n, np.inf))
    add_rows(np.concatenate([rr, rr]), np.concatenate([sc, xi]),
             np.concatenate([np.ones(n), np.ones(n)]), x0, np.full(n, np.inf))
    return _solve_region(n, ncol, nrow, cost, col_lb, col_ub, r_rows, r_cols, r_vals, r_lo, r_hi,
                         lo, hi)


def _solve_region(n, ncol, nrow, cost, col_lb, col_ub, r_rows, r_cols, r_vals, r_lo, r_hi, lo, hi,
                  objective=None):
    """The LP of :func:`region_lp` solved in process: the input part of its optimum,
    clipped into the box, or None. ``objective = (output columns, c)``: maximise
    ``c . y`` (HiGHS minimises: the cost is ``-c``; a -1 column is the constant 0)."""
    cost = np.concatenate(cost)
    if objective is not None:
        cols, c = objective
        live = cols >= 0
        cost[cols[live]] -= c[live]
    A = sp.csc_matrix((np.concatenate(r_vals), (np.concatenate(r_rows), np.concatenate(r_cols))),
                      shape=(nrow, ncol))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    fin = lambda v, big: np.where(np.isfinite(v), v, big)  # noqa: E731
    lp.col_cost_ = cost
    lp.col_lower_ = fin(np.concatenate(col_lb), -inf)
    lp.col_upper_ = fin(np.concatenate(col_ub), inf)
    lp.row_lower_ = fin(np.concatenate(r_lo), -inf)
    lp.row_upper_ = fin(np.concatenate(r_hi), inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    hs = quiet_highs()
    hs.passModel(lp)
    hs.run()
    if hs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.clip(np.asarray(hs.getSolution().col_value[:n], dtype=np.float64), lo, hi)


def relu_pattern(net, x: np.ndarray, previous=None) -> list:
    """Per layer: Relu -> active mask (ties at 0 take the side opposite to
    ``previous``, to step into the adjacent region); MaxPool -> winners."""
    outs = layer_outputs(net, x)
    pat = []
    for k, layer in enumerate(net.layers):
        inp = outs[k - 1] if k > 0 else x
        if isinstance(layer, Relu):
            act = inp > 0
            if previous is not None and previous[k] is not None:
                tie = np.abs(inp) <= 1e-9 * (1.0 + np.abs(inp).max())
                act = np.where(tie, ~previous[k], act)
            pat.append(act)
        elif isinstance(layer, MaxPool):
            pat.append(_winners(layer, inp))
        else:
            pat.append(None)
    return pat


def _distance(x, x0, norm) -> float:
    d = np.abs(x - x0)
    if norm == "l1":
        return float(d.sum())
    if norm == "linf":
        return float(d.max()) if d.size else 0.0
    return float(np.sum(d > 1e-9))


def region_descent(net, x0, lo, hi, C, rhs, norm: str, x: np.ndarray, budget: Budget,
                   max_polish: int = 30) -> tuple[np.ndarray, float, int]:
    """``(x', distance, LPs)``: ``x`` (which meets the rows ``C y >= rhs``) moved closer
    to ``x0`` by LPs over its activation region and the adjacent ones (step 2 of
    the module), until the distance stops going down or ``budget`` is spent."""
    lps = 0
    cur, cur_d = x, _distance(x, x0, norm)
    if highspy is not None:
        changed = np.abs(x - x0) > 1e-12
        pat = relu_pattern(net, cur)
        for _ in range(max_polish):
            if budget.expired():
                break
            lps += 1
            xp = region_lp(net, x0, lo, hi, C, rhs, norm, pat, changed)
            if xp is None:
                break
            s, j = _slack(net.forward(xp[None])[0], C, rhs)
            dp = _distance(xp, x0, norm)
            if s[j] < 0 or dp > cur_d * (1 - 1e-9) - 1e-12:
                if s[j] >= 0 and dp <= cur_d + 1e-12:
                    cur, cur_d = xp, min(dp, cur_d)
                break
            cur, cur_d = xp, dp
            nxt = relu_pattern(net, cur, previous=pat)
            if all((a is None and b is None) or (a is not None and np.array_equal(a, b))
                   for a, b in zip(nxt, pat)):
                break
            pat = nxt
    return cur, cur_d, lps


def find_start(query, lo: np.ndarray, hi: np.ndarray, label: int,
               time_budget: float | Budget = 2.0, max_polish: int = 30) -> Start | None:
    """A checked adversarial input for ``query`` in ``[lo, hi]``, or None.

    ``label`` is the class of ``x0`` (for "any class but the label").
    Spends at most about ``time_budget`` (CPU seconds, or a
    :class:`~nncc.budget.Budget`).
    """
    from ..checks.check_network import check_network_answer

    t0 = time.perf_counter()
    budget = Budget.of(time_budget)
    net = query.network
    K = net.n_outputs
    x0 = np.asarray(query.x0, dtype=np.float64).reshape(-1)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    y0 = net.forward(x0[None])[0]
    if query.target is not None:
        winners = [int(query.target)]
    else:  # the strongest rivals first
        winners = [int(k) for k in np.argsort(-y0) if k != label]
    norm = query.norm
    best: Start | None = None
    steps_total = lps = 0
    for w in winners:
        if budget.expired():
            break
        C, rhs = query_rows(query, K, label, w)
        goal = max(float(query.margin), 1e-3) * (1.0 + float(np.abs(y0).max()) * 1e-3)
        if norm == "linf":
            x, steps = greedy_linf(net, x0, lo, hi, C, rhs, goal, budget)
        else:
            x, steps = _greedy_sparse(net, x0, lo, hi, C, rhs, goal, budget,
                                      max_steps=4 * x0.size + 100)
            if x is None:  # one input at a time got stuck: try sign steps in a ball
                x, more = greedy_linf(net, x0, lo, hi, C, rhs, goal, budget)
                steps += more
        steps_total += steps
        if x is None:
            continue
        cur, cur_d, n_lp = region_descent(net, x0, lo, hi, C, rhs, norm, x, budget, max_polish)
        lps += n_lp
        if best is None or cur_d < best.distance:
            out = net.forward(cur[None])[0]
            chk = check_network_answer(query, {"input": cur, "output": out})
            if chk.ok:
                best = Start(cur, chk.value, w, 0.0, 0, 0)
    if best is not None:
        best.seconds, best.lp_solves, best.descent_steps = time.perf_counter() - t0, lps, steps_total
    return best
