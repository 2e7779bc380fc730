"""The best L2 (and L1) strength against the number of training patterns.

The paper's experiment 2 predicts that the best regularisation strength
lambda* falls as 1/N with the number N of training patterns, and measures
log-log slopes of -0.685 (first tests) and -1.31 / -0.79 / -0.11 when the
variance of the initial weights is scaled by 0.1 / 1 / 10, with similar slopes
for L1 and L2. This script repeats it:

* data: two spherical Gaussian clouds (``nncc.problem.datasets_generated``)
  in D = 10 dimensions, centres R = 13.86 apart, standard deviation S = 8
  (Bayes error 19.3%), raw features (not rescaled); N training patterns
  (N/2 per class) on a log grid from 100 to 3,300; a validation set of
  20,000 patterns drawn with another seed from the same distribution;
* network: 10-15-1, ReLU hidden units, one sigmoid output, cross-entropy;
* penalty: ``loss = mean cross-entropy + lambda * sum W^2`` (L2) or
  ``+ lambda * sum |W|`` (L1), over the weights of both layers, not the
  biases (scikit-learn's ``alpha`` is ``2 * N * lambda`` in this convention);
  lambda on the paper's grid 1, 2, 4, 8 x 10^k from 1e-5 to 0.02, plus
  lambda = 0 as a reference and, beyond the paper's grid, 0.04, 0.08, ...,
  2.56 (doubling), because on these data the paper's grid stops short of the
  optimum;
* initialisation: weights normal with variance ``scale / K`` (K = fan-in),
  scale 0.1, 1 or 10, biases 0; one draw per data seed, shared by every
  lambda and scale (the scales multiply the same draw), so that the
  lambda curves of one seed differ only by lambda;
* training: full-batch Adam (scikit-learn's update: beta1 0.9, beta2 0.999,
  eps 1e-8), learning rate 0.03 with a cosine decay to 0 over a fixed number
  of steps (600 by default), float32. Every network of one N (all lambdas,
  settings and seeds: 4 x 22 x 4 = 352 by default) is trained at once: the
  hidden units of all networks of a data seed form one wide layer, so one
  matrix product per seed does the first layer of all of them. Training has
  no mini-batches and no shuffling: a run repeats exactly with the same BLAS
  thread count; another count sums in another order, which moves float32
  losses by about 1e-6 and can move a near-tied lambda* by one grid step
  (slopes changed by up to 0.04 between a 1-thread and a 2-thread run).
  L1 uses the subgradient ``sign(W)`` (weights get small, not exactly 0).
  ``--optimiser gd`` trains as the paper did instead: plain full-batch
  gradient descent at a constant learning rate of 0.1 for 500 epochs, N from
  8, L2 as ``1/2 lambda sum W^2`` (files ``lambda_vs_n_gd.*``); ``--optimiser
  both`` runs the two and prints their slopes side by side;
* lambda*: for each setting, N and seed, the lambda with the smallest
  validation error (ties: the smallest such lambda); also the argmin of the
  validation-error curve averaged over seeds ("mean"), and the same two with
  the validation cross-entropy instead of the error; each on the paper's grid
  and on the grid extended to 2.56 (lambda = 0 is never chosen);
* slope: least squares of log10 lambda* on log10 N over all (N, seed)
  points, with its standard error; and the slope of the "mean" lambda*.

The trainer is checked against scikit-learn's MLPClassifier on one L2 cell
(N = 200, lambda 0.001 and 0.08; same data, same initial weights via
``warm_start``, ``alpha = 2 N lambda``): once with the same optimiser
(full-batch Adam, constant learning rate, float64: the weights must agree to
rounding) and once against L-BFGS run to convergence (validation errors and
training objectives compared). The figures are printed at the end.

Usage::

    python3 examples/lambda_vs_n.py            # default: 4 seeds, 6 N, 600 steps (about 3 CPU minutes)
    python3 examples/lambda_vs_n.py --quick    # a few seconds (for the tests)
    python3 examples/lambda_vs_n.py --full     # 10 seeds, 9 N, 1500 steps, L1 at all scales (~30 CPU min)
    python3 examples/lambda_vs_n.py --seeds 6 --out /tmp/x

Writes ``lambda_vs_n.csv`` (every trained network: setting, reg, init scale,
N, seed, lambda, training error, validation error, validation cross-entropy)
and ``lambda_vs_n.png`` (lambda* against N by validation error and by
validation cross-entropy on the extended grid, with the fitted lines; the
validation curves of L2 init x1) into ``--out`` (default ``docs/experiments/``; a
``--quick`` run writes to ``lambda_vs_n_quick/`` in the working folder instead).
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np

from nncc.problem.datasets_generated import gaussian_clouds, gaussian_clouds_bayes_error

DIM, DISTANCE, STD, HIDDEN = 10, 13.86, 8.0, 15
SEED_GRID = tuple(sorted([m * 10.0 ** k for k in (-5, -4, -3) for m in (1, 2, 4, 8)] + [0.01, 0.02]))
EXTENSION = (0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56)
VAL_SEED = 999_999
# The paper's measured slopes (log lambda* against log N).
SEED_SLOPES = {("l2", 1.0): -0.79, ("l2", 0.1): -1.31, ("l2", 10.0): -0.11}
SEED_FIRST_TEST = -0.685

# The optimisers: this script's default, and the paper's (plain gradient descent at a
# constant learning rate of 0.1 for 500 epochs, N from 8, L2 as 1/2 lambda sum W^2).
OPTIMISERS = {
    "adam": {"text": "full-batch Adam, lr 0.03 cosine", "lr": 0.03, "schedule": "cosine",
             "l2_factor": 1.0, "steps": None, "ns": None, "suffix": "",
             "l2": "lambda sum W^2"},
    "gd": {"text": "full-batch gradient descent, lr 0.1 constant (the paper's)", "lr": 0.1,
           "schedule": "constant", "l2_factor": 0.5, "steps": 500, "suffix": "_gd",
           "ns": {"quick": (8, 16, 32), "default": (8, 16, 32, 64, 128, 256, 512, 1024, 2048),
                  "full": (8, 13, 20, 32, 50, 80, 128, 200, 320, 512, 810, 1310, 2010, 3300)},
           "l2": "1/2 lambda sum W^2"},
}

PRESETS = {
    "quick": {"seeds": 2, "ns": (100, 200), "steps": 80, "val": 2000,
              "settings": (("l2", 1.0), ("l1", 1.0)), "extension": True},
    "default": {"seeds": 4, "ns": (100, 200, 400, 810, 1640, 3300), "steps": 600, "val": 20000,
                "settings": (("l2", 0.1), ("l2", 1.0), ("l2", 10.0), ("l1", 1.0)),
                "extension": True},
    "full": {"seeds": 10, "ns": (100, 154, 236, 362, 556, 854, 1310, 2010, 3300), "steps": 1500,
             "val": 20000, "settings": (("l2", 0.1), ("l2", 1.0), ("l2", 10.0),
                                        ("l1", 0.1), ("l1", 1.0), ("l1", 10.0)),
             "extension": True},
}


# --------------------------------------------------------------------------- trainer
def init_weights(groups: int, nets: int, scales, dim: int = DIM, hidden: int = HIDDEN,
                 seed: int = 0, dtype=np.float32):
    """Initial ``(W1, b1, w2, b2)`` for ``groups`` x ``nets`` networks.

    ``W1`` is ``(groups, dim, nets, hidden)``, ``b1`` and ``w2`` ``(groups, nets,
    hidden)``, ``b2`` ``(groups, nets)``. Weights are normal with variance
    ``scale / fan_in``; the normal draw is the same for every network of a group
    (only ``scales[net]`` differs); biases are 0.
    """
    scales = np.asarray(scales, dtype=np.float64).reshape(nets)
    W1 = np.empty((groups, dim, nets, hidden))
    w2 = np.empty((groups, nets, hidden))
    for g in range(groups):
        rng = np.random.default_rng([seed, g, 7])
        base1 = rng.standard_normal((dim, hidden))
        base2 = rng.standard_normal(hidden)
        W1[g] = base1[:, None, :] * np.sqrt(scales / dim)[None, :, None]
        w2[g] = base2[None, :] * np.sqrt(scales / hidden)[:, None]
    return (W1.astype(dtype), np.zeros((groups, nets, hidden), dtype), w2.astype(dtype),
            np.zeros((groups, nets), dtype))


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward(params, X):
    """Logits ``(groups, n, nets)``; ``X`` is ``(groups, n, dim)`` or ``(n, dim)`` (shared)."""
    W1, b1, w2, b2 = params
    G, D, L, H = W1.shape
    Z = np.matmul(X, W1.reshape(G, D, L * H))
    Z += b1.reshape(G, 1, L * H)
    np.maximum(Z, 0, out=Z)
    A = Z.reshape(G, Z.shape[1], L, H)
    return np.einsum("gnlh,glh->gnl", A, w2) + b2[:, None, :]


def train(X, y, lam2, lam1, params, steps: int, lr: float = 0.03, schedule: str = "cosine",
          beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, optimiser: str = "adam",
          l2_factor: float = 1.0):
    """Full-batch training on ``mean CE + l2_factor * lam2 * sum W^2 + lam1 * sum |W|``
    for many networks.

    ``X`` ``(groups, n, dim)``, ``y`` ``(groups, n)`` in {0, 1}; ``lam2`` and
    ``lam1`` ``(nets,)``; ``params`` from :func:`init_weights` (modified in place and
    returned). ``optimiser`` ``"adam"``: scikit-learn's Adam update; ``"gd"``: plain
    gradient descent (the paper's). ``schedule`` is ``"cosine"`` (learning rate ``lr``
    decayed to 0 over ``steps``) or ``"constant"``. ``l2_factor`` 0.5 is the paper's
    ``1/2 lambda sum W^2``.
    """
    W1_in, b1_in, w2, b2 = params
    dtype = W1_in.dtype
    G, D, L, H = W1_in.shape
    N = X.shape[1]
    # the first layer's biases are a last input row of ones: one matrix product does both
    W1 = np.concatenate([W1_in, b1_in[:, None]], axis=1)          # (G, D + 1, L, H)
    X1 = np.concatenate([np.asarray(X, dtype=dtype), np.ones((G, N, 1), dtype)], axis=2)
    X1t = np.ascontiguousarray(X1.transpose(0, 2, 1))
    yy = np.asarray(y, dtype=dtype)[:, :, None]
    l2 = np.asarray(lam2, dtype=dtype)
    l1 = np.asarray(lam1, dtype=dtype)
    use_l1 = bool(np.any(l1 != 0))
    c2 = dtype.type(2 * l2_factor)
    pen2 = (c2 * l2)[None, None, :, None] * np.concatenate([np.ones((1, D, 1, 1), dtype),
                                                        np.zeros((1, 1, 1, 1), dtype)], axis=1)
    pen1 = l1[None, None, :, None] * np.concatenate([np.ones((1, D, 1, 1), dtype),
                                                     np.zeros((1, 1, 1, 1), dtype)], axis=1)
    ours = [W1, w2, b2]
    ms = [np.zeros_like(p) for p in ours]
    vs = [np.zeros_like(p) for p in ours]
    K = L * H
    # work arrays reused at every step (allocating them anew costs as much as the arithmetic)
    A = np.empty((G, N, K), dtype)
    A4 = A.reshape(G, N, L, H)
    dZ = np.empty((G, N, L, H), dtype)
    mask = np.empty((G, N, L, H), bool)
    gW1 = np.empty((G, D + 1, K), dtype)
    for t in range(1, steps + 1):
        np.matmul(X1, W1.reshape(G, D + 1, K), out=A)                 # (G, N, L*H)
        np.maximum(A, 0, out=A)
        out = np.einsum("gnlh,glh->gnl", A4, w2)
        out += b2[:, None, :]
        d = (_sigmoid(out) - yy) / dtype.type(N)
        gw2 = np.einsum("gnl,gnlh->glh", d, A4)
        gb2 = d.sum(axis=1)
        np.multiply(d[..., None], w2[:, None], out=dZ)
        np.greater(A4, 0, out=mask)
        np.multiply(dZ, mask, out=dZ)
        np.matmul(X1t, dZ.reshape(G, N, K), out=gW1)
        gW = gW1.reshape(G, D + 1, L, H)
        gW += pen2 * W1
        gw2 += (c2 * l2)[None, :, None] * w2
        if use_l1:
            gW += pen1 * np.sign(W1)
            gw2 += l1[None, :, None] * np.sign(w2)
        rate = lr if schedule == "constant" else 0.5 * lr * (1.0 + math.cos(math.pi * (t - 1) / steps))
        if optimiser == "gd":
            for p, g in zip(ours, (gW, gw2, gb2)):
                p -= dtype.type(rate) * g
            continue
        rate_t = rate * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
        for p, g, m, v in zip(ours, (gW, gw2, gb2), ms, vs):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            p -= dtype.type(rate_t) * m / (np.sqrt(v) + dtype.type(eps))
    W1_in[...] = W1[:, :D]
    b1_in[...] = W1[:, D]
    return params


def evaluate(params, X, y, chunk: int = 5000):
    """``(error, cross_entropy)``, each ``(groups, nets)``; ``X`` shared ``(n, dim)`` or grouped."""
    G, L = params[3].shape
    err = np.zeros((G, L))
    ce = np.zeros((G, L))
    n = X.shape[-2]
    for a in range(0, n, chunk):
        Xc = X[..., a:a + chunk, :].astype(params[0].dtype)
        yc = y[..., a:a + chunk]
        out = forward(params, Xc).astype(np.float64)
        yb = (yc[:, :, None] if yc.ndim == 2 else yc[None, :, None]).astype(np.float64)
        err += ((out > 0) != (yb > 0.5)).sum(axis=1)
        ce += (np.logaddexp(0.0, out) - yb * out).sum(axis=1)
    return err / n, ce / n


# --------------------------------------------------------------------------- checks
def sklearn_check(n: int = 200, lam: float = 1e-3, seed: int = 0, epochs: int = 300,
                  lr: float = 0.01, val: int = 10000):
    """Compare the trainer with scikit-learn's MLPClassifier on one L2 cell.

    Returns a dict: ``adam_weight_diff`` (largest absolute difference of the
    weights after the same full-batch Adam), ``adam_val_diff`` (difference of the
    validation errors), ``lbfgs_val_diff`` (our cosine-Adam network against
    scikit-learn's L-BFGS run to convergence from the same start) and the errors.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = gaussian_clouds(DIM, n // 2, DISTANCE, STD, seed=train_seed(seed, n))
    Xv, yv = gaussian_clouds(DIM, val // 2, DISTANCE, STD, seed=VAL_SEED)
    start = init_weights(1, 1, [1.0], seed=seed, dtype=np.float64)

    def to_sklearn(model, p):
        model.coefs_ = [p[0][0, :, 0, :].copy(), p[2][0, 0, :, None].copy()]
        model.intercepts_ = [p[1][0, 0].copy(), p[3][0, :1].copy()]

    def make(solver, **kw):
        m = MLPClassifier((HIDDEN,), activation="relu", solver=solver, alpha=2 * n * lam,
                          warm_start=True, random_state=0, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m.set_params(max_iter=1).fit(X, y)          # sets classes_ and the shapes
            m.set_params(max_iter=kw.get("max_iter", epochs))
            to_sklearn(m, start)
            m.fit(X, y)
        return m

    sk_adam = make("adam", batch_size=n, shuffle=False, learning_rate_init=lr, max_iter=epochs,
                   tol=0.0, n_iter_no_change=epochs + 1)
    ours = train(X[None], y[None], [lam], [0.0], [a.copy() for a in start], epochs, lr, "constant")
    diff = max(np.abs(sk_adam.coefs_[0] - ours[0][0, :, 0, :]).max(),
               np.abs(sk_adam.coefs_[1][:, 0] - ours[2][0, 0]).max())
    e_ours = float(evaluate(ours, Xv, yv)[0][0, 0])
    e_sk = 1.0 - sk_adam.score(Xv, yv)
    sk_lbfgs = make("lbfgs", max_iter=20000, max_fun=200000, tol=1e-10)
    ours_cos = train(X[None], y[None], [lam], [0.0], [a.copy() for a in start], 600, 0.03, "cosine")
    e_cos = float(evaluate(ours_cos, Xv, yv)[0][0, 0])
    e_lbfgs = 1.0 - sk_lbfgs.score(Xv, yv)

    def objective(p):
        _, ce = evaluate(p, X, y)
        return float(ce[0, 0] + lam * ((p[0] ** 2).sum() + (p[2] ** 2).sum()))
    lb = sk_lbfgs
    lb_params = (lb.coefs_[0][None, :, None, :], lb.intercepts_[0][None, None],
                 lb.coefs_[1][None, None, :, 0], lb.intercepts_[1][None])
    return {"n": n, "lam": lam, "alpha": 2 * n * lam, "adam_weight_diff": float(diff),
            "adam_val_ours": e_ours, "adam_val_sklearn": e_sk, "adam_val_diff": abs(e_ours - e_sk),
            "cosine_val_ours": e_cos, "lbfgs_val_sklearn": e_lbfgs,
            "lbfgs_val_diff": abs(e_cos - e_lbfgs),
            "cosine_objective": objective(ours_cos), "lbfgs_objective": objective(lb_params)}


# --------------------------------------------------------------------------- analysis
def fit_slope(x, y):
    """Least squares ``y = a + b x``: ``(b, se_b, a)``; ``se_b`` is nan with 2 points."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    A = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    dof = len(x) - 2
    sxx = ((x - x.mean()) ** 2).sum()
    se = math.sqrt((resid @ resid) / dof / sxx) if dof > 0 and sxx > 0 else float("nan")
    return float(coef[1]), se, float(coef[0])


def pick(lams, values):
    """The lambda of the smallest value (first, i.e. smallest lambda, on ties)."""
    return float(lams[int(np.argmin(values))])


def train_seed(seed: int, n: int) -> int:
    return 100_003 * (seed + 1) + n


# --------------------------------------------------------------------------- output
def atomic_write(path: str, write) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def setting_name(reg, scale):
    return f"{reg.upper()} init x{scale:g}"


def run(preset: str, seeds: int | None, out: str, steps: int | None = None, check: bool = True,
        optimiser: str = "adam"):
    cfg = dict(PRESETS[preset])
    opt = OPTIMISERS[optimiser]
    if opt["ns"] is not None:
        cfg["ns"] = opt["ns"][preset]
    if opt["steps"] is not None:
        cfg["steps"] = opt["steps"] if preset != "quick" else cfg["steps"]
    if seeds is not None:
        cfg["seeds"] = seeds
    if steps is not None:
        cfg["steps"] = steps
    grid = np.array(SEED_GRID)
    lams = np.array((0.0,) + SEED_GRID + (EXTENSION if cfg["extension"] else ()))
    settings = cfg["settings"]
    nets = [(reg, scale, lam) for reg, scale in settings for lam in lams]
    lam2 = np.array([lam if reg == "l2" else 0.0 for reg, _, lam in nets])
    lam1 = np.array([lam if reg == "l1" else 0.0 for reg, _, lam in nets])
    scales = np.array([scale for _, scale, _ in nets])
    S, ns = cfg["seeds"], cfg["ns"]
    bayes = gaussian_clouds_bayes_error(DISTANCE, STD)
    print(f"Gaussian clouds D={DIM}, R={DISTANCE}, S={STD:g} (Bayes error {bayes:.3f}); "
          f"{DIM}-{HIDDEN}-1 ReLU, sigmoid + cross-entropy; {opt['text']}, "
          f"{cfg['steps']} steps; L2 {opt['l2']}; {S} seeds; N = {list(ns)}; "
          f"validation {cfg['val']} patterns")
    print(f"{len(nets)} networks per seed and N ({len(settings)} settings x {len(lams)} lambdas)")
    Xv, yv = gaussian_clouds(DIM, cfg["val"] // 2, DISTANCE, STD, seed=VAL_SEED)
    t_start = time.time()
    rows = []
    val_err = np.zeros((len(ns), S, len(nets)))
    val_ce = np.zeros_like(val_err)
    for i, n in enumerate(ns):
        t0 = time.time()
        data = [gaussian_clouds(DIM, n // 2, DISTANCE, STD, seed=train_seed(s, n)) for s in range(S)]
        X = np.stack([d[0] for d in data])
        y = np.stack([d[1] for d in data])
        params = init_weights(S, len(nets), scales, seed=0)
        train(X, y, lam2, lam1, params, cfg["steps"], opt["lr"], opt["schedule"],
              optimiser=optimiser, l2_factor=opt["l2_factor"])
        diverged = ~np.isfinite(params[3])
        if diverged.any():
            print(f"  N = {n}: {int(diverged.sum())} of {diverged.size} networks diverged "
                  "(non-finite weights: they predict class 0, a validation error near 0.5)")
        tr_err, _ = evaluate(params, X, y)
        v_err, v_ce = evaluate(params, Xv, yv)
        val_err[i], val_ce[i] = v_err, v_ce
        for s in range(S):
            for j, (reg, scale, lam) in enumerate(nets):
                rows.append((setting_name(reg, scale), reg, scale, n, s, lam, tr_err[s, j],
                             v_err[s, j], v_ce[s, j]))
        print(f"  N = {n:5d}: {time.time() - t0:6.1f} s", flush=True)
    train_seconds = time.time() - t_start

    # lambda* per setting
    in_grid = np.isin(lams, grid)
    in_ext = lams > 0
    results = {}
    for reg, scale in settings:
        cols = np.array([k for k, (r, sc, _) in enumerate(nets) if r == reg and sc == scale])
        res = {}
        for name, values, mask in (("err", val_err, in_grid), ("ce", val_ce, in_grid),
                                   ("err_ext", val_err, in_ext), ("ce_ext", val_ce, in_ext)):
            c = cols[mask]
            L = lams[mask]
            per_seed = np.array([[pick(L, values[i, s, c]) for s in range(S)] for i in range(len(ns))])
            mean_curve = np.array([pick(L, values[i, :, c].mean(axis=1)) for i in range(len(ns))])
            xs = np.repeat(np.log10(ns), S)
            slope = fit_slope(xs, np.log10(per_seed).ravel())
            slope_mean = fit_slope(np.log10(ns), np.log10(mean_curve))
            at_top = float(np.mean(per_seed == L.max()))
            res[name] = {"per_seed": per_seed, "mean_curve": mean_curve, "slope": slope,
                         "slope_mean": slope_mean, "at_top": at_top, "lams": L}
        res["cols"] = cols
        results[(reg, scale)] = res

    # tables
    for (reg, scale), res in results.items():
        for key, what in (("err", "validation error, paper's grid 1e-5..0.02"),
                          ("ce_ext", f"validation cross-entropy, grid 1e-5..{lams.max():g}")):
            if key == "ce_ext" and not cfg["extension"]:
                continue
            r = res[key]
            values = val_err if key.startswith("err") else val_ce
            print(f"\n{setting_name(reg, scale)}: lambda* by {what}")
            print("      N | " + " ".join(f"seed {s:<6d}" for s in range(S))
                  + " | geo-mean | mean curve | val err at it | lambda=0 val err")
            for i, n in enumerate(ns):
                c = res["cols"]
                at = val_err[i][:, c][:, lams == r["mean_curve"][i]].mean()
                zero = val_err[i][:, c[lams == 0]].mean()
                gm = 10 ** np.log10(r["per_seed"][i]).mean()
                print(f"  {n:5d} | " + " ".join(f"{v:<11.2g}" for v in r["per_seed"][i])
                      + f" | {gm:8.3g} | {r['mean_curve'][i]:10.3g} | {at:12.4f} | {zero:.4f}")
            print(f"  share of per-seed lambda* at the grid's top ({r['lams'].max():g}): {r['at_top']:.0%}")

    def fmt(s):
        return f"{(round(s[0], 2) or 0.0):+.2f} +- {s[1]:.2f}"

    print("\nSlopes of log10 lambda* against log10 N (least squares, +- standard error;"
          " 'per seed': all (N, seed) points, 'mean': argmin of the seed-averaged curve)")
    keys = [("err", "err, seed grid"), ("ce", "CE, seed grid")]
    if cfg["extension"]:
        keys += [("err_ext", f"err, grid to {lams.max():g}"), ("ce_ext", f"CE, grid to {lams.max():g}")]
    print(" | ".join(["setting"] + [f"{t}: per seed | mean" for _, t in keys] + ["paper's slope"]))
    table = []
    for (reg, scale), res in results.items():
        seed_slope = SEED_SLOPES.get((reg, scale))
        seed_txt = f"{seed_slope:+.2f}" if seed_slope is not None else "similar to L2"
        if (reg, scale) == ("l2", 1.0):
            seed_txt += f" ({SEED_FIRST_TEST:+.3f} first tests)"
        line = [setting_name(reg, scale)]
        for k, _ in keys:
            line += [fmt(res[k]["slope"]), fmt(res[k]["slope_mean"])]
        line.append(seed_txt)
        table.append(tuple(line))
        print(" | ".join(line))

    chk = []
    if check:
        print("\nscikit-learn MLPClassifier check (N = 200, seed 0, L2, init x1, same start, "
              "alpha = 2 N lambda, validation as above)")
        for lam in (1e-3, 0.08):
            c = sklearn_check(lam=lam, val=cfg["val"])
            chk.append(c)
            print(f"  lambda {lam:g} (alpha {c['alpha']:g}): same full-batch Adam (constant lr 0.01, "
                  f"300 epochs, float64): largest weight difference {c['adam_weight_diff']:.1e}, "
                  f"validation error {c['adam_val_ours']:.4f} vs {c['adam_val_sklearn']:.4f}; "
                  f"our default optimiser (cosine Adam, 600 steps) vs L-BFGS to convergence: "
                  f"validation error {c['cosine_val_ours']:.4f} vs {c['lbfgs_val_sklearn']:.4f} "
                  f"(difference {c['lbfgs_val_diff']:.4f}), training objective "
                  f"{c['cosine_objective']:.4f} vs {c['lbfgs_objective']:.4f}")

    csv_path = os.path.join(out, f"lambda_vs_n{opt['suffix']}.csv")
    png_path = os.path.join(out, f"lambda_vs_n{opt['suffix']}.png")

    def write_csv(path):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["setting", "reg", "init_scale", "N", "seed", "lambda", "train_err",
                        "val_err", "val_ce"])
            for r in rows:
                w.writerow([r[0], r[1], f"{r[2]:g}", r[3], r[4], f"{r[5]:g}", f"{r[6]:.6f}",
                            f"{r[7]:.6f}", f"{r[8]:.6f}"])
    atomic_write(csv_path, write_csv)
    atomic_write(png_path, lambda p: plot(p, ns, S, lams, grid, val_err, val_ce, results, settings, bayes,
                                          cfg["extension"]))
    print(f"\nwrote {csv_path} ({len(rows)} rows) and {png_path}; training {train_seconds:.0f} s, "
          f"total {time.time() - t_start:.0f} s")
    return {"results": results, "table": table, "check": chk, "rows": rows, "ns": ns, "lams": lams,
            "optimiser": optimiser}


def plot(path, ns, S, lams, grid, val_err, val_ce, results, settings, bayes, extended):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    lx = np.log10(ns)
    sfx = "_ext" if extended else ""
    top = lams.max()
    for ax, key, title in ((axes[0, 0], "err" + sfx, "lambda* by validation error"),
                           (axes[0, 1], "ce" + sfx, "lambda* by validation cross-entropy")):
        for k, (reg, scale) in enumerate(settings):
            r = results[(reg, scale)][key]
            c = colours[k % len(colours)]
            jitter = 1 + 0.04 * (k - len(settings) / 2)
            for s in range(S):
                ax.scatter(np.array(ns) * jitter, r["per_seed"][:, s], s=8, color=c, alpha=0.35)
            gm = 10 ** np.log10(r["per_seed"]).mean(axis=1)
            b, se, a = r["slope"]
            ax.plot(np.array(ns) * jitter, gm, "o", color=c, ms=5)
            ax.plot(ns, 10 ** (a + b * lx), "-", color=c,
                    label=f"{setting_name(reg, scale)}: slope {b:+.2f} +- {se:.2f}")
        # the paper's prediction, lambda* ~ 1/N, through the first point of the first setting
        first = 10 ** np.log10(results[settings[0]][key]["per_seed"][0]).mean()
        ax.plot(ns, first * ns[0] / np.array(ns), "--", color="grey", lw=1, label="slope -1 (the paper's 1/N)")
        ax.axhline(grid.max(), color="grey", lw=0.8, ls=":")
        ax.text(ns[0], grid.max() * 1.08, "top of the paper's grid", fontsize=7, color="grey")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (training patterns)")
        ax.set_ylabel("lambda*")
        ax.set_title(f"{title} (grid 1e-5..{top:g})")
        ax.legend(fontsize=7)
    main = ("l2", 1.0) if ("l2", 1.0) in results else settings[0]
    cols = results[main]["cols"]
    pos = lams > 0
    cmap = plt.get_cmap("viridis")
    for ax, values, label in ((axes[1, 0], val_err, "validation error"),
                              (axes[1, 1], val_ce, "validation cross-entropy")):
        for i, n in enumerate(ns):
            curve = values[i][:, cols].mean(axis=0)
            ax.plot(lams[pos], curve[pos], "-o", ms=3, color=cmap(i / max(1, len(ns) - 1)),
                    label=f"N = {n}")
        if values is val_err:
            ax.axhline(bayes, color="k", lw=0.8, ls="--", label=f"Bayes error {bayes:.3f}")
        else:
            ax.set_yscale("log")
        ax.axvline(grid.max(), color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("lambda")
        ax.set_ylabel(f"{label} (mean over {S} seeds)")
        ax.set_title(f"{setting_name(*main)}: {label} against lambda")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="tiny run (a few seconds)")
    g.add_argument("--full", action="store_true", help="10 seeds, 9 N, 1500 steps, L1 at all scales")
    ap.add_argument("--seeds", type=int, default=None, help="number of data seeds")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps per network")
    ap.add_argument("--no-check", action="store_true", help="skip the scikit-learn comparison")
    ap.add_argument("--optimiser", choices=["adam", "gd", "both"], default="adam",
                    help="adam (default): full-batch Adam, lr 0.03 cosine; gd: the paper's "
                    "plain gradient descent, lr 0.1, 500 epochs, N from 8, L2 as 1/2 lambda "
                    "sum W^2 (writes lambda_vs_n_gd.csv / .png); both: one after the other, "
                    "and the slopes side by side")
    ap.add_argument("--out", default=None,
                    help="folder for the CSV and the PNG (default docs/experiments/; with "
                    "--quick, lambda_vs_n_quick/ in the working folder, so that a quick run "
                    "never replaces the committed results)")
    a = ap.parse_args(argv)
    preset = "quick" if a.quick else "full" if a.full else "default"
    out = a.out or (os.path.join(os.getcwd(), "lambda_vs_n_quick") if a.quick else
                    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                 "experiments"))
    done = [run(preset, a.seeds, os.path.normpath(out), a.steps, check=not a.no_check and o == "adam",
                optimiser=o) for o in (("adam", "gd") if a.optimiser == "both" else (a.optimiser,))]
    if len(done) == 2:
        print("\nSlopes by validation error (per seed, paper's grid | grid extended), both optimisers:")
        print("setting | Adam, cosine | gradient descent (the paper's) | paper's slope")
        for key in done[0]["results"]:
            cells = []
            for d in done:
                r = d["results"][key]
                cells.append(" | ".join(f"{r[k]['slope'][0]:+.2f} +- {r[k]['slope'][1]:.2f}"
                                        for k in ("err", "err_ext")))
            paper = SEED_SLOPES.get(key)
            print(f"{setting_name(*key)} | {cells[0]} | {cells[1]} | "
                  f"{'' if paper is None else f'{paper:+.2f}'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
