"""Trained networks with known parameters, as a stack of flat-vector layers.

Whatever a network came from (ONNX, NNet, a ``.nn`` network with weights
from an ``.npz``), nncc sees it as a sequence of layers acting on flat
vectors (C-order flattening of the tensor without its batch dimension):

* :class:`Affine` -- ``y = W x + b``; dense layers, convolutions, average
  pooling, batch normalisation and input normalisation all become this (a
  convolution as a sparse matrix);
* :class:`Relu` -- ``y = max(0, x)`` element-wise;
* :class:`MaxPool` -- ``y[k] = max(x[groups[k, :]])`` (entries ``-1`` in a
  row of ``groups`` are padding and take no part).

The encodings of questions about trained networks (evaluate, adversarial,
maximize, verify) work on this form, and :meth:`FixedNetwork.forward` is the
numpy reference that every answer is re-checked with (beside onnxruntime
for ONNX networks).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Affine:
    """``y = W x + b`` with ``W`` of shape (out, in): a numpy array or a
    ``scipy.sparse`` matrix (convolutions)."""

    name: str
    W: object
    b: np.ndarray

    @property
    def n_in(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[0])

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` (N, in) to (N, out)."""
        return np.asarray((self.W @ X.T).T) + self.b


@dataclass
class Relu:
    """``y = max(0, x)``; ``size`` is the length of the vector."""

    name: str
    size: int

    @property
    def n_in(self) -> int:
        return self.size

    @property
    def n_out(self) -> int:
        return self.size

    def apply(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X, 0.0)


@dataclass
class MaxPool:
    """``y[k] = max over j of x[groups[k, j]]`` (``-1`` entries are padding)."""

    name: str
    n_in_: int
    groups: np.ndarray  # (out, k) int64

    @property
    def n_in(self) -> int:
        return self.n_in_

    @property
    def n_out(self) -> int:
        return int(self.groups.shape[0])

    def apply(self, X: np.ndarray) -> np.ndarray:
        g = self.groups
        vals = X[:, np.where(g >= 0, g, 0)]  # (N, out, k)
        vals = np.where(g[None] >= 0, vals, -np.inf)
        return vals.max(axis=2)


Layer = Affine | Relu | MaxPool


def issparse(W) -> bool:
    """Is ``W`` a scipy sparse matrix? Answered without importing scipy, which
    dense networks never need: no sparse matrix exists before it is imported."""
    sp = sys.modules.get("scipy.sparse")
    return sp is not None and sp.issparse(W)


def as_dense_if_full(W, density: float = 0.25):
    """A sparse ``W`` as a numpy array when at least ``density`` of it is non-zero
    (dense layers stay dense; convolutions stay sparse)."""
    if issparse(W):
        size = W.shape[0] * W.shape[1]
        if size == 0 or W.nnz >= density * size:
            return W.toarray()
        return W.tocsr()
    return np.asarray(W, dtype=np.float64)


def compose_affine(first: Affine, second: Affine, name: str | None = None) -> Affine:
    """The single Affine equal to applying ``first`` then ``second``:
    ``W2 (W1 x + b1) + b2``. Sparse times sparse stays sparse; the result is
    made dense when it is mostly non-zero."""
    if first.n_out != second.n_in:
        raise ValueError(f"cannot compose '{first.name}' ({first.n_out} out) with "
                         f"'{second.name}' ({second.n_in} in)")
    W1, W2 = first.W, second.W
    if issparse(W1) and issparse(W2):
        import scipy.sparse as sp

        W = (sp.csr_matrix(W2) @ sp.csr_matrix(W1)).tocsr()
    elif issparse(W1):
        W = np.asarray((W1.T @ np.asarray(W2).T).T)  # dense @ sparse via the transpose
    else:
        W = np.asarray(W2 @ np.asarray(W1))
    b = np.asarray(W2 @ np.asarray(first.b, dtype=np.float64)).ravel() + second.b
    return Affine(name or second.name, as_dense_if_full(W), np.asarray(b, dtype=np.float64))


def merge_consecutive_affine(layers: list) -> list:
    """The layer list with every run of consecutive Affine layers merged into one
    (the composition keeps the name of the last layer of the run). Fewer affine
    layers means fewer auxiliary variables in every encoding, and the merged
    network computes the same function."""
    out: list = []
    for layer in layers:
        if isinstance(layer, Affine) and out and isinstance(out[-1], Affine):
            out[-1] = compose_affine(out[-1], layer)
        else:
            out.append(layer)
    return out


@dataclass
class FixedNetwork:
    """A trained network: flat input of ``prod(input_shape)`` values, layers in order.

    ``input_shape`` / ``output_shape`` are the tensor shapes without the batch
    dimension (e.g. (1, 28, 28) and (10,)); ``source`` says where it came from.
    """

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: list = field(default_factory=list)
    source: str = ""
    input_name: str = "input"
    output_name: str = "output"
    # Things an importer changed or the caller must know (e.g. "the final
    # LogSoftmax was dropped"), one sentence each.
    notes: list = field(default_factory=list)
    # The box (lo, hi) the network is defined on, flat like the input, or None.
    # Importers that clip inputs (NNet clips to [min, max]) store the clip box
    # here instead of encoding the clip, which is not affine: a query's input
    # box should be intersected with it.
    input_box: tuple | None = None
    # True when the network clips its input into ``input_box`` (NNet) rather than
    # being defined on it only: an input outside the box is a real input whose
    # outputs are those of its clipped value.
    input_clip: bool = False
    # "Softmax" or "LogSoftmax" when the importer left out a final softmax over
    # every output: ``forward`` then gives the logits before it, and
    # :func:`nncc.problem.output_softmax.true_outputs` the file's own outputs.
    output_softmax: str | None = None
    # the flat output indices of each of those softmaxes (one row per softmax, e.g. a
    # softmax along one axis); None: one softmax over every output
    softmax_groups: list | None = None
    # The parts the flat input and output vectors are made of, in order: (name, shape
    # without the batch dimension) each, e.g. the graph inputs of an ONNX model with
    # several inputs, or a hidden tensor asked for as an output. Default: the one
    # input (input_name, input_shape) and the one output (output_name, output_shape).
    input_parts: list | None = None
    output_parts: list | None = None

    def __post_init__(self):
        if self.input_parts is None:
            self.input_parts = [(self.input_name, tuple(self.input_shape))]
        if self.output_parts is None:
            self.output_parts = [(self.output_name, tuple(self.output_shape))]

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def n_outputs(self) -> int:
        return int(np.prod(self.output_shape))

    def forward(self, X: np.ndarray, return_all: bool = False):
        """Outputs for rows of ``X`` (N, n_inputs) in float64; with ``return_all``
        also the list of every layer's output."""
        h = np.asarray(X, dtype=np.float64).reshape(-1, self.n_inputs)
        outs = []
        for layer in self.layers:
            h = layer.apply(h)
            outs.append(h)
        return (h, outs) if return_all else h

    def relu_count(self) -> int:
        return sum(l.size for l in self.layers if isinstance(l, Relu))

    def check_shapes(self) -> None:
        """Raise ValueError if consecutive layers disagree on vector lengths."""
        n = self.n_inputs
        for layer in self.layers:
            if layer.n_in != n:
                raise ValueError(f"layer '{layer.name}' takes {layer.n_in} values, gets {n}")
            n = layer.n_out
        if n != self.n_outputs:
            raise ValueError(f"the last layer gives {n} values, the output has {self.n_outputs}")


def prune_dead_relu_units(layers: list) -> list:
    """The layer list without the ReLU units whose value no later layer reads.

    For every ``Affine -> Relu -> Affine`` triple, a unit whose column in the
    following Affine is all zero, or whose pre-activation is a constant <= 0
    (its output is always 0), is removed together with its row in the
    preceding Affine. The function is unchanged; the encodings get fewer
    ReLUs (importers that carry tensors through a ReLU as
    ``relu(z) - relu(-z)`` rely on this to drop the halves nobody uses).
    At least one unit is kept in every layer."""
    out = list(layers)
    for j in range(1, len(out) - 1):
        prev, relu, nxt = out[j - 1], out[j], out[j + 1]
        if not (isinstance(relu, Relu) and isinstance(prev, Affine) and isinstance(nxt, Affine)):
            continue
        Wn, Wp = nxt.W, prev.W
        if issparse(Wn) or issparse(Wp):
            import scipy.sparse as sp
        if issparse(Wn):
            used = np.diff(sp.csc_matrix(Wn).indptr) > 0
            used &= np.asarray(abs(Wn).sum(axis=0)).ravel() > 0
        else:
            used = np.any(np.asarray(Wn) != 0, axis=0)
        if issparse(Wp):
            row_nz = np.asarray(abs(Wp).sum(axis=1)).ravel() > 0
        else:
            row_nz = np.any(np.asarray(Wp) != 0, axis=1)
        keep = used & (row_nz | (prev.b > 0))
        if keep.all():
            continue
        if not keep.any():
            keep[0] = True
        k = np.flatnonzero(keep)
        Wp2 = Wp[k] if issparse(Wp) else np.asarray(Wp)[k]
        Wn2 = sp.csc_matrix(Wn)[:, k].tocsr() if issparse(Wn) else np.asarray(Wn)[:, k]
        out[j - 1] = Affine(prev.name, Wp2, prev.b[k])
        out[j] = Relu(relu.name, int(k.size))
        out[j + 1] = Affine(nxt.name, Wn2, nxt.b)
    return out
