"""Networks given as the Python objects users already have, made ONNX models.

:func:`to_onnx` takes

* an ``onnx.ModelProto`` (kept as it is);
* a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor`` (any of its hidden
  activations: ``relu`` and ``identity`` are piecewise linear, ``tanh`` and
  ``logistic`` go to the graph evaluator of ``verify``);
* a PyTorch ``nn.Sequential`` of ``Linear``, ``ReLU``, ``Conv2d``, ``MaxPool2d``,
  ``Flatten`` (also ``Identity``, ``Dropout`` -- the identity in evaluation --,
  ``Tanh``, ``Sigmoid``, ``Softmax`` over the features);

and gives a :class:`Converted`: the ONNX model, the input shape, and the
object's own forward pass (``reference``) in the terms of the model's outputs,
which the caller compares with onnxruntime on the file, so that a conversion
that computed anything else is refused, and every answer is checked on the
object itself too (:mod:`nncc.pipeline.model_objects`).

What the outputs are:

* ``MLPRegressor``: ``predict`` (one column per target);
* ``MLPClassifier``: the logits, one per class, whose softmax is
  ``predict_proba`` (a two-class classifier's one output unit ``z`` becomes the
  logits ``[0, z]``: ``softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]``); their
  arg-max is ``predict``. With ``proba=True`` the model ends with that Softmax
  and its outputs are ``predict_proba`` itself (nncc leaves the softmax out and
  restates a property over the logits where that is exact);
* ``nn.Sequential``: what it returns.

Weights keep their type: scikit-learn's float64 make a double model, torch's
float32 a float one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError

OPSET = 13


@dataclass
class Converted:
    """An object as an ONNX model: ``proto``, its input shape without the batch
    dimension, ``reference(X)`` -- the object's outputs (N, n_out) on flat inputs
    X (N, n_in) in the terms of the model's outputs, or None for a ModelProto --,
    and ``what`` the object in a few words, for messages."""

    proto: object
    input_shape: tuple[int, ...] | None
    reference: Callable[[np.ndarray], np.ndarray] | None
    what: str
    # applied to the model's outputs before they are compared with the reference (the
    # softmax of a classifier's logits, for predict_proba), or None
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    # the tolerance of that comparison: float32 objects round more
    tol: float = 1e-6


def describe(model) -> str:
    """What kind of network object ``model`` is, in a few words."""
    kind = type(model)
    return f"{kind.__module__.split('.')[0]} {kind.__name__}"


def to_onnx(model, input_shape=None, proba: bool = False) -> Converted:
    """``model`` (see the module docstring) as a :class:`Converted`; InputError for
    an object of another kind, an unfitted estimator, or a layer with no ONNX form
    here. ``input_shape`` (without the batch dimension) is needed only where the
    object does not say it: a Sequential that starts with a convolution."""
    kind = type(model)
    mod = kind.__module__
    if mod.startswith("onnx") and kind.__name__ == "ModelProto":
        return Converted(model, None, None, "ONNX ModelProto")
    if mod.startswith("sklearn.") and kind.__name__ in ("MLPClassifier", "MLPRegressor"):
        return _sklearn_mlp(model, proba)
    if mod.startswith("torch.") and hasattr(model, "named_children") and hasattr(model, "forward"):
        return _torch_sequential(model, input_shape)
    raise InputError(f"cannot read a network from a {describe(model)}: give an ONNX or NNet "
                     "file, an onnx.ModelProto, a scikit-learn MLPClassifier / MLPRegressor, "
                     "or a torch nn.Sequential")


# ------------------------------------------------------------------ building the model

class _Builder:
    """A chain of ONNX nodes from one input to one output."""

    def __init__(self, name: str, input_shape: tuple[int, ...], dtype):
        from onnx import TensorProto
        self.name, self.dtype = name, np.dtype(dtype)
        self.elem = TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT
        self.input_shape = tuple(int(d) for d in input_shape)
        self.nodes, self.inits = [], []
        self.cur = "input"

    def const(self, name: str, value) -> str:
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(np.asarray(value, self.dtype), name))
        return name

    def op(self, op_type: str, extra: list[str], label: str, **attrs) -> None:
        from onnx import helper
        out = f"{label}.out"
        self.nodes.append(helper.make_node(op_type, [self.cur, *extra], [out], name=label, **attrs))
        self.cur = out

    def model(self, n_out: int):
        import onnx
        from onnx import helper
        self.nodes[-1].output[0] = "output"
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", self.elem, ["N", *self.input_shape])],
            [helper.make_tensor_value_info("output", self.elem, ["N", n_out])],
            initializer=self.inits)
        proto = helper.make_model(graph, producer_name="nncc",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        proto.ir_version = 8   # readable by onnxruntime releases of the last years
        onnx.checker.check_model(proto)
        return proto


def _softmax(Z: np.ndarray) -> np.ndarray:
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ scikit-learn

_SK_ACTIVATION = {"relu": "Relu", "tanh": "Tanh", "logistic": "Sigmoid", "identity": None}


def _sklearn_mlp(model, proba: bool) -> Converted:
    name = type(model).__name__
    if not hasattr(model, "coefs_"):
        raise InputError(f"this {name} is not fitted: call fit() before asking about it")
    classifier = name == "MLPClassifier"
    if classifier and getattr(model, "out_activation_", "softmax") == "logistic" \
            and len(model.classes_) != 2:
        raise InputError(f"a multi-label {name} (one logistic output per label) is not supported: "
                         "its outputs have no single class")
    act = _SK_ACTIVATION.get(model.activation)
    if model.activation not in _SK_ACTIVATION:
        raise InputError(f"{name} activation {model.activation!r} has no ONNX form here")
    dtype = np.float64 if model.coefs_[0].dtype == np.float64 else np.float32
    b = _Builder(f"sklearn_{name}", (int(model.coefs_[0].shape[0]),), dtype)
    last = len(model.coefs_) - 1
    for k, (W, c) in enumerate(zip(model.coefs_, model.intercepts_)):
        W, c = np.asarray(W), np.asarray(c)
        if k == last and classifier and W.shape[1] == 1:   # two classes: logits [0, z]
            W = np.hstack([np.zeros_like(W), W])
            c = np.concatenate([np.zeros_like(c), c])
        b.op("Gemm", [b.const(f"layer{k}.weight", W), b.const(f"layer{k}.bias", c)],
             f"layer{k}.gemm")
        if k < last and act is not None:
            b.op(act, [], f"layer{k}.{act.lower()}")
    n_out = int(model.coefs_[-1].shape[1])
    if classifier:
        n_out = max(n_out, 2)
        if proba:
            b.op("Softmax", [], "softmax", axis=1)
    proto = b.model(n_out)

    if classifier:
        def reference(X):
            return np.asarray(model.predict_proba(np.asarray(X, dtype)), float)
    else:
        def reference(X):
            return np.asarray(model.predict(np.asarray(X, dtype)), float).reshape(len(X), -1)
    return Converted(proto, b.input_shape, reference, f"scikit-learn {name}",
                     _softmax if classifier and not proba else None,
                     1e-9 if dtype == np.float64 else 1e-5)


# ------------------------------------------------------------------ PyTorch

def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else tuple(int(x) for x in v)


def _torch_sequential(model, input_shape) -> Converted:
    import torch
    from torch import nn

    if not isinstance(model, nn.Sequential):
        raise InputError(f"a torch {type(model).__name__} is not an nn.Sequential: only the "
                         "layers of a Sequential have a known order (export other modules to "
                         "ONNX with torch.onnx.export and give the file)")
    layers = list(model.children())
    if not layers:
        raise InputError("the nn.Sequential has no layers")
    params = [p for p in model.parameters()]
    dtype = params[0].dtype if params else torch.float32
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    if input_shape is None:
        first = next((m for m in layers if not isinstance(m, (nn.Identity, nn.Dropout))), None)
        if isinstance(first, nn.Linear):
            input_shape = (first.in_features,)
        else:
            raise InputError(f"a Sequential that starts with {type(first).__name__} needs "
                             "input_shape=(C, H, W) (without the batch dimension)")
    input_shape = tuple(int(d) for d in np.atleast_1d(input_shape))
    b = _Builder("torch_Sequential", input_shape, np_dtype)
    shape = input_shape   # the current tensor's shape without the batch dimension

    def arr(t):
        return t.detach().cpu().numpy().astype(np_dtype)

    with torch.no_grad():
        for i, m in enumerate(layers):
            label = f"{i}.{type(m).__name__.lower()}"
            if isinstance(m, (nn.Identity, nn.Dropout)):
                continue
            if isinstance(m, nn.Linear):
                if len(shape) != 1:
                    raise InputError(f"layer {i} (Linear) gets a tensor of shape {shape}: put a "
                                     "Flatten before it")
                if shape[0] != m.in_features:
                    raise InputError(f"layer {i} (Linear) takes {m.in_features} features, "
                                     f"the tensor before it has {shape[0]}")
                bias = arr(m.bias) if m.bias is not None else np.zeros(m.out_features, np_dtype)
                b.op("Gemm", [b.const(f"{i}.weight", arr(m.weight)), b.const(f"{i}.bias", bias)],
                     label, transB=1)
                shape = (m.out_features,)
            elif isinstance(m, nn.ReLU):
                b.op("Relu", [], label)
            elif isinstance(m, nn.Tanh):
                b.op("Tanh", [], label)
            elif isinstance(m, nn.Sigmoid):
                b.op("Sigmoid", [], label)
            elif isinstance(m, nn.Softmax):
                if len(shape) != 1 or m.dim not in (1, -1):
                    raise InputError(f"layer {i} (Softmax) must be over the features "
                                     "(dim=1 or -1) of a flat tensor")
                b.op("Softmax", [], label, axis=1)
            elif isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise InputError(f"layer {i} (Flatten): only start_dim=1, end_dim=-1")
                b.op("Flatten", [], label, axis=1)
                shape = (int(np.prod(shape)),)
            elif isinstance(m, nn.Conv2d):
                shape = _conv(b, m, i, label, shape, arr)
            elif isinstance(m, nn.MaxPool2d):
                shape = _maxpool(b, m, i, label, shape)
            else:
                raise InputError(f"layer {i} of the Sequential ({type(m).__name__}) has no ONNX "
                                 "form here: Linear, ReLU, Conv2d, MaxPool2d, Flatten, Identity, "
                                 "Dropout, Tanh, Sigmoid, Softmax")
    if len(shape) != 1:
        raise InputError(f"the Sequential ends with a tensor of shape {shape}: end with a Flatten "
                         "or a Linear layer")
    proto = b.model(shape[0])
    was_training = model.training

    def reference(X):
        model.eval()
        try:
            with torch.no_grad():
                t = torch.from_numpy(np.asarray(X, np_dtype).reshape(len(X), *input_shape))
                return model(t).numpy().astype(float).reshape(len(X), -1)
        finally:
            model.train(was_training)
    return Converted(proto, input_shape, reference, "torch nn.Sequential", None,
                     1e-9 if np_dtype == np.float64 else 1e-4)


def _conv(b: _Builder, m, i: int, label: str, shape, arr) -> tuple[int, ...]:
    if len(shape) != 3:
        raise InputError(f"layer {i} (Conv2d) needs a (C, H, W) tensor, not {shape}")
    if m.padding_mode != "zeros":
        raise InputError(f"layer {i} (Conv2d): padding_mode {m.padding_mode!r}; only 'zeros'")
    C, H, W = shape
    if C != m.in_channels:
        raise InputError(f"layer {i} (Conv2d) takes {m.in_channels} channels, the tensor "
                         f"before it has {C}")
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride)
    dh, dw = _pair(m.dilation)
    if isinstance(m.padding, str):
        if m.padding == "valid":
            pads = (0, 0, 0, 0)
        else:   # 'same' (stride 1): torch puts the odd pixel at the end
            th, tw = dh * (kh - 1), dw * (kw - 1)
            pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    else:
        ph, pw = _pair(m.padding)
        pads = (ph, pw, ph, pw)
    weight = arr(m.weight)
    extra = [b.const(f"{i}.weight", weight)]
    if m.bias is not None:
        extra.append(b.const(f"{i}.bias", arr(m.bias)))
    b.op("Conv", extra, label, kernel_shape=[kh, kw], strides=[sh, sw], pads=list(pads),
         dilations=[dh, dw], group=int(m.groups))
    oh = (H + pads[0] + pads[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (W + pads[1] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise InputError(f"layer {i} (Conv2d) leaves no pixels of a {H}x{W} input")
    return (m.out_channels, oh, ow)


def _maxpool(b: _Builder, m, i: int, label: str, shape) -> tuple[int, ...]:
    if len(shape) != 3:
        raise InputError(f"layer {i} (MaxPool2d) needs a (C, H, W) tensor, not {shape}")
    if m.return_indices:
        raise InputError(f"layer {i} (MaxPool2d): return_indices=True has no ONNX form here")
    C, H, W = shape
    kh, kw = _pair(m.kernel_size)
    sh, sw = _pair(m.stride if m.stride is not None else m.kernel_size)
    ph, pw = _pair(m.padding)
    dh, dw = _pair(m.dilation)
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw])
    if (dh, dw) != (1, 1):
        attrs["dilations"] = [dh, dw]
    if m.ceil_mode:
        attrs["ceil_mode"] = 1
    b.op("MaxPool", [], label, **attrs)

    def out(n, k, s, p, d):
        span = n + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if m.ceil_mode else span // s) + 1
        if m.ceil_mode and (o - 1) * s >= n + p:   # torch's rule: the last window starts inside
            o -= 1
        return o
    return (C, out(H, kh, sh, ph, dh), out(W, kw, sw, pw, dw))
