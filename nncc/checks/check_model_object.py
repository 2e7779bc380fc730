"""The network object a user gave (scikit-learn, PyTorch) against the ONNX file made of it.

nncc answers about the ONNX model that :func:`~nncc.frontend.model_objects.to_onnx`
wrote, and checks every answer under onnxruntime on that file. That the file
computes what the object computes is checked here, with the object's own
forward pass (``predict_proba``, ``predict``, ``module(x)``): once on sample
inputs when the file is made, and again on every answer's inputs.
"""
from __future__ import annotations

import numpy as np

from .check_network import onnx_outputs


def object_problems(net, X: np.ndarray) -> list[str]:
    """Where the file's outputs (under onnxruntime) at the rows of ``X`` differ from the
    object's (``net.converted``, a :class:`~nncc.frontend.model_objects.Converted`)
    beyond its tolerance: one sentence, or nothing; nothing for a network that came
    from a file."""
    conv = getattr(net, "converted", None)
    if conv is None or conv.reference is None:
        return []
    X = np.asarray(X, np.float64).reshape(-1, net.n_inputs)
    got = onnx_outputs(net, X)
    if got is None:
        return []
    if conv.transform is not None:
        got = conv.transform(got)
    want = np.asarray(conv.reference(X), np.float64).reshape(got.shape[0], -1)
    if want.shape != got.shape:
        return [f"the {conv.what} gives outputs of shape {want.shape[1:]}, the ONNX file made "
                f"of it {got.shape[1:]}"]
    err = np.abs(got - want)
    bad = err > conv.tol * (1.0 + np.abs(want))
    if not bad.any():
        return []
    r, c = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape)
    return [f"the ONNX file made of the {conv.what} computes other outputs than it: output {c} "
            f"of row {r} is {got[r, c]:.9g} in the file and {want[r, c]:.9g} in the object "
            f"(tolerance {conv.tol:g} relative)"]
