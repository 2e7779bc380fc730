"""Networks: layers, activations and the domains of their parameters.

The forward pass here is the reference every answer is re-checked against.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SourcePos

RELU, IDENTITY = "relu", "identity"
STEP, SIGN = "step", "sign"  # binarised networks: two-level steps
ACTIVATIONS = (RELU, IDENTITY, STEP, SIGN)
STEP_ACTIVATIONS = (STEP, SIGN)
DEFAULT_LEVELS = {STEP: (0.0, 1.0), SIGN: (-1.0, 1.0)}

# Default box of unknown weights and biases when a network declares none.
DEFAULT_WEIGHT_BOX = (-1.0, 1.0)


@dataclass(frozen=True)
class ParamDomain:
    """Where an unknown parameter lives: a real interval (``kind="real"``),
    an integer range (``"int"``), or a finite set (``"set"``, e.g. {-1, 1})."""

    kind: str = "real"
    lo: float = DEFAULT_WEIGHT_BOX[0]
    hi: float = DEFAULT_WEIGHT_BOX[1]
    values: tuple[float, ...] = ()

    def contains_zero(self) -> bool:
        if self.kind == "set":
            return 0.0 in self.values
        return self.lo <= 0.0 <= self.hi

    def __str__(self) -> str:
        if self.kind == "set":
            return "{" + ", ".join(f"{v:g}" for v in self.values) + "}"
        return f"{self.kind} in [{self.lo:g}, {self.hi:g}]"


@dataclass
class DenseLayer:
    """``y = act(W x + b)`` with ``W`` of shape (size, fan_in).

    ``weight`` / ``bias`` are fixed arrays when known (e.g. loaded from an
    ``.npz``), otherwise ``None`` and the parameters are unknowns in
    ``weight_domain`` / ``bias_domain``.
    """

    name: str
    size: int
    activation: str = IDENTITY
    weight_domain: ParamDomain = field(default_factory=ParamDomain)
    bias_domain: ParamDomain = field(default_factory=ParamDomain)
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    pos: SourcePos | None = None
    # step / sign layers: the values below and at-or-above the threshold, and the
    # threshold (a number, or "learned": then the bias is an unknown, threshold = -bias)
    levels: tuple[float, float] | None = None
    threshold: float | str = 0.0

    @property
    def trainable(self) -> bool:
        return self.weight is None

    @property
    def is_step(self) -> bool:
        return self.activation in STEP_ACTIVATIONS


@dataclass
class Network:
    """A feed-forward stack of dense layers over a flat input vector."""

    name: str
    input_name: str
    input_size: int
    layers: list[DenseLayer]
    input_box: tuple[float, float] | None = None
    pos: SourcePos | None = None

    @property
    def output_size(self) -> int:
        return self.layers[-1].size

    def fan_in(self, k: int) -> int:
        """Number of inputs of layer ``k``."""
        return self.input_size if k == 0 else self.layers[k - 1].size

    @property
    def binarised(self) -> bool:
        """Whether any layer is a step / sign layer (trained by the binarised encoding)."""
        return any(layer.is_step for layer in self.layers)

    def param_names(self) -> list[str]:
        """The ``.npz`` keys (PyTorch state_dict style)."""
        out = []
        for layer in self.layers:
            out += [f"{layer.name}.weight", f"{layer.name}.bias"]
        return out

    def forward(self, params: dict[str, np.ndarray], X: np.ndarray,
                return_all: bool = False):
        """Outputs for the rows of ``X`` given ``{"<layer>.weight": (out, in), "<layer>.bias": (out,)}``.

        With ``return_all`` also the list of pre-activations per layer.
        """
        h = np.asarray(X, dtype=np.float64)
        pre = []
        for layer in self.layers:
            W = params[f"{layer.name}.weight"] if layer.weight is None else layer.weight
            b = params[f"{layer.name}.bias"] if layer.bias is None else layer.bias
            z = h @ np.asarray(W, float).T + np.asarray(b, float)
            pre.append(z)
            if layer.is_step:
                # z = W x + b >= 0, i.e. W x >= threshold, gives the upper level
                beta, gamma = layer.levels
                h = np.where(z >= 0.0, gamma, beta)
            else:
                h = np.maximum(z, 0.0) if layer.activation == RELU else z
        return (h, pre) if return_all else h
