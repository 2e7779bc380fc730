"""Generated data sets: drawn from a stated distribution with a seed.

``gaussian_clouds``: two spherical Gaussian clouds in ``dim`` dimensions whose
centres are ``distance`` apart, ``per_class`` samples each with standard
deviation ``std`` in every direction. The centres do not depend on the seed
(``-distance/2`` and ``+distance/2`` along the unit diagonal
``(1, ..., 1)/sqrt(dim)``), so a different seed draws more samples from the
same distribution: a large validation set is another seed with a large
``per_class``. The Bayes error of the task is ``Phi(-distance / (2 std))``
(19.3% for the third paper's ``distance 13.86, std 8``).
"""
from __future__ import annotations

import math

import numpy as np

# Each generator's arguments: name -> (kind "int" | "float", smallest value, default or
# None when the argument is required). The checker checks them against this table.
GENERATORS = {
    "gaussian_clouds": {
        "dim": ("int", 1, None),
        "per_class": ("int", 1, None),
        "distance": ("float", 0.0, None),
        "std": ("float", 0.0, None),
        "seed": ("int", 0, 0),
    },
}


def generate(name: str, arguments: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """``(X, y, description)`` of generator ``name`` with checked ``arguments``."""
    if name == "gaussian_clouds":
        X, y = gaussian_clouds(**arguments)
        a = arguments
        text = (f"gaussian_clouds(dim {a['dim']}, per_class {a['per_class']}, distance "
                f"{a['distance']:g}, std {a['std']:g}, seed {a['seed']}), Bayes error "
                f"{100 * gaussian_clouds_bayes_error(a['distance'], a['std']):.1f}%")
        return X, y, text
    raise ValueError(f"unknown generator {name!r}")  # the checker admits no other


def gaussian_clouds(dim: int, per_class: int, distance: float, std: float,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``2 * per_class`` samples in a seeded random order, labels 0 and 1.

    Class 0 is centred at ``-distance/2 * u``, class 1 at ``+distance/2 * u``,
    ``u = (1, ..., 1)/sqrt(dim)``; every feature has standard deviation ``std``.
    """
    if dim < 1 or per_class < 1:
        raise ValueError("gaussian_clouds needs dim >= 1 and per_class >= 1")
    if std < 0 or distance < 0:
        raise ValueError("gaussian_clouds needs distance >= 0 and std >= 0")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array([0, 1], dtype=np.int64), per_class)
    rng.shuffle(y)
    u = np.full(dim, 1.0 / math.sqrt(dim))
    centres = np.stack([-0.5 * distance * u, 0.5 * distance * u])
    X = centres[y] + std * rng.standard_normal((2 * per_class, dim))
    return X, y


def gaussian_clouds_bayes_error(distance: float, std: float) -> float:
    """The smallest error any classifier can reach on :func:`gaussian_clouds`."""
    if std == 0:
        return 0.0
    return 0.5 * math.erfc(distance / (2.0 * std) / math.sqrt(2.0))
