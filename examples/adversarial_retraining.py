"""Adversarial retraining: add a network's own closest adversarial examples to its
training set, retrain, and compare accuracy and adversarial distances before and after.

The thesis behind nncc's adversarial questions repeats this experiment: the
smallest change that flips a trained network's answer is found exactly (a MILP,
re-checked by a forward pass), those inputs are added to the training data with
their true labels, and the network is trained again. Here:

* data: scikit-learn's digits (8 x 8 images, 1,797 of them), pixels / 16, a
  seeded 70/30 split;
* network: scikit-learn's ``MLPClassifier`` with one hidden layer of ``--hidden``
  ReLU units (L-BFGS, ``random_state`` fixed, so a retraining differs from the
  first training by its data only);
* each round: for ``--train-points`` correctly classified training images, the
  closest input in L1 (``--norm``) that the network puts in another class,
  inside [0, 1]^64, by ``nncc.adversarial`` (highs; the answer is checked on the
  classifier itself); these inputs join the training set with their images'
  labels, and the network is fitted again on the enlarged set;
* a control beside it: the same training images added *unchanged*, so that what
  retraining on more (repeated) data does by itself is seen apart from the
  adversarial change;
* measured per round, on the *test* images: accuracy, and the closest adversarial
  distance for ``--test-points`` correctly classified test images (the mean over
  those answered; ``proven`` counts the distances the solver proved smallest).

    python3 examples/adversarial_retraining.py            # 2 rounds (a few minutes)
    python3 examples/adversarial_retraining.py --quick    # seconds (for the tests)
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np


def closest(clf, X, y, idx, norm: str, time_limit: float):
    """Per image of ``idx`` the closest adversarial input (or None) and its distance;
    every answer checked on ``clf`` itself."""
    import nncc
    out = []
    for i in idx:
        ans = nncc.adversarial(clf, X[i], norm=norm, lo=0.0, hi=1.0, time_limit=time_limit)
        if ans.arrays is None or ans.check is None or not ans.check.ok:
            out.append((None, np.nan, False))
            continue
        x = np.asarray(ans.arrays["input"], float)
        if int(clf.predict(x[None])[0]) == int(y[i]):   # the classifier itself must change
            raise AssertionError(f"image {i}: the adversarial input is not one")
        d = {"l1": np.abs(x - X[i]).sum(), "linf": np.abs(x - X[i]).max()}[norm]
        out.append((x, float(d), ans.status == "solution"))
    return out


def main(argv=None) -> int:
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round, few points, a small network")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--train-points", type=int, default=100,
                   help="training images whose adversarial examples are added each round")
    p.add_argument("--test-points", type=int, default=30)
    p.add_argument("--norm", choices=["l1", "linf"], default="l1")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds per adversarial query")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    rounds, hidden, n_train_pts, n_test_pts = ((1, 8, 8, 5) if a.quick else
                                               (a.rounds, a.hidden, a.train_points, a.test_points))
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=a.seed, stratify=y)
    rng = np.random.default_rng(a.seed)

    def fit(Xf, yf):
        clf = MLPClassifier((hidden,), solver="lbfgs", max_iter=2000, random_state=a.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return clf.fit(Xf, yf)

    clf = fit(Xtr, ytr)
    right = np.flatnonzero(clf.predict(Xte) == yte)
    test_idx = rng.choice(right, size=min(n_test_pts, len(right)), replace=False)
    print(f"digits: {len(ytr)} training / {len(yte)} test images; 64-{hidden}-10 ReLU MLP "
          f"(L-BFGS); {a.norm} adversarial examples in [0, 1]^64 by nncc (highs), each checked "
          f"on the classifier; {n_train_pts} added per round; distances on {len(test_idx)} "
          f"test images", flush=True)
    def measure(model, name, r, size, added, t0):
        acc = float(model.score(Xte, yte))
        keep = [i for i in test_idx if model.predict(Xte[i:i + 1])[0] == yte[i]]
        adv = closest(model, Xte, yte, keep, a.norm, a.time_limit)
        d = np.array([v for _, v, _ in adv], float)
        row = {"round": r, "network": name, "train size": size, "test accuracy": acc,
               "still right": f"{len(keep)}/{len(test_idx)}",
               "mean": float(np.nanmean(d)) if np.isfinite(d).any() else np.nan,
               "median": float(np.nanmedian(d)) if np.isfinite(d).any() else np.nan,
               "proven": sum(ok for _, _, ok in adv), "answered": int(np.isfinite(d).sum()),
               "added": added, "seconds": time.perf_counter() - t0}
        print(f"  round {r} {name:<11}: test accuracy {acc:.4f}, {a.norm} distance on test images "
              f"mean {row['mean']:.4f} median {row['median']:.4f} ({row['proven']}/"
              f"{row['answered']} proven smallest); {row['seconds']:.0f} s", flush=True)
        return row

    # the control adds the same training images unchanged: what retraining on more (and
    # repeated) data does by itself, apart from the adversarial change
    table = [measure(clf, "original", 0, len(ytr), "-", time.perf_counter())]
    Xadv, yadv, Xctl, yctl = Xtr, ytr, Xtr, ytr
    for r in range(1, rounds + 1):
        t0 = time.perf_counter()
        right_tr = np.flatnonzero(clf.predict(Xtr) == ytr)
        pick = rng.choice(right_tr, size=min(n_train_pts, len(right_tr)), replace=False)
        found = [(x, i) for (x, _, _), i in zip(closest(clf, Xtr, ytr, pick, a.norm, a.time_limit), pick)
                 if x is not None]
        Xadv = np.vstack([Xadv] + [x[None] for x, _ in found])
        yadv = np.concatenate([yadv, [ytr[i] for _, i in found]])
        Xctl = np.vstack([Xctl, Xtr[[i for _, i in found]]])
        yctl = np.concatenate([yctl, [ytr[i] for _, i in found]])
        clf = fit(Xadv, yadv)
        table.append(measure(clf, "adversarial", r, len(yadv), len(found), t0))
        table.append(measure(fit(Xctl, yctl), "control", r, len(yctl), len(found),
                             time.perf_counter()))
    print(f"\n| round | network | training images | added | test accuracy | test images still "
          f"right | mean {a.norm} distance | median | proven / answered |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in table:
        print(f"| {row['round']} | {row['network']} | {row['train size']} | {row['added']} | "
              f"{row['test accuracy']:.4f} | {row['still right']} | {row['mean']:.4f} | "
              f"{row['median']:.4f} | {row['proven']} / {row['answered']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
