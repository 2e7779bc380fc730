"""The network a Python API call names: a file, a network already loaded, or an object.

Objects (an ``onnx.ModelProto``, a scikit-learn MLP, a torch ``nn.Sequential``)
become an ONNX file (:func:`~nncc.frontend.model_objects.to_onnx`), written where
the caller says or in a folder of the process's that is removed when it exits,
and read back like any ONNX file. The file must compute what the object
computes on sample inputs (:func:`~nncc.checks.check_model_object.object_problems`),
else the call is refused; every answer is then checked on the object too
(:func:`recheck`).
"""
from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile

import numpy as np

from ..atomic import atomic_output
from ..checks.check_model_object import object_problems
from ..errors import InputError
from ..frontend.model_objects import to_onnx
from ..problem.property import load_network

SAMPLES = 16   # sample inputs the file and the object are compared on
_dir: list[str] = []
_count = itertools.count()


def _model_dir() -> str:
    if not _dir:
        _dir.append(tempfile.mkdtemp(prefix="nncc-models-"))
        atexit.register(shutil.rmtree, _dir[0], True)
    return _dir[0]


def is_network(obj) -> bool:
    """A network nncc has already read (a FixedNetwork or an ONNX graph)."""
    return hasattr(obj, "n_inputs") and hasattr(obj, "forward") and hasattr(obj, "layers")


def network_of(model, *, input_shape=None, proba: bool = False, onnx_path: str | None = None,
               graph: bool = False):
    """``(network, path)``: ``model`` read as a network, and the ONNX / NNet file it
    is (None for a network given already read). ``graph``: an ONNX model that is
    not piecewise linear is kept as its graph (for ``verify``). ``onnx_path``:
    where the ONNX file made of an object goes (default: a temporary folder).
    ``input_shape`` and ``proba``: see :func:`~nncc.frontend.model_objects.to_onnx`."""
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        return load_network(path, graph=graph), path
    if is_network(model):
        return model, None
    conv = to_onnx(model, input_shape, proba)
    stem = conv.what.split()[-1].replace(".", "_").lower()
    path = onnx_path or os.path.join(_model_dir(), f"{stem}-{next(_count)}.onnx")
    with atomic_output(path) as f:
        f.write(conv.proto.SerializeToString())
    net = load_network(path, graph=graph)
    net.converted = conv
    if conv.reference is not None:
        problems = object_problems(net, _samples(net))
        if problems:
            raise InputError(problems[0])
    return net, path


def _samples(net) -> np.ndarray:
    """Inputs to compare the file and the object on: in the network's box where it has
    one, else standard normal values, and zero."""
    rng = np.random.default_rng(0)
    n = net.n_inputs
    box = getattr(net, "input_box", None)
    if box is not None:
        lo, hi = (np.broadcast_to(np.asarray(b, float), (n,)) for b in box)
        X = rng.uniform(lo, hi, (SAMPLES, n))
    else:
        X = rng.standard_normal((SAMPLES, n))
    return np.vstack([np.zeros((1, n)), X])


def recheck(answer, net) -> None:
    """Check an answer's inputs on the object the network was made of: where its outputs
    differ from the file's, the answer is ``check_failed`` (its arrays must not be
    used), and the problem is in its notes; a note says that the check passed."""
    from ..solvers.result import SOLUTION
    if getattr(net, "converted", None) is None or net.converted.reference is None:
        return
    if answer.status != SOLUTION or not answer.arrays or "input" not in answer.arrays:
        return
    problems = object_problems(net, np.asarray(answer.arrays["input"], float))
    if problems:
        answer.status = "check_failed"
        answer.notes.append(problems[0])
    else:
        answer.notes.append(f"checked on the {net.converted.what} itself: its outputs at the "
                            f"answer agree with the ONNX file made of it")
