"""Branch and bound over ReLU phases: proofs that no input of a region reaches a class.

Input splitting (:mod:`nncc.analysis.input_split`) is hopeless on images, whose
784 inputs would each have to be bisected.  Here the search splits unstable
ReLUs instead: a node of the search fixes the phase of some of them (active,
``z >= 0``, or inactive, ``z <= 0``), and is closed when, over the region (a
box, or a box and an L1 ball) and under its phases, some row ``c . y >= d``
of the question is out of reach.

Bounding a node (all nodes of a batch at once, in numpy):

1. **Neuron bounds.**  Those of the root come from back-substitution over the
   region (:func:`nncc.analysis.symbolic_bounds.symbolic_bounds`); a fixed ReLU
   is exact (``h = z`` or ``h = 0``) and its bounds are clamped to its phase;
   over a box, later layers' bounds are recomputed by back-substitution under
   the phases (:func:`_node_bounds` says why not over a ball).  A node whose
   bounds cross is empty.
2. **The rows' bound, optimised** (alpha- and beta-CROWN, Wang et al. 2021).
   On a node ``s z >= 0`` for each fixed ReLU (``s`` +1 active, -1 inactive),
   so ``c . y <= c . y + sum beta s z`` for any ``beta >= 0``, and
   back-substitution bounds the right-hand side over the region with the
   ReLU relaxations; so does any lower slope ``alpha`` in ``[0, 1]`` of a free
   unstable ReLU.  Every choice gives a valid bound, so a few projected
   gradient steps (Adam) on ``alpha`` and ``beta`` can only help: the
   smallest bound met is kept.  The gradient is exact: ``dU / d beta = s z*``
   and ``dU / d alpha = a z*``, where ``z*`` is the pre-activation at the
   maximiser of the region pushed forward through the relaxation the bound
   used, and ``a`` the row's (negative) weight on that ReLU.  Over a box the
   maximiser is a corner; over a box and an L1 ball, a fractional knapsack.
   A child starts from its parent's ``alpha`` and ``beta``; after a first
   step over every row only each node's two rows nearest to a proof go on.
3. **Candidates.**  The maximiser of the nearest row is run through the
   network; ``check`` decides whether it is an answer.  For the most
   promising node an LP over the activation region of that point looks for
   one (at most a tenth of the time).
4. **Branching.**  The free unstable ReLU whose relaxation adds most to the
   nearest row's bound (its weight times its chord's intercept, BaBSR's
   score) is split; the most promising node's children are bounded first.
5. **Leaves.**  A node with every ReLU fixed or stable is an affine network on
   a polytope: one LP (HiGHS through scipy) finds a point meeting the rows,
   which ``check`` decides, or shows there is none -- within HiGHS's
   tolerances, as every answer of the MILP back end is.

Every bound is widened for rounding as in :mod:`nncc.analysis.input_split`.
"""
from __future__ import annotations

import time

import numpy as np

from ..budget import Budget
from .input_split import DenseNet, SplitResult, deeppoly_lines, parallel_lines, substitute_rows
from .symbolic_bounds import symbolic_bounds


class _Nodes:
    """A batch of nodes: per Relu layer ``k``, phases (N, width) in {-1, 0, 1}
    (inactive, free, active), the bounds (l, u) of its input, and per node and
    row the optimiser's ``alpha`` / ``beta`` (N, rows, width)."""

    def __init__(self, phase, lo, up, alpha, beta, depth, rows=None, dirty=None):
        self.phase, self.lo, self.up = phase, lo, up
        self.alpha, self.beta, self.depth = alpha, beta, depth
        self.rows = rows      # (N, focus): the rows a node optimises (its parent's nearest)
        # the Relu layer of the node's last split (later layers' bounds are stale), or -1
        self.dirty = np.full(len(depth), -1, np.int64) if dirty is None else dirty

    def __len__(self):
        return len(self.depth)

    def take(self, idx):
        f = (lambda d: {k: v[idx] for k, v in d.items()})
        return _Nodes(f(self.phase), f(self.lo), f(self.up), f(self.alpha), f(self.beta),
                      self.depth[idx], None if self.rows is None else self.rows[idx],
                      self.dirty[idx])


def _knapsack(A, lo, hi, x0, r, top: int = 256, need_x: bool = True):
    """Per row of ``A``, the maximum of ``A (x - x0)`` over ``{x in [lo, hi] :
    |x - x0|_1 <= r}`` and (with ``need_x``) the maximiser ``x``: a fractional
    knapsack, from ``x0`` the inputs with the largest ``|A_i|`` move first, as far
    as the box lets them in the helpful direction.  Only the ``top`` largest
    gains of a row are sorted (a partition finds them) when their room covers
    ``r`` (the greedy stops inside them; ties in any order give the same value);
    the other rows are sorted whole."""
    P, n = A.shape
    cap = np.where(A > 0, hi - x0, x0 - lo)
    gain = np.where(cap > 0, np.abs(A), 0.0)
    value = np.zeros(P)
    step = np.zeros_like(A) if need_x else None
    rows = np.arange(P)

    def greedy(sub, g, c, cols):
        o = np.argsort(-g, axis=1)
        c = np.take_along_axis(c, o, axis=1)
        t = np.clip(r - (np.cumsum(c, axis=1) - c), 0.0, c)
        value[sub] = np.einsum("pi,pi->p", np.take_along_axis(g, o, axis=1), t)
        if need_x:
            step[sub[:, None], np.take_along_axis(cols, o, axis=1)] = t

    if top < n:
        part = np.argpartition(-gain, top - 1, axis=1)[:, :top]
        pc = np.take_along_axis(cap, part, axis=1)
        enough = pc.sum(axis=1) >= r
        sub = np.flatnonzero(enough)
        if len(sub):
            greedy(sub, np.take_along_axis(gain[sub], part[sub], axis=1), pc[sub], part[sub])
        rows = np.flatnonzero(~enough)
    if len(rows):
        greedy(rows, gain[rows], cap[rows], np.broadcast_to(np.arange(n), (len(rows), n)))
    return value, (x0 + np.sign(A) * step if need_x else None)


def _maximise(nt: DenseNet, A, const, mag, depth, lo, hi, ball=None, need_x: bool = True):
    """Per row, the largest ``A x + const`` over the box (and the L1 ball ``(x0, r)``:
    :func:`_knapsack`), widened for rounding like
    :func:`~nncc.analysis.input_split._upper`; and (with ``need_x``) the maximiser."""
    if ball is None:
        x = np.where(A > 0, hi, lo)
        v = np.einsum("pi,pi->p", A, x) + const
    else:
        gain, x = _knapsack(A, lo, hi, *ball, need_x=need_x)
        v = A @ ball[0] + gain + const
    xabs = np.maximum(np.abs(lo), np.abs(hi))
    err = 4.0 * (depth + 1) * nt.gamma * (np.abs(A) @ xabs + mag + np.abs(v)) \
        + 4.0 * np.spacing(np.abs(v))
    return v + err, x


def supported(net, max_entries: float = 4e6) -> bool:
    """Affine / Relu networks with a Relu, whose weights fit dense in ``max_entries``
    float64 (a convolution's sparse matrix is made dense)."""
    layers = net.layers
    if not all(type(l).__name__ in ("Affine", "Relu") for l in layers):
        return False
    size = sum(int(np.prod(l.W.shape)) for l in layers if type(l).__name__ == "Affine")
    return any(type(l).__name__ == "Relu" for l in layers) and size <= max_entries


def _clamp(phase, l, u):
    return (np.where(phase > 0, np.maximum(l, 0.0), l), np.where(phase < 0, np.minimum(u, 0.0), u))


def _node_bounds(nt: DenseNet, relus: list[int], nodes: _Nodes, lo, hi, ball=None):
    """Clamp each node's Relu input bounds to its phases and, over a box, tighten the
    later layers' by back-substitution under the phases (in place; a layer only
    after a split in an earlier one, and never looser than the parent's); the
    mask of nodes whose bounds cross (empty nodes).

    Over a box and an L1 ball the later layers keep the root's bounds (as in
    beta-CROWN): there each row is a knapsack, and on the MNIST 784-64-64-10
    balls recomputing saved a tenth of the nodes for a third more time.  Over a
    box it is cheap, and on random 3-10-10-3 networks it saved up to half the
    nodes (719 against 1,397; 1,031 against 1,171)."""
    N = len(nodes)
    empty = np.zeros(N, bool)
    lines = ({}, {})
    for k in relus:
        l, u = _clamp(nodes.phase[k], nodes.lo[k], nodes.up[k])
        if k != relus[0] and ball is None:  # the first Relu's input bounds are exact
            W, b = nt.layers[k - 1][1], nt.layers[k - 1][2]
            bx, j = np.nonzero((l < 0) & (u > 0) & (nodes.dirty[:, None] >= 0)
                               & (nodes.dirty[:, None] < k))
            if len(bx):
                A0 = np.concatenate([W[j], -W[j]])
                c0 = np.concatenate([b[j], -b[j]])
                bi = np.concatenate([bx, bx])
                best = None
                for ln in lines:
                    sub = substitute_rows(nt, A0, c0, np.abs(c0), 1, bi, ln, k - 2)
                    upb = _maximise(nt, *sub, lo, hi, need_x=False)[0]
                    best = upb if best is None else np.minimum(best, upb)
                n = len(bx)
                l[bx, j] = np.maximum(l[bx, j], -best[n:])
                u[bx, j] = np.minimum(u[bx, j], best[:n])
                l, u = _clamp(nodes.phase[k], l, u)
        empty |= np.any(l > u, axis=1)
        u = np.maximum(u, l)
        nodes.lo[k], nodes.up[k] = l, u
        if ball is None:
            for ln, f in zip(lines, (parallel_lines, deeppoly_lines)):
                su, iu, sl = f(l, u)
                dl = su - sl
                ln[k] = (iu, sl, dl if dl.any() else None)
    nodes.dirty[:] = -1
    return empty


def _row_bounds(nt: DenseNet, relus, nodes: _Nodes, C, d, lo, hi, iters: int, lr_alpha: float,
                lr_beta: float, ball=None, focus: int = 2):
    """Per node and row the smallest upper bound of ``C y`` met over ``iters`` Adam
    steps on alpha and beta (N, R); per node and row the maximiser of the best
    bound (N, R, n) and each Relu layer's lifts (weight times intercept) there.
    After the first step only each node's ``focus`` rows nearest to ``d`` are
    optimised (one row out of reach closes the node), and over a ball a node
    that knows its parent's (``nodes.rows``) bounds only those (the others stay
    infinite).
    Updates ``nodes.alpha`` / ``nodes.beta`` / ``nodes.rows``."""
    N, R = len(nodes), C.shape[0]
    P = N * R
    bi = np.repeat(np.arange(N), R)
    L = len(nt.layers)
    lines = {}
    for k in relus:
        l, u = nodes.lo[k], nodes.up[k]
        su, iu, _ = deeppoly_lines(l, u)
        free = (l < 0) & (u > 0)
        lines[k] = (np.take(su, bi, axis=0), np.take(iu, bi, axis=0),
                    np.take(np.where(u <= 0, 0.0, 1.0), bi, axis=0),   # stable slope
                    np.take(free, bi, axis=0),
                    np.take(nodes.phase[k].astype(np.float64), bi, axis=0))
    alpha = {k: nodes.alpha[k].reshape(P, -1).copy() for k in relus}
    beta = {k: nodes.beta[k].reshape(P, -1).copy() for k in relus}
    best = np.full(P, np.inf)
    best_x = np.zeros((P, len(lo)))
    best_lift = {k: np.zeros_like(alpha[k]) for k in relus}
    best_alpha = {k: alpha[k].copy() for k in relus}
    best_beta = {k: beta[k].copy() for k in relus}
    Cr = np.tile(C, (N, 1))
    act = np.arange(P)                   # the pairs (node, row) being optimised

    def narrow(keep):
        nonlocal Cr, lines, alpha, beta, act
        Cr = Cr[keep]
        lines = {k: tuple(a[keep] for a in v) for k, v in lines.items()}
        alpha = {k: v[keep] for k, v in alpha.items()}
        beta = {k: v[keep] for k, v in beta.items()}
        act = keep

    # over a box every row costs little; over a ball each is a knapsack per step, and the
    # parent's nearest rows are the child's (on the MNIST balls: the same nodes, 1.5-2x
    # faster), though a search for an answer is then steered by fewer rows
    chosen = nodes.rows if ball is not None else None
    if chosen is not None:
        narrow((np.arange(N)[:, None] * R + chosen).ravel())
    moments = None
    for it in range(max(iters, 1)):
        A = Cr.copy()
        const = np.zeros(len(act))
        mag = np.zeros(len(act))
        depth = 0
        pos, lifts, coef = {}, {}, {}
        for k in range(L - 1, -1, -1):
            layer = nt.layers[k]
            if layer[0] == "affine":
                W, b, absb = layer[1], layer[2], layer[6]
                const += A @ b
                mag += np.abs(A) @ absb
                A = A @ W
                depth += 1
            else:
                su, iu, stable, free, s = lines[k]
                coef[k] = A                      # the row's weight on this Relu's output
                Ap = A > 0
                lift = np.where(Ap, A, 0.0) * iu
                lifts[k] = lift
                pos[k] = Ap
                sl = np.where(free, alpha[k], stable)
                A = A * np.where(Ap, su, sl) + s * beta[k]
                const += lift.sum(axis=1)
                mag += lift.sum(axis=1)
        U, x = _maximise(nt, A, const, mag, depth, lo, hi, ball)
        better = U < best[act]
        if better.any():
            at = act[better]
            best[at] = U[better]
            best_x[at] = x[better]
            for k in relus:
                best_lift[k][at] = lifts[k][better]
                best_alpha[k][at] = alpha[k][better]
                best_beta[k][at] = beta[k][better]
        if it == iters - 1 or iters <= 1:
            break
        if chosen is None and focus < R:   # from here on, each node's rows nearest to a proof
            chosen = np.argsort((best - np.tile(d, N)).reshape(N, R), axis=1)[:, :focus]
            keep = (np.arange(N)[:, None] * R + chosen).ravel()
            sel = np.searchsorted(act, keep)
            x = x[sel]
            pos = {k: v[sel] for k, v in pos.items()}
            coef = {k: v[sel] for k, v in coef.items()}
            narrow(keep)
        if moments is None:
            moments = {(w, k): [np.zeros_like(alpha[k]), np.zeros_like(alpha[k])]
                       for k in relus for w in "ab"}
        # forward through the relaxation used: z* at each Relu's input
        h = x
        zs = {}
        for k in range(L):
            layer = nt.layers[k]
            if layer[0] == "affine":
                h = h @ layer[1].T + layer[2]
            else:
                su, iu, stable, free, s = lines[k]
                zs[k] = h
                sl = np.where(free, alpha[k], stable)
                h = np.where(pos[k], su * h + iu, sl * h)
        for k in relus:
            su, iu, stable, free, s = lines[k]
            A, z = coef[k], zs[k]
            ga = np.where(free & (A < 0), A * z, 0.0)      # dU / d alpha
            gb = np.where(s != 0, s * z, 0.0)                # dU / d beta
            for key, g, par, lr, top in ((("a", k), ga, alpha[k], lr_alpha, 1.0),
                                         (("b", k), gb, beta[k], lr_beta, np.inf)):
                m, v2 = moments[key]
                m *= 0.9
                m += 0.1 * g
                v2 *= 0.999
                v2 += 0.001 * g * g
                mh = m / (1 - 0.9 ** (it + 1))
                vh = v2 / (1 - 0.999 ** (it + 1))
                par -= lr * mh / (np.sqrt(vh) + 1e-8)
                np.clip(par, 0.0, top, out=par)
    for k in relus:
        nodes.alpha[k] = best_alpha[k].reshape(N, R, -1)
        nodes.beta[k] = best_beta[k].reshape(N, R, -1)
    if chosen is not None:
        nodes.rows = chosen
    return (best.reshape(N, R), best_x.reshape(N, R, -1),
            {k: v.reshape(N, R, -1) for k, v in best_lift.items()})


def _region_lp(nt: DenseNet, phase: dict, C, d, lo, hi, ball=None):
    """The point of the activation region ``phase`` (per Relu layer, +1 active or -1
    inactive for every neuron) in the box (and L1 ball) that meets the rows
    ``C y >= d`` with the most slack, or None when the LP says there is none.  On
    the region the network is affine, so this is exact up to HiGHS's tolerances."""
    from scipy.optimize import linprog
    n = len(lo)
    M, c = np.eye(n), np.zeros(n)
    blocks, rhs = [], []
    for k, layer in enumerate(nt.layers):
        if layer[0] == "affine":
            M, c = layer[1] @ M, layer[1] @ c + layer[2]
        else:
            on = phase[k] > 0
            sign = np.where(on, -1.0, 1.0)             # z >= 0 / z <= 0 as A x <= b
            blocks.append(sign[:, None] * M)
            rhs.append(-sign * c)
            M, c = M * on[:, None], c * on
    # columns: x, and the slack t of C (M x + c) - d >= t (maximised, at most 1 so that
    # the LP stays bounded); with a ball, x = x0 + p - q, p, q >= 0, sum p + q <= r
    G = np.vstack(blocks + [-(C @ M)])
    b = np.concatenate(rhs + [C @ c - d])
    tcol = np.concatenate([np.zeros(len(b) - len(d)), np.ones(len(d))])[:, None]
    if ball is None:
        A = np.hstack([G, tcol])
        bounds = list(zip(lo, hi)) + [(None, 1.0)]
    else:
        x0, r = ball
        A = np.vstack([np.hstack([G, -G, tcol]),
                       np.concatenate([np.ones(2 * n), [0.0]])[None]])
        b = np.concatenate([b - G @ x0, [r]])
        bounds = list(zip(np.zeros(n), hi - x0)) + list(zip(np.zeros(n), x0 - lo)) + [(None, 1.0)]
    obj = np.zeros(A.shape[1])
    obj[-1] = -1.0
    res = linprog(obj, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if res.status == 2 or (res.status == 0 and res.x[-1] < 0):
        return None
    if res.status != 0:
        raise _LPFailed(res.message)
    x = res.x[:n] if ball is None else ball[0] + res.x[:n] - res.x[n:2 * n]
    return np.clip(x, lo, hi)


class _LPFailed(Exception):
    """An LP ended neither optimal nor infeasible (iteration limit, numerical trouble)."""


def _node_pattern(nodes: _Nodes, relus, i: int, outs=None) -> dict:
    """Node ``i``'s phases, its stable ReLUs' phases, and for its free ones the phase at
    a point (``outs``, the layer outputs there) or inactive."""
    pat = {}
    for k in relus:
        ph = nodes.phase[k][i]
        guess = (outs[k - 1] > 0) if outs is not None else np.zeros(len(ph), bool)
        free = np.where(nodes.lo[k][i] >= 0, 1, np.where(nodes.up[k][i] <= 0, -1,
                                                           np.where(guess, 1, -1)))
        pat[k] = np.where(ph != 0, ph, free)
    return pat


def relu_split_verify(net, C, d, lo, hi, *, check, time_limit: float | Budget | None = None,
                      max_nodes: int = 1_000_000, batch: int = 128, iters: int = 4,
                      root_iters: int = 20, lr_alpha: float = 0.5, lr_beta: float = 1.0,
                      progress=None, l1_ball=None, start: list | None = None,
                      frontier: int | None = None) -> SplitResult:
    """Is there an ``x`` in ``[lo, hi]`` (and within L1 distance ``r`` of ``x0`` when
    ``l1_ball=(x0, r)`` is given, ``x0`` in the box) with ``C net(x) >= d`` (every row)?

    ``check(x)`` re-checks a candidate (True: an answer).  ``unsat`` is a proof
    (every leaf of the search has a row out of reach); ``sat`` comes with a
    checked point; ``unknown`` when ``time_limit`` (CPU seconds, or a
    :class:`~nncc.budget.Budget`) or ``max_nodes`` ran out, or
    a leaf's LP point failed the check.  ``SplitResult.boxes`` counts the nodes
    bounded.  ``iters`` Adam steps per batch of ``batch`` nodes (``root_iters``
    at the root) with steps ``lr_alpha`` / ``lr_beta``: fewer steps on more
    nodes were fastest on the MNIST balls (4 steps against 12: 1,247 nodes in
    1.8 s against 1,165 in 3.8 s on the first image's optimality proof).

    ``start``: the open nodes to search from (batches of a search's ``open``) instead
    of the root; ``frontier``: stop with status ``open`` once that many nodes are
    open, and give them in ``SplitResult.open`` (the parts
    :mod:`nncc.analysis.parallel_split` hands out)."""
    if not supported(net):
        raise ValueError("ReLU splitting takes Affine / Relu networks of moderate size")
    budget = Budget.of(time_limit)
    t0 = time.perf_counter()
    nt = DenseNet(net)
    C = np.asarray(C, np.float64)
    d = np.asarray(d, np.float64)
    lo = np.asarray(lo, np.float64).ravel()
    hi = np.asarray(hi, np.float64).ravel()
    R = C.shape[0]
    relus = [k for k, l in enumerate(nt.layers) if l[0] == "relu"]
    ball = None
    if l1_ball is not None:
        ball = (np.asarray(l1_ball[0], np.float64).ravel(), float(l1_ball[1]))
    stack = [_root(net, relus, lo, hi, ball, R)] if start is None else list(start)
    done, n_open, max_depth, last_report = 0, sum(len(n) for n in stack), 0, t0
    first = start is None
    lp_seconds = 0.0

    def result(status, n_open, **kw):
        return SplitResult(status, boxes=done, open_boxes=n_open, max_depth=max_depth,
                           seconds=time.perf_counter() - t0, **kw)

    def out_of_time() -> bool:
        return budget.expired()

    while stack:
        if frontier is not None and n_open >= frontier:
            return result("open", n_open, open=[n.take(np.array([i])) for n in stack
                                                for i in range(len(n))])
        if out_of_time():
            return result("unknown", n_open, reason="time limit")
        if done >= max_nodes:
            return result("unknown", n_open, reason=f"{max_nodes} nodes bounded")
        nodes = stack.pop()
        if len(nodes) > batch:
            stack.append(nodes.take(np.arange(len(nodes) - batch)))
            nodes = nodes.take(np.arange(len(nodes) - batch, len(nodes)))
        N = len(nodes)
        n_open -= N
        done += N
        empty = _node_bounds(nt, relus, nodes, lo, hi, ball)
        U, X, lifts = _row_bounds(nt, relus, nodes, C, d, lo, hi,
                                  root_iters if first else iters, lr_alpha, lr_beta, ball)
        first = False
        gap = U - d                                                # < 0: out of reach
        keep = ~empty & ~np.any(gap < 0, axis=1)
        if not keep.any():
            continue
        nodes, gap, X = nodes.take(np.flatnonzero(keep)), gap[keep], X[keep]
        lifts = {k: v[keep] for k, v in lifts.items()}
        r = np.arange(len(nodes))
        near = np.argmin(gap, axis=1)                              # the row nearest to a proof
        pts = X[r, near]
        ok = np.all(net.forward(pts) @ C.T >= d, axis=1)
        for i in np.flatnonzero(ok)[:8]:
            if check(pts[i]):
                return result("sat", n_open, x=pts[i].copy())
        best_score, best_k, best_j = _branch_choice(nodes, relus, lifts, near)
        leaves = np.flatnonzero(best_score < 0)
        promise = gap[r, near]                  # how far the nearest row is from a proof
        # the most promising node: an LP over the region of its corner, for an answer
        # (after the first batch, and at most a tenth of the time: where there is no
        # answer, it is time lost)
        i = int(np.argmax(np.where(best_score >= 0, promise, -np.inf)))
        if best_score[i] >= 0 and done > batch and lp_seconds <= 0.1 * budget.used():
            t_lp = time.process_time()
            x = _corner_lp(net, nt, nodes, relus, i, pts[i], C, d, lo, hi, ball)
            lp_seconds += time.process_time() - t_lp
            if x is not None and check(x):
                return result("sat", n_open, x=x)
        leaf = _close_leaves(nt, nodes, relus, leaves, C, d, lo, hi, ball, check, out_of_time)
        if leaf is not None:
            status, still_open, kw = leaf
            return result(status, n_open + still_open, **kw)
        # children of the inner nodes, the most promising parent's last (popped first)
        inner = np.flatnonzero(best_score >= 0)
        order = inner[np.argsort(promise[inner], kind="stable")]
        if not len(order):
            continue
        stack.append(_children(nodes, relus, order, best_k, best_j))
        n_open += 2 * len(order)
        max_depth = max(max_depth, int(nodes.depth.max()) + 1)
        now = time.perf_counter()
        if progress is not None and now - last_report > 1.0:
            progress.stage(f"ReLU splitting: {done:,} nodes bounded, {n_open:,} open, "
                           f"depth {max_depth}, {now - t0:.1f} s")
            last_report = now
    return result("unsat", 0)


def _root(net, relus: list[int], lo, hi, ball, R: int) -> _Nodes:
    """The search's root: ReLU bounds by back-substitution over the box (and ball), no
    ReLU fixed, the lower lines chosen by the bounds."""
    nb = symbolic_bounds(net, lo, hi, l1_ball=ball)
    pre = {k: tuple(np.asarray(v, np.float64)[None].copy() for v in nb.pre_relu(k))
           for k in relus}
    width = {k: pre[k][0].shape[1] for k in relus}
    return _Nodes({k: np.zeros((1, width[k]), np.int8) for k in relus},
                  {k: pre[k][0].copy() for k in relus}, {k: pre[k][1].copy() for k in relus},
                  {k: np.tile(np.where(pre[k][1] > -pre[k][0], 1.0, 0.0)[:, None, :], (1, R, 1))
                   for k in relus},
                  {k: np.zeros((1, R, width[k])) for k in relus}, np.zeros(1, np.int64),
                  dirty=np.array([relus[0]]))   # over a box: both lower lines at the root too


def _branch_choice(nodes: _Nodes, relus: list[int], lifts: dict, near: np.ndarray):
    """Per node, the free unstable ReLU with the largest lift on its nearest row:
    ``(score, layer, unit)``; a score below 0 means no ReLU is left free (a leaf)."""
    N = len(nodes)
    r = np.arange(N)
    best_score = np.full(N, -1.0)
    best_k = np.zeros(N, np.int64)
    best_j = np.zeros(N, np.int64)
    for k in relus:
        free = (nodes.phase[k] == 0) & (nodes.lo[k] < 0) & (nodes.up[k] > 0)
        sc = np.where(free, lifts[k][r, near], -1.0)
        sc = np.where(free & (sc <= 0), 1e-12 * (nodes.up[k] - nodes.lo[k]), sc)
        j = np.argmax(sc, axis=1)
        s = sc[r, j]
        better = s > best_score
        best_score = np.where(better, s, best_score)
        best_k = np.where(better, k, best_k)
        best_j = np.where(better, j, best_j)
    return best_score, best_k, best_j


def _corner_lp(net, nt, nodes: _Nodes, relus: list[int], i: int, x, C, d, lo, hi, ball):
    """An LP over the activation region of node ``i``'s point ``x``: a candidate, or None."""
    _, outs = net.forward(x[None], return_all=True)
    try:
        return _region_lp(nt, _node_pattern(nodes, relus, i, [o[0] for o in outs]), C, d,
                          lo, hi, ball)
    except _LPFailed:
        return None            # only a candidate: nothing is closed by it


def _close_leaves(nt, nodes: _Nodes, relus: list[int], leaves, C, d, lo, hi, ball, check,
                  out_of_time):
    """The leaves (no ReLU free: the network is affine there) decided by an LP each:
    ``("sat", 0, {"x": x})`` for a checked point, ``("unknown", leaves left open,
    {"reason": ...})``, or None when every leaf is out of reach."""
    for i in leaves:
        if out_of_time():
            return "unknown", len(leaves), {"reason": "time limit"}
        try:
            x = _region_lp(nt, _node_pattern(nodes, relus, int(i)), C, d, lo, hi, ball)
        except _LPFailed as e:
            return "unknown", len(leaves), {"reason": f"a leaf's LP ended without a verdict ({e})"}
        if x is not None:
            if check(x):
                return "sat", 0, {"x": x}
            return "unknown", 0, {"reason": "an LP's point at a leaf failed the check (tolerances)"}
    return None


def _children(nodes: _Nodes, relus: list[int], order, best_k, best_j) -> _Nodes:
    """Two children per node of ``order``, the chosen ReLU fixed inactive and active."""
    idx = np.repeat(order, 2)
    kids = nodes.take(idx)
    sign = np.tile(np.array([-1, 1], np.int8), len(order))
    for k in relus:
        sel = np.flatnonzero(best_k[idx] == k)
        kids.phase[k][sel, best_j[idx][sel]] = sign[sel]
    kids.depth = kids.depth + 1
    kids.dirty = best_k[idx].astype(np.int64)
    return kids
