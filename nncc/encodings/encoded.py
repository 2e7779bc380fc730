"""What every encoding returns: the IR program and what is needed to read an answer back."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.program import Program


@dataclass
class Encoded:
    """An encoded query: the IR, JSON-able data to turn values back into
    parameters, and a sentence describing the encoding for reports."""

    program: Program
    inverse: dict
    description: str
    notes: list[str] = field(default_factory=list)
    proof: str | None = None  # set when the encoding proved the query has no answer
    # tangent segments asked for per entry of the objective's squares (``regularize l2 ...
    # segments K``; 0: the default where tangents are needed); None: no such request
    square_segments: np.ndarray | None = None
