"""Proofs by input splitting: cut a disjunct's input box until bounds settle every part.

For networks with few inputs (ACAS Xu has 5) the cheapest complete method is
branch and bound on the input box, as ReluVal, Neurify and nnenum do: bound
the output over a box; if a row of the unsafe set ``C y >= d`` cannot hold
anywhere in it, the box is safe; if a point of it is a counterexample, stop;
otherwise bisect the box along one input and try both halves.

Bounds here are DeepPoly / CROWN back-substitution
(:mod:`nncc.analysis.symbolic_bounds` does the same for one box), computed for
hundreds of boxes at once: the substitution matrices of all boxes are stacked
so that a layer is one matrix product.  Every Relu's input is bounded by
substituting down to the input with the bounds of the layers before, then
the rows of the unsafe set are, each with two lower lines for an unstable
Relu (DeepPoly's and one parallel to the upper chord, :func:`parallel_lines`), the
smaller bound kept.

The bisected input is the one with the largest share of the
nearest-to-proven row's looseness (``rule="relax"``): its width times its
coefficient in the row's upper function (a box is loose where the row is
steep and the box is wide), plus the chord intercepts the Relu relaxations
add to the row, each shared out over the inputs by their width times their
weight in that Relu's input.  Without the second part (``rule="slope"``, the
rule of ReluVal and Neurify) a box whose looseness comes from an input the
row barely depends on is bisected along the others until they are points:
on ACAS Xu property 6 / N1,7 the search reached depth 211 and was still open
after 150 s; with it, it is proven in 40 s (25,764 boxes), and N1,6 needs
10,514 boxes instead of 29,914 (``benchmarks/split_rules.py``).
Counterexample candidates are the centre
of every box and the corner that maximises that row's upper function; a
candidate is reported only after :func:`~nncc.checks.counterexample.check_counterexample`.

Rounding: every concretised bound is widened outward by ``4 (d + 1) gamma_n``
times the magnitudes involved, as in :mod:`nncc.analysis.symbolic_bounds`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..budget import Budget
from ..problem.fixed_network import Affine, Relu
from .interval_bounds import rounding_gamma
from .symbolic_bounds import deeppoly_lines


@dataclass
class SplitResult:
    status: str                 # "unsat" (every box safe), "sat" (x checked), "unknown"
    x: np.ndarray | None = None
    boxes: int = 0              # boxes bounded
    open_boxes: int = 0         # boxes left when stopped
    max_depth: int = 0
    seconds: float = 0.0
    reason: str = ""
    cpu: float = 0.0            # CPU seconds of the worker processes (parallel splitting)
    # with ``frontier``: the open boxes when there were that many, (lo, hi, live sets) each
    open: list | None = None


def supported(net, max_inputs: int = 32) -> bool:
    """Affine / Relu networks with at most ``max_inputs`` inputs (splitting is
    hopeless on images: the number of boxes grows like 2 ** inputs)."""
    return net.n_inputs <= max_inputs and all(isinstance(l, (Affine, Relu)) for l in net.layers)


def parallel_lines(l: np.ndarray, u: np.ndarray):
    """:func:`~nncc.analysis.symbolic_bounds.deeppoly_lines`, but the lower line of an
    unstable Relu parallel to its upper chord, ``relu(z) >= u / (u - l) z``,
    instead of DeepPoly's slope 0 or 1.

    Neither choice is tighter everywhere, and back-substitution is not
    monotone (DeepPoly's slope jumps with the bounds), so every bound is
    computed with both and the smaller kept.  On ACAS Xu property 2 this
    took N1,1 from 5,071 boxes (DeepPoly's line alone) to 869, and N1,7 from
    over 120 s (the parallel line alone) to 1,427 boxes."""
    su, iu, sl = deeppoly_lines(l, u)
    return su, iu, np.where((l < 0) & (u > 0), su, sl)


def _dense(W):
    return np.asarray(W.toarray() if hasattr(W, "toarray") else W, dtype=np.float64)


class DenseNet:
    """The layers as dense float64 arrays; ``gamma`` bounds the relative rounding
    error of a sum as long as the widest layer (every product substituted through)."""

    def __init__(self, net):
        self.layers = []
        width = net.n_inputs
        for layer in net.layers:
            if isinstance(layer, Affine):
                W = _dense(layer.W)
                b = np.asarray(layer.b, np.float64).ravel()
                self.layers.append(("affine", W, b, np.maximum(W, 0.0), np.minimum(W, 0.0),
                                    np.abs(W), np.abs(b)))
                width = max(width, *W.shape)
            else:
                self.layers.append(("relu",))
        self.gamma = rounding_gamma(width + 2)


def substitute_rows(nt: DenseNet, A, const, mag, depth, bi, lines: dict, top: int, lifts=None):
    """Substitute rows ``A h + const`` of the output ``h`` of layer ``top`` down to the
    input: row ``p`` belongs to box ``bi[p]``, whose Relus relax by ``lines[k]`` (each
    of (upper intercept, lower slope, upper minus lower slope) is (boxes, width));
    an upper bound
    (for a lower one, substitute the negated rows).  ``mag`` gathers the magnitudes
    for the rounding bound, ``depth`` counts the products.  ``lifts`` (a dict) receives
    each Relu's chord intercepts per row and neuron, (P, width)."""
    for k in range(top, -1, -1):
        layer = nt.layers[k]
        if layer[0] == "affine":
            W, b, absb = layer[1], layer[2], layer[6]
            const = const + A @ b
            mag = mag + np.abs(A) @ absb
            A = A @ W
            depth += 1
        else:
            iu, sl, dl = lines[k]
            Ap = np.maximum(A, 0.0)
            if lifts is None:
                lift = np.einsum("pj,pj->p", Ap, np.take(iu, bi, axis=0))   # iu >= 0
            else:
                lifts[k] = Ap * np.take(iu, bi, axis=0)
                lift = lifts[k].sum(axis=1)
            const = const + lift
            mag = mag + lift
            A = A * np.take(sl, bi, axis=0)           # the upper slope where A > 0:
            if dl is not None:                        # sl + (su - sl) (np.where is slower)
                A += Ap * np.take(dl, bi, axis=0)
    return A, const, mag, depth


def _upper(nt: DenseNet, A, const, mag, depth, lo, hi, bi):
    """max of the rows ``A x + const`` over their boxes, widened for rounding."""
    l, h = lo[bi], hi[bi]
    v = np.einsum("pi,pi->p", A, np.where(A > 0, h, l)) + const
    xabs = np.maximum(np.abs(l), np.abs(h))
    err = 4.0 * (depth + 1) * nt.gamma * (np.einsum("pi,pi->p", np.abs(A), xabs) + mag
                                          + np.abs(v)) + 4.0 * np.spacing(np.abs(v))
    return v + err


def _relu_bounds(nt: DenseNet, lo, hi):
    """:func:`relu_bounds` and, for both lower lines, each Relu's relaxation per box."""
    pre, lines, sens = {}, ({}, {}), {}
    plo, phi = lo, hi
    for k, layer in enumerate(nt.layers):
        if layer[0] == "affine":
            _, W, b, Wp, Wn, absW, absb = layer
            ilo, ihi = plo @ Wp.T + phi @ Wn.T + b, phi @ Wp.T + plo @ Wn.T + b
            err = 2.0 * nt.gamma * (np.maximum(np.abs(plo), np.abs(phi)) @ absW.T + absb)
            ilo, ihi = ilo - err, ihi + err
            bx, j = np.nonzero((ilo < 0) & (ihi > 0))
            if k > 0 and len(bx):  # the first layer's interval bounds are exact; and only
                # each box's unstable neurons need tightening: z <= u and -z <= -l at once
                A0 = np.concatenate([W[j], -W[j]])
                c0 = np.concatenate([b[j], -b[j]])
                bi = np.concatenate([bx, bx])
                best = None
                n = len(bx)
                for ln in lines:
                    sub = substitute_rows(nt, A0, c0, np.abs(c0), 1, bi, ln, k - 1)
                    up = _upper(nt, *sub, lo, hi, bi)
                    if best is None:
                        best = up
                        sens[k + 1] = np.zeros(ilo.shape + (lo.shape[1],))
                        sens[k + 1][bx, j] = np.abs(sub[0][:n])
                    else:
                        best = np.minimum(best, up)
                ilo[bx, j] = np.maximum(ilo[bx, j], -best[n:])
                ihi[bx, j] = np.minimum(ihi[bx, j], best[:n])
            elif k == 0:
                sens[1] = np.broadcast_to(np.abs(W), (len(lo),) + W.shape)
            plo, phi = ilo, np.maximum(ihi, ilo)
        else:
            pre[k] = (plo, phi)
            for ln, f in zip(lines, (parallel_lines, deeppoly_lines)):
                su, iu, sl = f(plo, phi)
                dl = su - sl          # 0 everywhere for the parallel lower line
                ln[k] = (iu, sl, dl if dl.any() else None)
            plo, phi = np.maximum(plo, 0.0), np.maximum(phi, 0.0)
    return pre, lines, sens


def relu_bounds(nt: DenseNet, lo, hi) -> dict:
    """The bounds ``(l, u)`` (each (B, width)) of the input of every Relu over every
    box, by layer index: back-substitution down to the input (DeepPoly), each
    layer with the bounds of the layers before, intersected with the interval
    bounds from the layer before.

    Only the neurons the interval bounds leave unstable in a box are
    substituted, as one flat set of rows (a row knows its box): deep in the
    search a box has about a third of ACAS Xu's Relus unstable, while a
    batch of boxes has nearly all of them unstable in some box, so this
    does a third of the work of substituting every neuron of every box."""
    return _relu_bounds(nt, lo, hi)[0]


def box_bounds(nt: DenseNet, C, lo, hi, relax: bool = False):
    """Per box (lo, hi: (B, n)): upper bounds of the rows of ``C y`` (B, r) and
    their linear functions of the input, ``C y <= A x + c`` (A: (B, r, n)); of the
    two lower lines of an unstable Relu, the one giving the smaller bound.

    With ``relax``, also (B, r, n): how much of each row's bound the Relu
    relaxations add (the chords' intercepts), shared out over the inputs in
    proportion to each input's width times its weight in that Relu's input.
    A box whose bound is loose because of a wide input the row's linear
    function barely depends on is split along that input."""
    C = np.asarray(C, np.float64)
    B, r = lo.shape[0], C.shape[0]
    _, lines, sens = _relu_bounds(nt, lo, hi)
    bi = np.repeat(np.arange(B), r)
    A0 = np.tile(C, (B, 1))
    z = np.zeros(B * r)
    best = bestA = bestR = None
    shares = {}
    if relax:   # per box, Relu and input: that input's width times weight, as a share
        width = hi - lo
        for k, sk in sens.items():
            S = sk * width[:, None, :]
            shares[k] = S / np.maximum(S.sum(axis=2, keepdims=True), 1e-300)
    for ln in lines:
        lifts = {} if relax else None
        A, c, m, dep = substitute_rows(nt, A0, z, z, 0, bi, ln, len(nt.layers) - 1, lifts)
        up = _upper(nt, A, c, m, dep, lo, hi, bi)
        R = None
        if relax:
            R = np.zeros_like(A)
            for k, lift in lifts.items():
                if k in shares:      # else no Relu of that layer is unstable in any box
                    R += np.einsum("pw,pwn->pn", lift, np.take(shares[k], bi, axis=0))
        if best is None:
            best, bestA, bestR = up, A, R
        else:
            better = up < best
            best, bestA = np.where(better, up, best), np.where(better[:, None], A, bestA)
            if relax:
                bestR = np.where(better[:, None], R, bestR)
    if relax:
        return best.reshape(B, r), bestA.reshape(B, r, -1), bestR.reshape(B, r, -1)
    return best.reshape(B, r), bestA.reshape(B, r, -1)


def conjunction_rows(C: np.ndarray, d: np.ndarray, max_rows: int = 6):
    """The rows ``C y >= d`` and, for up to ``max_rows`` rows, the sum of every subset
    of two or more of them: all hold where the rows hold, and a sum can be out of
    reach where no single row is (``y0 >= y1`` and ``y0 >= y2`` together exclude
    more than either alone).  Sums are added only where float64 adds them
    exactly (integer coefficients, as in VNN-LIB comparisons of outputs), so
    that a sum is implied by its rows without rounding."""
    from fractions import Fraction
    r = len(d)
    if r < 2 or r > max_rows:
        return C, d
    masks = np.array([[(s >> i) & 1 for i in range(r)] for s in range(1, 2 ** r)
                      if bin(s).count("1") >= 2], dtype=np.float64)
    Cs, ds = masks @ C, masks @ d
    exact = np.all(C == np.round(C)) and np.abs(C).max() < 2.0 ** 40
    for m, v in zip(masks, ds):
        exact = exact and Fraction(v) == sum((Fraction(x) for x in d[m > 0]), Fraction(0))
    if not exact:
        return C, d
    return np.vstack([C, Cs]), np.concatenate([d, ds])


def split_verify(net, rowsets, lo: np.ndarray, hi: np.ndarray, *, check,
                 time_limit: float | Budget | None = None, max_boxes: int = 20_000_000,
                 batch: int = 512, progress=None, rule: str = "relax",
                 live: np.ndarray | None = None, frontier: int | None = None) -> SplitResult:
    """Is there an ``x`` in ``[lo, hi]`` with ``C net(x) >= d`` (``>`` on strict rows)
    for one of ``rowsets``, a list of ``(C, d, c_strict)`` (disjuncts over the same box)?

    ``check(x)`` re-checks a candidate (True: a counterexample).  ``unsat`` is a
    proof (in every box, every row set has a row its upper bound keeps below
    ``d``); ``sat`` comes with a checked point; ``unknown`` when ``time_limit``
    (CPU seconds, or a :class:`~nncc.budget.Budget`) or ``max_boxes`` ran out.

    The rows of a set are a conjunction: their subset sums are added
    (:func:`conjunction_rows`).  All sets are bounded together, so that the
    Relu bounds of a box, the costly part, are computed once; a set ruled out
    in a box stays ruled out in its parts.  ``rule``: how the input to bisect
    is chosen, ``relax`` or ``slope`` (see the module).  Boxes are bounded in batches of
    ``batch``, depth first, so that the open boxes stay few.

    ``live``: which row sets are still open in the box (default all); ``frontier``:
    stop with status ``open`` once that many boxes are open, and give them in
    ``SplitResult.open`` (the parts :mod:`nncc.analysis.parallel_split` hands out)."""
    if rule not in ("relax", "slope"):
        raise ValueError(f"unknown bisection rule {rule!r}: relax or slope")
    budget = Budget.of(time_limit)
    t0 = time.perf_counter()
    nt = DenseNet(net)
    sets = [conjunction_rows(np.asarray(C, np.float64), np.asarray(d, np.float64))
            for C, d, _ in rowsets]
    owner = np.concatenate([np.full(len(d), k) for k, (_, d) in enumerate(sets)])
    C = np.vstack([c for c, _ in sets])
    d = np.concatenate([d for _, d in sets])
    strict = np.concatenate([np.concatenate([np.asarray(cs, bool), np.zeros(len(dd) - len(cs),
                                                                            bool)])
                             for (_, dd), (_, _, cs) in zip(sets, rowsets)])
    K = len(sets)
    member = owner[None, :] == np.arange(K)[:, None]          # (K, rows)
    lo = np.asarray(lo, np.float64)[None]
    hi = np.asarray(hi, np.float64)[None]
    done, max_depth, last_report = 0, 0, t0

    def try_points(pts, live):
        slack = net.forward(pts) @ C.T - d
        ok = np.where(strict, slack > 0, slack >= 0)            # (P, rows)
        # a point hits when every row of one of its box's open sets holds
        hit = np.any(live & np.all(ok[:, None, :] | ~member[None], axis=2), axis=1)
        for i in np.flatnonzero(hit)[:8]:
            if check(pts[i]):
                return pts[i].copy()
        return None

    def result(status, n_open, **kw):
        return SplitResult(status, boxes=done, open_boxes=n_open, max_depth=max_depth,
                           seconds=time.perf_counter() - t0, **kw)

    start = np.ones((1, K), bool) if live is None else np.asarray(live, bool).reshape(1, K)
    stack = [(lo, hi, np.zeros(1, np.int64), start)]
    n_open = 1
    while stack:
        if frontier is not None and n_open >= frontier:
            parts = [(a[i], b[i], lv[i]) for a, b, _, lv in stack for i in range(len(a))]
            return result("open", n_open, open=parts)
        if budget.expired():
            return result("unknown", n_open, reason="time limit")
        if done >= max_boxes:
            return result("unknown", n_open, reason=f"{max_boxes} boxes bounded")
        blo, bhi, bdep, blive = stack.pop()
        if len(blo) > batch:
            stack.append((blo[:-batch], bhi[:-batch], bdep[:-batch], blive[:-batch]))
            blo, bhi, bdep, blive = blo[-batch:], bhi[-batch:], bdep[-batch:], blive[-batch:]
        B = len(blo)
        n_open -= B
        done += B
        rup, A, R = box_bounds(nt, C, blo, bhi, relax=True)
        g = rup - d                                              # (B, rows); < 0: out of reach
        ruled = np.any((g < 0)[:, None, :] & member[None], axis=2)   # (B, K)
        blive = blive & ~ruled
        keep = blive.any(axis=1)
        if not keep.any():
            continue
        blo, bhi, bdep, blive, g, A, R = (blo[keep], bhi[keep], bdep[keep], blive[keep],
                                          g[keep], A[keep], R[keep])
        B = len(blo)
        r = np.arange(B)
        # per open set, its row nearest to out of reach; the split follows their slopes
        gs = np.where(member[None] & blive[:, :, None], g[:, None, :], np.inf)  # (B, K, rows)
        best = np.argmin(gs, axis=2)                              # (B, K)
        w = A[r[:, None], best] * blive[..., None]                # (B, K, n)
        width = bhi - blo
        corner = np.where(w[r, np.argmax(blive, axis=1)] > 0, bhi, blo)
        pts = np.concatenate([0.5 * (blo + bhi), corner])
        x = try_points(pts, np.concatenate([blive, blive]))
        if x is not None:
            return result("sat", n_open, x=x)
        share = np.abs(w) * width[:, None, :]                   # each set's slope x width,
        if rule == "relax":
            share = share + R[r[:, None], best] * blive[..., None]
        score = (share / (share.sum(axis=2, keepdims=True) + 1e-300)).sum(axis=1)  # as shares
        j = np.where(score.max(axis=1) > 0, np.argmax(score, axis=1), np.argmax(width, axis=1))
        if (width[r, j] <= 0).any():
            return result("unknown", n_open, reason="a box shrank to a point without a verdict")
        mid = 0.5 * (blo[r, j] + bhi[r, j])
        lhi, rlo = bhi.copy(), blo.copy()
        lhi[r, j] = mid
        rlo[r, j] = mid
        stack.append((np.concatenate([blo, rlo]), np.concatenate([lhi, bhi]),
                      np.concatenate([bdep + 1, bdep + 1]), np.concatenate([blive, blive])))
        n_open += 2 * B
        max_depth = max(max_depth, int(bdep.max()) + 1)
        now = time.perf_counter()
        if progress is not None and now - last_report > 1.0:
            progress.stage(f"input splitting: {done:,} boxes bounded, {n_open:,} open, "
                           f"depth {max_depth}, {now - t0:.1f} s")
            last_report = now
    return result("unsat", 0)
