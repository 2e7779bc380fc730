"""LP (or MILP) tightening of the interval bounds of a trained network.

The standard progressive scheme: layer by layer, for each neuron whose bounds
matter for what follows, minimise and maximise it over a relaxation of the
network up to that layer, then use the tightened bounds to relax that layer
in turn.

* The network so far is one HiGHS model that grows by one layer at a time
  (columns for the layer output, rows for its relation); between the solves
  of one layer only the objective changes (one column cost set, one reset),
  so every LP is warm-started from the previous basis.  Method ``milp``
  keeps a second model, with binaries, beside it: in each layer the LP
  solves come first and the MILP solves then work on the neurons the LP
  left unstable (a MILP cannot be warm-started; each is solved afresh).
* Affine: equality rows ``y - W x = b``.
* Relu ``a = max(0, z)``, ``z`` in ``[L, U]``: ``a = z`` when ``L >= 0``,
  ``a = 0`` when ``U <= 0``, else the triangle ``a >= 0, a >= z,
  a <= U (z - L) / (U - L)`` in the LP model, or the big-M rows with a
  binary ``d`` -- ``a <= z - L (1 - d)``, ``a <= U d`` -- in the MILP model
  (method ``milp``), whose LP relaxation is that triangle.
* MaxPool ``y = max_j x_j`` over a group with input bounds ``[l_j, u_j]``:
  ``y >= x_j`` for each ``j``, ``y <= max_j u_j`` (column bound) and
  ``y <= max_j l_j + sum_j (x_j - l_j)`` (valid since the largest ``x_m``
  satisfies ``x_m - max_j l_j <= x_m - l_m <= sum_j (x_j - l_j)``), an LP
  relaxation tighter than the interval one; a group with one input that
  dominates every other (``l_m >= u_j``) is the equality ``y = x_m``.  The
  MILP model uses the same relaxation (no binaries for MaxPool).

Which neurons are solved: the unstable inputs of a Relu (the upper bound
first; when it is ``<= 0`` the neuron is inactive and its lower bound
matters to nothing, and when the lower bound comes out ``>= 0`` the neuron
is active), the candidate inputs of MaxPool groups no input of which
dominates, and the network outputs.  Affine outputs that feed another
Affine need none (the rows carry them exactly), nor does the first layer
when it is Affine (an LP over a box gives exactly the interval bound).

Soundness does not rest on the solver's tolerances: an LP bound is the
Lagrangian bound ``min over the box of (c - A^T lam) x + min over the row
ranges of lam^T r`` computed in numpy from HiGHS' row duals ``lam``, which
is a valid lower bound for ANY ``lam`` (a poor dual only makes it weaker),
then widened outward by ``1e-6 (1 + |value|)`` for rounding (of that sum,
and of the triangle coefficients, which are computed in floating point).  A MILP bound
is HiGHS' dual bound (never the incumbent), valid when the solve stops at
its time limit, widened the same way.  Every result is intersected with the
bound already known, so tightening never loosens anything.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import scipy.sparse as sp

from ..problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu
from ..solvers.highs_inprocess import highspy, quiet_highs
from .interval_bounds import NetworkBounds, check_box, layer_interval

_REL_TOL = 1e-6

def _widen(value: float) -> float:
    """Outward tolerance for a solver bound of this value."""
    return _REL_TOL * (1.0 + abs(value))


class _Relaxation:
    """A HiGHS model of the network relaxed up to some layer, plus a numpy mirror
    of its rows and column bounds for the Lagrangian bound."""

    def __init__(self, integer: bool):
        self.integer = integer
        self.h = quiet_highs()
        self.inf = highspy.kHighsInf
        self.n = 0
        self.col_lb: list[np.ndarray] = []
        self.col_ub: list[np.ndarray] = []
        self.blocks: list[sp.csr_matrix] = []  # rows, columns indexed globally
        self.row_lb: list[np.ndarray] = []
        self.row_ub: list[np.ndarray] = []
        self._mirror = None
        self.cols: dict[int, np.ndarray] = {}  # layer index (-1: input) -> its columns
        self._cost_col = -1

    # -- building ---------------------------------------------------------------
    def add_cols(self, lb, ub, integer=False) -> np.ndarray:
        lb = np.asarray(lb, dtype=np.float64)
        ub = np.asarray(ub, dtype=np.float64)
        k = lb.size
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        self.h.addCols(k, np.zeros(k), lb, ub, 0, np.zeros(0, dtype=np.int32),
                       np.zeros(0, dtype=np.int32), np.zeros(0))
        idx = np.arange(self.n, self.n + k)
        if integer:
            self.h.changeColsIntegrality(k, idx.astype(np.int32),
                                         np.full(k, highspy.HighsVarType.kInteger))
        self.n += k
        self.col_lb.append(lb.copy())
        self.col_ub.append(ub.copy())
        self._mirror = None
        return idx

    def add_rows(self, rows, cols, vals, rl, ur) -> None:
        """Rows given as COO triplets (row numbers local to this block)."""
        rl = np.asarray(rl, dtype=np.float64)
        ur = np.asarray(ur, dtype=np.float64)
        m = rl.size
        if m == 0:
            return
        A = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (np.asarray(rows), np.asarray(cols))),
                          shape=(m, self.n))
        A.sum_duplicates()
        A.eliminate_zeros()
        self.h.addRows(m, np.where(np.isfinite(rl), rl, -self.inf), np.where(np.isfinite(ur), ur, self.inf),
                       A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data)
        self.blocks.append(A)
        self.row_lb.append(rl)
        self.row_ub.append(ur)
        self._mirror = None

    def set_col_bounds(self, idx: np.ndarray, lb, ub) -> None:
        lb = np.asarray(lb, dtype=np.float64)
        ub = np.asarray(ub, dtype=np.float64)
        self.h.changeColsBounds(idx.size, idx.astype(np.int32), lb, ub)
        lbs, ubs = np.concatenate(self.col_lb), np.concatenate(self.col_ub)
        lbs[idx], ubs[idx] = lb, ub
        self.col_lb, self.col_ub = [lbs], [ubs]
        self._mirror = None

    def add_layer(self, k: int, layer, out_lo, out_hi, in_lo, in_hi) -> np.ndarray:
        """Columns for the output of layer ``k`` (bounds ``out_lo``/``out_hi``) and the
        rows relating them to the previous layer's columns (whose bounds are
        ``in_lo``/``in_hi``); returns the new columns."""
        x = self.cols[k - 1]
        if isinstance(layer, Affine):
            y = self.add_cols(out_lo, out_hi)
            W = sp.coo_matrix(layer.W) if not sp.issparse(layer.W) else layer.W.tocoo()
            m = y.size
            # y_i - sum_j W_ij x_j = b_i
            rows = np.concatenate([np.arange(m), W.row])
            cols = np.concatenate([y, x[W.col]])
            vals = np.concatenate([np.ones(m), -W.data.astype(np.float64)])
            b = np.asarray(layer.b, dtype=np.float64).ravel()
            self.add_rows(rows, cols, vals, b, b)
        elif isinstance(layer, Relu):
            y = self._add_relu(x, in_lo, in_hi, out_lo, out_hi)
        elif isinstance(layer, MaxPool):
            y = self._add_maxpool(x, layer.groups, in_lo, in_hi, out_lo, out_hi)
        else:
            raise TypeError(f"no relaxation for layer {type(layer).__name__}")
        self.cols[k] = y
        return y

    def _add_relu(self, z, L, U, out_lo, out_hi) -> np.ndarray:
        inactive = U <= 0.0
        active = (L >= 0.0) & ~inactive
        uns = ~active & ~inactive
        a = self.add_cols(np.where(inactive, 0.0, out_lo), np.where(inactive, 0.0, out_hi))
        # a = z where always active (a = 0 where inactive is the column bound)
        ia = np.flatnonzero(active)
        if ia.size:
            r = np.arange(ia.size)
            self.add_rows(np.concatenate([r, r]), np.concatenate([a[ia], z[ia]]),
                          np.concatenate([np.ones(ia.size), -np.ones(ia.size)]), np.zeros(ia.size),
                          np.zeros(ia.size))
        iu = np.flatnonzero(uns)
        n = iu.size
        if n == 0:
            return a
        au, zu, Lu, Uu = a[iu], z[iu], L[iu], U[iu]
        r = np.arange(n)
        # a - z >= 0
        self.add_rows(np.concatenate([r, r]), np.concatenate([au, zu]),
                      np.concatenate([np.ones(n), -np.ones(n)]), np.zeros(n), np.full(n, np.inf))
        if not self.integer:
            # triangle: a - s z <= -s L with s = U / (U - L) in (0, 1)
            s = Uu / (Uu - Lu)
            self.add_rows(np.concatenate([r, r]), np.concatenate([au, zu]),
                          np.concatenate([np.ones(n), -s]), np.full(n, -np.inf), -s * Lu)
        else:
            d = self.add_cols(np.zeros(n), np.ones(n), integer=True)
            # a - z - L d <= -L  (d = 1: a <= z) ;  a - U d <= 0  (d = 0: a <= 0)
            self.add_rows(np.concatenate([r, r, r]), np.concatenate([au, zu, d]),
                          np.concatenate([np.ones(n), -np.ones(n), -Lu]), np.full(n, -np.inf), -Lu)
            self.add_rows(np.concatenate([r, r]), np.concatenate([au, d]),
                          np.concatenate([np.ones(n), -Uu]), np.full(n, -np.inf), np.zeros(n))
        return a

    def _add_maxpool(self, x, groups, in_lo, in_hi, out_lo, out_hi) -> np.ndarray:
        g = np.asarray(groups)
        y = self.add_cols(out_lo, out_hi)
        ge_r, ge_c, ge_v = [], [], []
        le_r, le_c, le_v, le_u = [], [], [], []
        eq_r, eq_c, eq_v = [], [], []
        n_ge = n_le = n_eq = 0
        for k in range(g.shape[0]):
            members = g[k][g[k] >= 0]
            l, u = in_lo[members], in_hi[members]
            m = int(np.argmax(l))
            others = np.delete(np.arange(members.size), m)
            if members.size == 1 or np.all(l[m] >= u[others]):
                # one input dominates: y = x_m
                eq_r += [n_eq, n_eq]
                eq_c += [y[k], x[members[m]]]
                eq_v += [1.0, -1.0]
                n_eq += 1
                continue
            for j in members:  # y - x_j >= 0
                ge_r += [n_ge, n_ge]
                ge_c += [y[k], x[j]]
                ge_v += [1.0, -1.0]
                n_ge += 1
            # y - sum_j x_j <= max_j l_j - sum_j l_j
            le_r += [n_le] * (members.size + 1)
            le_c += [y[k]] + list(x[members])
            le_v += [1.0] + [-1.0] * members.size
            le_u.append(float(l.max() - l.sum()))
            n_le += 1
        self.add_rows(eq_r, eq_c, eq_v, np.zeros(n_eq), np.zeros(n_eq))
        self.add_rows(ge_r, ge_c, ge_v, np.zeros(n_ge), np.full(n_ge, np.inf))
        self.add_rows(le_r, le_c, le_v, np.full(n_le, -np.inf), np.asarray(le_u))
        return y

    # -- solving ----------------------------------------------------------------
    def _mirror_arrays(self):
        if self._mirror is None:
            n = self.n
            # blocks were built when the model had fewer columns: widen them
            A = sp.vstack([sp.csr_matrix((B.data, B.indices, B.indptr), shape=(B.shape[0], n))
                           for B in self.blocks] or [sp.csr_matrix((0, n))], format="csr")
            self._mirror = (A.T.tocsr(), np.concatenate(self.col_lb), np.concatenate(self.col_ub),
                            np.concatenate(self.row_lb) if self.row_lb else np.zeros(0),
                            np.concatenate(self.row_ub) if self.row_ub else np.zeros(0))
        return self._mirror

    def _set_cost(self, col: int, sign: float) -> None:
        if self._cost_col >= 0 and self._cost_col != col:
            self.h.changeColCost(self._cost_col, 0.0)
        self.h.changeColCost(col, sign)
        self._cost_col = col

    def lower_bound(self, col: int, sign: float, time_limit: float) -> float | None:
        """A valid lower bound on ``sign * x[col]`` over the model, or None.

        LP: the Lagrangian bound from the row duals; MILP: HiGHS' dual bound.
        Not yet widened for rounding.
        """
        self._set_cost(col, sign)
        limit = max(float(time_limit), 1e-3)
        if not self.integer:
            # HiGHS' simplex checks time_limit against the run time accumulated over
            # every run of this Highs object (its MIP solver against the current run)
            limit += self.h.getRunTime()
        self.h.setOptionValue("time_limit", limit)
        self.h.run()
        if self.integer:
            info = self.h.getInfo()
            v = float(info.mip_dual_bound)
            return v if np.isfinite(v) else None
        sol = self.h.getSolution()
        if not sol.dual_valid:
            return None
        return self._lagrangian(col, sign, np.asarray(sol.row_dual, dtype=np.float64))

    def _lagrangian(self, col: int, sign: float, lam: np.ndarray) -> float:
        """``min_{x in box} (c - A^T lam) x + min_{r in row ranges} lam r`` for ``c = sign e_col``:
        a lower bound on ``min c x`` for any ``lam``."""
        AT, lb, ub, rl, ru = self._mirror_arrays()
        # a multiplier pushing against an infinite side of its row proves nothing: drop it
        lam = np.where((lam > 0) & ~np.isfinite(rl), 0.0, lam)
        lam = np.where((lam < 0) & ~np.isfinite(ru), 0.0, lam)
        red = -(AT @ lam)
        red[col] += sign
        xterm = np.where(red > 0, red * lb, red * ub)
        rterm = np.where(lam > 0, lam * np.where(np.isfinite(rl), rl, 0.0),
                         lam * np.where(np.isfinite(ru), ru, 0.0))
        v = float(xterm.sum() + rterm.sum())
        scale = float(np.abs(xterm).sum() + np.abs(rterm).sum())
        return v - 1e-12 * scale  # rounding of the sums themselves


def _targets(net: FixedNetwork, k: int, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, str]]:
    """Neurons of layer ``k``'s output worth solving, each with its order:
    ``"relu"`` (max first, min only if still unstable) or ``"both"``."""
    layers = net.layers
    if k == len(layers) - 1:
        # an LP result is widened by _widen: narrower boxes cannot improve
        mag = np.maximum(np.abs(lo), np.abs(hi))
        return [(int(i), "both") for i in np.flatnonzero(hi - lo > 2 * _REL_TOL * (1 + mag))]
    nxt = layers[k + 1]
    if isinstance(nxt, Relu):
        return [(int(i), "relu") for i in np.flatnonzero((lo < 0) & (hi > 0))]
    if isinstance(nxt, MaxPool):
        out = set()
        for row in np.asarray(nxt.groups):
            members = row[row >= 0]
            m = int(np.argmax(lo[members]))
            top = lo[members[m]]
            # settled when the input with the largest lower bound dominates the others;
            # else solve the inputs that can be the max (hi >= top)
            if np.any(np.delete(hi[members], m) > top):
                out.update(int(j) for j in members[hi[members] >= top])
        return [(i, "both") for i in sorted(out)]
    return []


def lp_bounds(net: FixedNetwork, lo: np.ndarray, hi: np.ndarray, *, time_budget: float = 10.0,
              method: str = "lp", progress: Callable[[str], None] | None = None,
              neuron_time_limit: float = 1.0,
              l1_ball: tuple[np.ndarray, float] | None = None) -> NetworkBounds:
    """Bounds on every layer output of ``net`` over ``[lo, hi]``, tightened by LP or MILP.

    ``method="lp"``: the progressive LP scheme of the module docstring, with the
    triangle relaxation of ReLUs.  ``method="milp"``: the same, and in each
    layer, after the LP solves, the neurons still unstable are solved again
    as MILPs with the unstable ReLUs of earlier layers as binaries (big-M from
    the bounds so far), each solve limited to ``neuron_time_limit`` seconds
    and its dual bound kept; the MILP solves of a layer get at most an equal
    share of the time left among the layers still to come, so later layers
    are not starved.

    Stops when ``time_budget`` seconds are spent; the neurons not reached keep
    interval bounds (propagated from the tightened earlier layers).  The result
    starts from (and is never looser than) the back-substitution bounds of
    :mod:`.symbolic_bounds`, themselves inside :func:`interval_bounds`; ``stats`` says how many
    neurons were solved, tightened and left (``milp_*``: the MILP solves).
    ``progress``, if given, is called with a line of text after each layer.
    ``l1_ball = (x0, r)`` restricts the inputs further to L1 distance ``r``
    from ``x0`` (rows ``t >= |x - x0|``, ``sum t <= r`` in every model; the
    first layer's exact bounds come from :func:`.interval_bounds.l1_ball_affine`).
    Requires ``highspy``.
    """
    if highspy is None:
        raise ImportError("lp_bounds needs highspy (pip install highspy)")
    if method not in ("lp", "milp"):
        raise ValueError(f"method must be 'lp' or 'milp', not {method!r}")
    lo, hi = check_box(net, lo, hi)
    t0 = time.perf_counter()
    from .symbolic_bounds import symbolic_bounds
    out = _progressive(net, symbolic_bounds(net, lo, hi, l1_ball), t0 + float(time_budget),
                       method == "milp", progress, neuron_time_limit, l1_ball)
    out.stats["seconds"] = time.perf_counter() - t0
    out.stats["budget"] = float(time_budget)
    out.method = method
    return out


def _solve_layer(model: _Relaxation, cols: np.ndarray, targets, l, u, deadline: float,
                 time_limit: float | None, st: dict, prefix: str) -> int:
    """Tighten ``l``/``u`` in place on ``targets`` with ``model``; returns how many
    neurons were reached before ``deadline``."""
    n_done = 0
    for i, order in targets:
        if time.perf_counter() >= deadline:
            st["budget_exhausted"] = True
            break
        n_done += 1
        old_l, old_u = l[i], u[i]
        # max first: when it is <= 0 a ReLU input is inactive, its lower bound unused
        for sign in (-1.0, 1.0):
            if order == "relu" and ((sign > 0 and u[i] <= 0) or (sign < 0 and l[i] >= 0)):
                continue
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                st["budget_exhausted"] = True
                break
            st[prefix + "solves"] += 1
            v = model.lower_bound(int(cols[i]), sign,
                                  remaining if time_limit is None else min(time_limit, remaining))
            if v is None:
                st["failed_solves"] += 1
                continue
            v -= _widen(v)
            if sign > 0:
                l[i] = max(l[i], v)
            else:
                u[i] = min(u[i], -v)
        if u[i] < l[i]:  # only by a solver inconsistency: keep what was known
            l[i], u[i] = old_l, old_u
        st[prefix + "neurons_solved"] += 1
        if u[i] - l[i] < (old_u - old_l) * (1 - 1e-9):
            st[prefix + "neurons_tightened"] += 1
    st[prefix + "neurons_left"] += len(targets) - n_done
    return n_done


def _progressive(net: FixedNetwork, known: NetworkBounds, deadline: float, milp: bool,
                 progress, neuron_time_limit: float, l1_ball=None) -> NetworkBounds:
    """The progressive pass: returns new bounds, each inside ``known``'s."""
    t0 = time.perf_counter()
    lp = _Relaxation(integer=False)
    mip = _Relaxation(integer=True) if milp else None
    models = [m for m in (lp, mip) if m is not None]
    for m in models:
        m.cols[-1] = m.add_cols(known.input_lo, known.input_hi)
        if l1_ball is not None:
            _add_l1_ball(m, m.cols[-1], known.input_lo, known.input_hi, *l1_ball)
    out = NetworkBounds(input_lo=known.input_lo, input_hi=known.input_hi,
                        layer_names=list(known.layer_names), layer_kinds=list(known.layer_kinds),
                        method="milp" if milp else "lp")
    st = {"solves": 0, "neurons_solved": 0, "neurons_tightened": 0, "neurons_left": 0,
          "failed_solves": 0, "budget_exhausted": False}
    if milp:
        st.update(milp_solves=0, milp_neurons_solved=0, milp_neurons_tightened=0, milp_neurons_left=0)
    # layers that can have neurons to solve: outputs feeding a Relu / MaxPool, and the last
    solvable = [k for k, _ in enumerate(net.layers)
                if k == len(net.layers) - 1 or isinstance(net.layers[k + 1], (Relu, MaxPool))]
    prev_lo, prev_hi = known.input_lo, known.input_hi
    binaries_before = False  # any unstable ReLU earlier (else the MILP is the LP: skip it)
    for k, layer in enumerate(net.layers):
        l, u = layer_interval(layer, prev_lo, prev_hi)
        # earlier tightening can only shrink the interval image; keep what was known too
        l = np.maximum(l, known.lo[k])
        u = np.maximum(np.minimum(u, known.hi[k]), l)
        cols = [m.add_layer(k, layer, l, u, prev_lo, prev_hi) for m in models]
        # layer 0 over the input box: the LP optimum is the interval bound
        # (over an L1 ball too: the knapsack of l1_ball_affine is exact there)
        targets = _targets(net, k, l, u) if k > 0 else []
        n_lp = _solve_layer(lp, cols[0], targets, l, u, deadline, None, st, "")
        n_mip = 0
        if milp and binaries_before and k > 0:
            # the neurons the LP left unstable (or outputs / pool inputs still open)
            mtargets = _targets(net, k, l, u)
            share = (deadline - time.perf_counter()) / max(1, sum(1 for j in solvable if j >= k))
            n_mip = _solve_layer(mip, cols[1], mtargets, l, u, min(deadline, time.perf_counter() + share),
                                 neuron_time_limit, st, "milp_")
            if time.perf_counter() >= deadline and n_mip < len(mtargets):
                st["budget_exhausted"] = True
        if n_lp or n_mip:
            for m, c in zip(models, cols):
                m.set_col_bounds(c, l, u)
        out.lo.append(l)
        out.hi.append(u)
        prev_lo, prev_hi = l, u
        if isinstance(layer, Relu):
            zl, zu = out.pre_relu(k)
            binaries_before = binaries_before or bool(np.any((zl < 0) & (zu > 0)))
        if progress is not None:
            progress(f"{'milp' if milp else 'lp'} bounds: layer {k} '{layer.name}' "
                     f"{n_lp}/{len(targets)} neurons by LP"
                     + (f", {n_mip} by MILP" if milp else "") + f", {time.perf_counter() - t0:.2f} s")
    st["seconds"] = time.perf_counter() - t0
    out.stats = st
    return out


def _add_l1_ball(model: _Relaxation, x: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 x0: np.ndarray, radius: float) -> None:
    """Rows ``t >= |x - x0|``, ``sum t <= radius`` over the input columns ``x``."""
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    n = x.size
    t = model.add_cols(np.zeros(n), np.maximum(np.maximum(hi - x0, x0 - lo), 0.0))
    r = np.arange(n)
    ones = np.ones(n)
    # t - x >= -x0 ; t + x >= x0
    model.add_rows(np.concatenate([r, r]), np.concatenate([t, x]), np.concatenate([ones, -ones]),
                   -x0, np.full(n, np.inf))
    model.add_rows(np.concatenate([r, r]), np.concatenate([t, x]), np.concatenate([ones, ones]),
                   x0, np.full(n, np.inf))
    model.add_rows(np.zeros(n, dtype=np.int64), t, ones, [-np.inf], [float(radius)])
