"""Architectures of a space as trainable networks: ONNX and PyTorch.

Per layer of an :class:`~nncc.problem.architecture.Architecture`: a convolution
(its kernel, stride, padding, dilation; ``channels`` output channels, a bias
unless ``bias=False``), the activation, and the space's pooling (MaxPool) when
it has one; then, with ``classes`` > 0, a classifier head: Flatten and a dense
layer to ``classes`` logits (no softmax: a cross-entropy loss takes logits).

:func:`torch_module` builds the ``torch.nn.Sequential`` (torch is the optional
``torch`` extra); :func:`onnx_model` the ONNX graph, with the module's weights
when one is given (else freshly initialised ones, drawn as PyTorch draws them:
uniform in +-1/sqrt(fan in)). :func:`check_model` runs the ONNX model in
onnxruntime on the space's input shape: the output shape must be the space's
(or ``(N, classes)``), and a module's outputs must equal it on random inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CheckFailed, InputError
from ..problem.architecture import PARAMS, Architecture, ArchitectureSpace

ACTIVATIONS = ("relu", "tanh", "sigmoid", "none")
_ONNX_ACT = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


@dataclass(frozen=True)
class ModelSpec:
    """What the user chooses beyond the architecture."""

    channels: int = 8          # output channels of every convolution
    in_channels: int = 1       # channels of the input image
    bias: bool = True
    activation: str = "relu"   # one of ACTIVATIONS, after every convolution
    classes: int = 0           # > 0: Flatten + a dense layer to this many logits

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        for name in ("channels", "in_channels"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1")
        if self.classes < 0:
            raise InputError("classes must be 0 (no head) or more")


def _layer_params(arch: Architecture, i: int) -> tuple[list[int], ...]:
    return tuple(list(arch.param(i, n)) for n in PARAMS)


def _features(space: ArchitectureSpace, spec: ModelSpec) -> int:
    return spec.channels * int(np.prod(space.output_shape))


def torch_module(arch: Architecture, space: ArchitectureSpace, spec: ModelSpec = ModelSpec(),
                 seed: int | None = 0):
    """The architecture as a ``torch.nn.Sequential`` (1-D, 2-D or 3-D convolutions)."""
    try:
        import torch
        from torch import nn
    except ImportError:
        raise InputError("PyTorch modules need torch: python3 -m pip install '.[torch]'") from None
    dims = space.dims
    if dims not in (1, 2, 3):
        raise InputError(f"PyTorch has 1-D, 2-D and 3-D convolutions; this space has {dims} dimensions")
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
    pool = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[dims]
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}.get(spec.activation)
    if seed is not None:
        torch.manual_seed(seed)
    layers, c_in = [], spec.in_channels
    for i in range(len(arch.layers)):
        k, s, p, d = _layer_params(arch, i)
        layers.append(conv(c_in, spec.channels, tuple(k), stride=tuple(s), padding=tuple(p),
                           dilation=tuple(d), bias=spec.bias))
        if act is not None:
            layers.append(act())
        if space.pool_kernel:
            layers.append(pool(tuple(space.pool_kernel), stride=tuple(space.pool_stride)))
        c_in = spec.channels
    if spec.classes:
        layers += [nn.Flatten(), nn.Linear(_features(space, spec), spec.classes, bias=spec.bias)]
    return nn.Sequential(*layers)


def onnx_model(arch: Architecture, space: ArchitectureSpace, spec: ModelSpec = ModelSpec(),
               module=None, seed: int = 0, name: str | None = None):
    """The architecture as an ``onnx.ModelProto`` (batch axis ``N``): a module's weights
    (from :func:`torch_module`) when given, else fresh ones."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    weights = None
    if module is not None:
        weights = [(m.weight.detach().cpu().numpy(),
                    None if m.bias is None else m.bias.detach().cpu().numpy())
                   for m in module if hasattr(m, "weight")]

    def fresh(shape_out, fan_in, shape):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape), rng.uniform(-bound, bound, size=shape_out)

    nodes, inits = [], []
    prev, c_in, w_at = "x", spec.in_channels, 0

    def add_init(arr, nm):
        inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), nm))
        return nm

    for i in range(len(arch.layers)):
        k, s, p, d = _layer_params(arch, i)
        if weights is not None:
            w, b = weights[w_at]
        else:
            w, b = fresh((spec.channels,), c_in * int(np.prod(k)), (spec.channels, c_in, *k))
            b = b if spec.bias else None
        w_at += 1
        ins = [prev, add_init(w, f"conv{i}.weight")] + ([add_init(b, f"conv{i}.bias")]
                                                        if b is not None else [])
        nodes.append(helper.make_node("Conv", ins, [f"c{i}"], kernel_shape=k, strides=s,
                                      pads=p + p, dilations=d))
        prev = f"c{i}"
        if spec.activation in _ONNX_ACT:
            nodes.append(helper.make_node(_ONNX_ACT[spec.activation], [prev], [f"a{i}"]))
            prev = f"a{i}"
        if space.pool_kernel:
            nodes.append(helper.make_node("MaxPool", [prev], [f"m{i}"],
                                          kernel_shape=list(space.pool_kernel),
                                          strides=list(space.pool_stride)))
            prev = f"m{i}"
        c_in = spec.channels
    if spec.classes:
        n_feat = _features(space, spec)
        if weights is not None:
            w, b = weights[w_at]
        else:
            w, b = fresh((spec.classes,), n_feat, (spec.classes, n_feat))
            b = b if spec.bias else None
        nodes.append(helper.make_node("Flatten", [prev], ["flat"], axis=1))
        ins = ["flat", add_init(w, "head.weight")] + ([add_init(b, "head.bias")] if b is not None else [])
        nodes.append(helper.make_node("Gemm", ins, ["y"], transB=1))
        out_shape = ["N", spec.classes]
    else:
        nodes.append(helper.make_node("Identity", [prev], ["y"]))
        out_shape = ["N", spec.channels, *space.output_shape]
    graph = helper.make_graph(
        nodes, name or f"architecture_{space.name}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", spec.in_channels,
                                                                *space.input_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def check_model(model, space: ArchitectureSpace, spec: ModelSpec, module=None, seed: int = 0) -> None:
    """onnxruntime runs ``model`` on two random inputs of the space's shape: the output
    shape must be the space's output (or the head's); with ``module``, the module's
    outputs must equal onnxruntime's (float32 rounding aside). A ``CheckFailed`` if not."""
    import onnxruntime as ort
    x = np.random.default_rng(seed).uniform(0, 1, size=(2, spec.in_channels, *space.input_shape))
    x = x.astype(np.float32)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": x})[0]
    want = (2, spec.classes) if spec.classes else (2, spec.channels, *space.output_shape)
    if tuple(y.shape) != want:
        raise CheckFailed(f"onnxruntime gives output shape {tuple(y.shape)}, not {want}")
    if module is not None:
        import torch
        with torch.no_grad():
            t = module(torch.from_numpy(x)).numpy()
        err = float(np.abs(t - y).max())
        if err > 1e-4 * (1.0 + float(np.abs(y).max())):
            raise CheckFailed(f"the PyTorch module and the ONNX model differ by {err:.3g}")
