"""Trained networks for the questions of a ``.nn`` file (evaluate, maximize, adversarial).

``network n = onnx "f.onnx"`` and ``network n = nnet "f.nnet"`` are read by
the importers of ``nncc.problem``; a ``.nn`` network whose weights all come
from an ``.npz`` is turned into the same ``FixedNetwork`` form by
``fixed_from_dense``. The ONNX importer (and with it ``onnx``) is imported
only when a file declares an ONNX network: the import costs about half a second.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..problem.datasets_load import resolve_file
from ..problem.fixed_network import Affine, FixedNetwork, Relu
from ..problem.network import RELU, Network
from . import ast

_FILE_KIND = {"onnx": "ONNX file", "nnet": "NNet file"}


def load_trained_network(decl: ast.TrainedNetworkDecl, base_dir: Path) -> FixedNetwork:
    """The ``FixedNetwork`` of ``network NAME = onnx|nnet "file"``, named NAME.

    Every failure of the importer (missing file, not ONNX, unsupported
    operators, ...) is re-raised at the position of the network statement.
    """
    path = resolve_file(decl.path.value, base_dir, decl.pos, what=_FILE_KIND[decl.format])
    try:
        if decl.format == "onnx":
            try:
                from ..problem.onnx_import import load_onnx
                return load_onnx(str(path), name=decl.name.name)
            except ModuleNotFoundError as exc:
                if exc.name not in ("onnx", "scipy"):
                    raise
                raise InputError(f"reading ONNX networks needs the '{exc.name}' package "
                                 f"(pip install {exc.name})", decl.pos) from None
        from ..problem.nnet_import import load_nnet
        return load_nnet(str(path), name=decl.name.name)
    except InputError as exc:
        if exc.pos is not None:
            raise
        raise InputError(f"network {decl.name.name}: {exc.message}", decl.pos) from None


def fixed_from_dense(net: Network, source: str = "") -> FixedNetwork:
    """A ``.nn`` network with known weights as a ``FixedNetwork``.

    Each dense layer becomes an ``Affine`` (its ``weight`` (out, in) and
    ``bias``), followed by a ``Relu`` when the layer has one. The input box
    ``input x[n] in [lo, hi]``, if written, becomes ``input_box`` (broadcast
    to the n inputs). Raises ``ValueError`` when a layer's weights or bias
    are unknown (the caller reports it where the network is used).
    """
    unknown = [layer.name for layer in net.layers if layer.weight is None or layer.bias is None]
    if unknown:
        raise ValueError(f"network {net.name} has unknown parameters (layers "
                         + ", ".join(unknown) + ")")
    layers: list = []
    for layer in net.layers:
        layers.append(Affine(layer.name, np.asarray(layer.weight, dtype=np.float64),
                             np.asarray(layer.bias, dtype=np.float64).reshape(-1)))
        if layer.activation == RELU:
            layers.append(Relu(f"{layer.name}_relu", layer.size))
    box = None
    if net.input_box is not None:
        lo, hi = net.input_box
        box = (np.full(net.input_size, float(lo)), np.full(net.input_size, float(hi)))
    fixed = FixedNetwork(name=net.name, input_shape=(net.input_size,),
                         output_shape=(net.output_size,), layers=layers,
                         source=source or f"nn:{net.name}", input_name=net.input_name,
                         output_name=net.layers[-1].name, input_box=box)
    fixed.check_shapes()
    return fixed


def describe_source(net: FixedNetwork) -> str:
    """Where a trained network came from, in words (``onnx "f.onnx"``)."""
    kind, _, where = net.source.partition(":")
    return f'{kind} "{Path(where).name}"' if where else net.source
