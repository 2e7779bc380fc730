"""Datasets: a matrix of samples and integer labels."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SourcePos


@dataclass
class Dataset:
    """``X`` (N, d) float64 samples and ``y`` (N,) int64 labels in ``0 .. K-1``.

    ``classes[k]`` is the original label that class ``k`` stands for;
    ``source`` says where the data came from, in words, for reports.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: list = field(default_factory=list)
    source: str = ""
    pos: SourcePos | None = None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else int(self.y.max()) + 1 if len(self.y) else 0
