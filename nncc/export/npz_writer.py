"""Trained parameters as ``.npz`` with PyTorch state_dict keys."""
from __future__ import annotations

import numpy as np

from ..atomic import atomic_output


def write_npz(path: str, params: dict[str, np.ndarray]) -> None:
    """``<layer>.weight`` (out, in) and ``<layer>.bias`` (out,), float64, written atomically."""
    with atomic_output(path) as f:
        np.savez(f, **{k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
