"""Binarised networks on the Breast Cancer Wisconsin data: BDNN, BDNN0, local search and an MLP.

For each hidden width d1 and each of several seeded 80/20 shuffles, trains

* BDNN: step activations, thresholds learned, the MILP (HiGHS) within a time limit;
* BDNN0: the same with thresholds fixed at 0;
* local search: ``method local-search`` (thresholds learned) within the same budget;
* BDNN0 local search: the local search with thresholds fixed at 0;
* MLP: scikit-learn's MLPClassifier with one hidden layer of d1 ReLU units;

and reports the average, largest and smallest test accuracy, the training
accuracy, the final gap of the MILP and the seconds, as a table on standard
output, a CSV and a PNG. Every nncc answer is re-checked by numpy and
onnxruntime before it is counted.

Data: by default the *original* data (699 x 9, rows with a missing value
dropped: 683), features divided by 10; ``--data diagnostic`` uses
scikit-learn's diagnostic version (569 x 30), features scaled to [0, 1] by the
training part's minimum and maximum; ``--data random`` the paper's random data
(200 points in 100 dimensions, two overlapping uniform boxes).

The defaults are small (d1 = 5, 3 shuffles, 150 rows, 10 s per run) so that the
script finishes in a few minutes; ``--full`` runs the paper's experiment
(d1 = 25 and 50, 10 shuffles, all rows, 60 s per run: about 2 hours on 2 cores).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import numpy as np

from nncc.api import solve
from nncc.problem.dataset import Dataset
from nncc.problem.datasets_binarised import breast_cancer_original, split_dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery

METHODS = ("BDNN", "BDNN0", "local search", "BDNN0 local search", "MLP")


def load(data: str, rows: int | None, seed: int = 0):
    """``(X, y, description)``; a seeded subsample of ``rows`` rows when given."""
    if data == "original":
        X, y = breast_cancer_original("drop")
        what = "original Wisconsin data (683 of 699 rows: missing values dropped), features / 10"
        X = X / 10.0
    elif data == "random":
        from nncc.problem.datasets_binarised import overlapping_uniform
        X, y = overlapping_uniform()
        what = "the paper's random data (200 x 100, two overlapping uniform boxes)"
    else:
        from sklearn.datasets import load_breast_cancer
        d = load_breast_cancer()
        X, y = d.data, d.target
        what = "diagnostic Wisconsin data (569 x 30), features min-max scaled on the training part"
    if rows is not None and rows < len(y):
        keep = np.sort(np.random.default_rng(seed).choice(len(y), rows, replace=False))
        X, y = X[keep], y[keep]
        what += f", {rows} rows sampled (seed {seed})"
    return X, np.asarray(y, dtype=np.int64), what


def network(d0: int, d1: int, learned: bool) -> Network:
    box = ParamDomain("real", -1.0, 1.0)
    return Network("bdnn", "x", d0, [
        DenseLayer("h", d1, "step", box, box, levels=(0.0, 1.0),
                   threshold="learned" if learned else 0.0),
        DenseLayer("y", 2, "identity", box, box)])


def accuracy(net: Network, params, X, y) -> float:
    return float(np.mean(np.argmax(net.forward(params, X), axis=1) == y))


def run_nncc(method: str, d1: int, train: Dataset, test: Dataset, limit: float, seed: int):
    learned = not method.startswith("BDNN0")
    local = method.endswith("local search")
    net = network(train.n_features, d1, learned)
    q = TrainQuery(f"{method} d1={d1}", net, train, objective="errors",
                   method="local-search" if local else "milp", seed=seed)
    t0 = time.perf_counter()
    ans = solve(q, solver="highs", time_limit=limit)
    seconds = time.perf_counter() - t0
    if ans.arrays is None or ans.check is None or not ans.check.ok:
        return {"test": np.nan, "train": np.nan, "gap": np.nan, "seconds": seconds, "ok": False}
    gap = ans.check.gap if not local else np.nan
    return {"test": accuracy(net, ans.params, test.X, test.y), "train": ans.check.accuracy,
            "gap": np.nan if gap is None else gap, "seconds": seconds, "ok": True}


def run_mlp(d1: int, train: Dataset, test: Dataset, seed: int):
    from sklearn.neural_network import MLPClassifier
    t0 = time.perf_counter()
    mlp = MLPClassifier(hidden_layer_sizes=(d1,), max_iter=2000, random_state=seed)
    mlp.fit(train.X, train.y)
    return {"test": float(mlp.score(test.X, test.y)), "train": float(mlp.score(train.X, train.y)),
            "gap": np.nan, "seconds": time.perf_counter() - t0, "ok": True}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--full", action="store_true", help="the paper's sizes: d1 = 25, 50; 10 shuffles; "
                   "all rows; 60 s per run")
    p.add_argument("--smoke", action="store_true", help="a seconds-long run (for the tests)")
    p.add_argument("--data", choices=["original", "diagnostic", "random"], default="original")
    p.add_argument("--widths", type=int, nargs="+")
    p.add_argument("--shuffles", type=int)
    p.add_argument("--rows", type=int, help="a sample of the rows (default: small runs 150, --full all)")
    p.add_argument("--time-limit", type=float, help="seconds per nncc run")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="which columns to run (e.g. 'local search' MLP to skip the full MILPs)")
    p.add_argument("--out", default=".", help="folder for bdnn_breast_cancer.csv / .png")
    a = p.parse_args(argv)
    if a.full:
        widths, shuffles, rows, limit = [25, 50], 10, None, 60.0
    elif a.smoke:
        widths, shuffles, rows, limit = [2], 1, 40, 2.0
    else:
        widths, shuffles, rows, limit = [5], 3, 150, 10.0
    widths = a.widths or widths
    shuffles = a.shuffles or shuffles
    rows = a.rows if a.rows is not None else rows
    limit = a.time_limit or limit
    X, y, what = load(a.data, rows)
    print(f"data: {what}; {len(y)} rows; 80/20 shuffles: {shuffles}; {limit:g} s per run (highs)",
          file=sys.stderr)
    methods = [m for m in METHODS if m in a.methods]
    results = {(m, d1): [] for d1 in widths for m in methods}
    for s in range(shuffles):
        full = Dataset("cancer", X, y, [0, 1], what)
        train, test = split_dataset(full, 80, 20, s)
        if a.data == "diagnostic":
            lo, hi = train.X.min(axis=0), train.X.max(axis=0)
            span = np.where(hi > lo, hi - lo, 1.0)
            train.X = (train.X - lo) / span
            test.X = np.clip((test.X - lo) / span, 0.0, 1.0)
        for d1 in widths:
            for m in methods:
                r = run_mlp(d1, train, test, s) if m == "MLP" else run_nncc(m, d1, train, test, limit, s)
                results[(m, d1)].append(r)
                print(f"shuffle {s} d1={d1} {m:<18} test {r['test']:.3f} train {r['train']:.3f} "
                      f"gap {r['gap']:.3f} {r['seconds']:.1f} s", file=sys.stderr)
    table = []
    for (m, d1), rs in results.items():
        t = np.array([r["test"] for r in rs])
        table.append({"method": m, "d1": d1, "runs": len(rs), "answered": int(np.sum(np.isfinite(t))),
                      "test_mean": np.nanmean(t), "test_max": np.nanmax(t), "test_min": np.nanmin(t),
                      "train_mean": np.nanmean([r["train"] for r in rs]),
                      "gap_mean": (np.nanmean([r["gap"] for r in rs])
                                   if np.any(np.isfinite([r["gap"] for r in rs])) else np.nan),
                      "seconds_mean": float(np.mean([r["seconds"] for r in rs]))})
    head = f"{'method':<19}{'d1':>4}{'runs':>6}{'test avg':>10}{'max':>8}{'min':>8}{'train':>8}{'gap':>8}{'s':>8}"
    print(f"# {what}")
    print(head)
    for r in table:
        print(f"{r['method']:<19}{r['d1']:>4}{r['answered']:>3}/{r['runs']:<2}{r['test_mean']:>10.3f}"
              f"{r['test_max']:>8.3f}{r['test_min']:>8.3f}{r['train_mean']:>8.3f}{r['gap_mean']:>8.3f}"
              f"{r['seconds_mean']:>8.1f}")
    os.makedirs(a.out, exist_ok=True)
    csv_path = os.path.join(a.out, "bdnn_breast_cancer.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(widths)
    for i, d1 in enumerate(widths):
        rows_d = [r for r in table if r["d1"] == d1]
        xs = np.arange(len(rows_d)) + i * width
        mean = np.array([r["test_mean"] for r in rows_d])
        err = np.array([[r["test_mean"] - r["test_min"] for r in rows_d],
                        [r["test_max"] - r["test_mean"] for r in rows_d]])
        ax.bar(xs, mean, width, yerr=np.nan_to_num(err), capsize=3, label=f"d1 = {d1}")
    ax.set_xticks(np.arange(len(methods)) + width * (len(widths) - 1) / 2, methods)
    ax.set_ylabel("test accuracy (mean, min-max)")
    ax.set_ylim(0.5, 1.0)
    ax.set_title(f"{'random data' if a.data == 'random' else f'Breast Cancer Wisconsin ({a.data})'}, "
                 f"{shuffles} shuffles", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "bdnn_breast_cancer.png"), dpi=120)
    print(f"wrote {csv_path} and bdnn_breast_cancer.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
