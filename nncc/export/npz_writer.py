"""Answers as ``.npz``: trained parameters with PyTorch state_dict keys, or the arrays
of a question about a trained network (:meth:`nncc.pipeline.answer.Answer.npz_arrays`)."""
from __future__ import annotations

import numpy as np

from ..atomic import atomic_output


def write_npz(path: str, params: dict[str, np.ndarray]) -> None:
    """``<layer>.weight`` (out, in) and ``<layer>.bias`` (out,), written atomically; real
    arrays as float64, integer and text ones (a class, a norm's name) as they are."""
    def kept(v):
        a = np.asarray(v)
        return a if a.dtype.kind in "iubU" else np.asarray(v, dtype=np.float64)
    with atomic_output(path) as f:
        np.savez(f, **{k: kept(v) for k, v in params.items()})
