"""The Python API: load a ``.nn`` file, compile a query to a file, solve it, decode answers.

>>> import nncc
>>> doc = nncc.load("examples/xor.nn")
>>> comp = nncc.compile(doc.query(), "smtlib", "xor.smt2")   # IR, symbol map, the file
>>> ans = nncc.solve(doc.query(), solver="z3")
>>> ans.status, ans.check.accuracy, ans.params["h.weight"].shape
('solution', 1.0, (4, 2))

Queries are training queries (:class:`~nncc.problem.query.TrainQuery`) and
questions about trained networks (``EvaluateQuery``, ``MaximizeQuery``,
``AdversarialQuery``, ``VerifyQuery``); every answer comes back checked by a
forward pass. VNN-LIB properties of ONNX / NNet networks go through
:func:`verify`. The command line (:mod:`nncc.cli`) is a thin layer over these
functions; the work is done in :mod:`nncc.pipeline`.

========================  =====================================================
``load(path)``            parse and check a ``.nn`` file: a ``Document`` of queries
``lower(query, target)``  encode and apply the target's passes (no file)
``compile(query, ...)``   lower and write ``.smt2`` / ``.mps`` / ``.lp`` + symbol map
``solve(query, ...)``     compile, run a solver, map back, re-check: an ``Answer``
``decode(map, output)``   read a solver run by hand back into a checked ``Answer``
``verify(model, prop)``   a VNN-LIB property: a ``Verdict``, a view of an ``Answer``
``write_target(comp, f)`` write a ``Compilation`` to a binary stream
``network(model)``        a model object or file as nncc's network
``evaluate(model, X)``    a trained network's outputs, through a solver: an ``Answer``
``maximize(model, k, ..)`` the input of a box that maximises output k: an ``Answer``
``adversarial(model, x)`` the closest input the network classifies otherwise
``box_property(..)``      an unsafe set from numpy: box, output rows ``C y >= d``
========================  =====================================================

The trained-network calls (``verify``, ``evaluate``, ``maximize``,
``adversarial``, ``network``) take the model as an ONNX or NNet path, an
``onnx.ModelProto``, a fitted scikit-learn ``MLPClassifier`` / ``MLPRegressor``
or a PyTorch ``nn.Sequential`` (:mod:`nncc.frontend.model_objects` says which
layers and what the outputs are). An object becomes an ONNX file that must
compute what the object computes on sample inputs, and every answer is checked
on the object too.

>>> import numpy as np
>>> from sklearn.neural_network import MLPClassifier
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, float); y = [0, 1, 1, 0] * 8
>>> clf = MLPClassifier((8,), solver="lbfgs", random_state=1, max_iter=2000).fit(X, y)
>>> v = nncc.verify(clf, nncc.robustness_property([0, 1], 0.1, 1, 2), time_limit=60)
>>> v.status
'unsat'
"""
from __future__ import annotations

import os

import numpy as np

from .errors import InputError
from .pipeline.answer import Answer, decode
from .pipeline.compile import Compilation, compile, lower, write_target
from .pipeline.model_objects import network_of, recheck
from .pipeline.solve import solve
from .pipeline.verify import Verdict
from .pipeline.verify import verify as _verify
from .problem.property import Property, box_property, robustness_property
from .problem.query import AdversarialQuery, Document, EvaluateQuery, MaximizeQuery

__all__ = ["Answer", "Compilation", "Verdict", "adversarial", "box_property", "compile",
           "decode", "evaluate", "load", "lower", "maximize", "network", "robustness_property",
           "solve", "verify", "write_target"]


def load(path: str, text: str | None = None) -> Document:
    """Parse and check a ``.nn`` file; raise :class:`~nncc.errors.InputError` on bad input."""
    from .frontend.semantics import load_document
    return load_document(path, text)



def network(model, *, input_shape=None, proba: bool = False, onnx_path: str | None = None):
    """``model`` as nncc's network (a ``FixedNetwork``, or the ONNX graph where it is
    not piecewise linear): an ``.onnx`` / ``.nnet`` path, an ``onnx.ModelProto``, a
    fitted scikit-learn MLP or a torch ``nn.Sequential``. ``onnx_path``: where the ONNX
    file made of an object is written (default: a temporary folder, removed at exit);
    ``input_shape``: (C, H, W) for a Sequential that starts with a convolution;
    ``proba``: a classifier's outputs are ``predict_proba``, not its logits."""
    return network_of(model, input_shape=input_shape, proba=proba, onnx_path=onnx_path,
                      graph=True)[0]


def _property(prop, net) -> Property:
    """A property given as a Property, a path, VNN-LIB text, or ``(lo, hi, C, d)``."""
    from .frontend.vnnlib2 import load_property
    if isinstance(prop, Property):
        return prop
    if isinstance(prop, tuple) and len(prop) == 4:
        return box_property(*prop, n_outputs=net.n_outputs)
    if isinstance(prop, str) and ("(declare-" in prop or "(assert" in prop):
        return load_property("<text>", prop)
    if isinstance(prop, (str, os.PathLike)):
        return load_property(os.fspath(prop))
    raise InputError(f"a property is a VNN-LIB path or text, a (lo, hi, C, d) tuple or "
                     f"nncc.box_property(...), not a {type(prop).__name__}")


def verify(model=None, prop=None, *, net=None, input_shape=None, proba: bool = False,
           **options) -> Verdict:
    """Is the property violated (``sat``, with a checked counterexample), does it hold
    (``unsat``), or ``unknown``? A :class:`~nncc.pipeline.verify.Verdict`.

    ``model``: see :func:`network`; ``prop``: a VNN-LIB path (1.0, or a 2.0 query of one
    network), VNN-LIB text, a :class:`~nncc.problem.property.Property`
    (:func:`box_property`, :func:`robustness_property`) or a ``(lo, hi, C, d)`` tuple.
    ``options`` are those of :func:`nncc.pipeline.verify.verify` (``time_limit``,
    ``solver``, ``bounds``, ``split_budget``, ...)."""
    if net is None:
        if model is None:
            raise InputError("verify needs a network: a path, a model object or net=")
        net, path = network_of(model, input_shape=input_shape, proba=proba, graph=True)
    else:
        path = None
    if prop is None and "prop" in options:
        prop = options.pop("prop")
    if prop is None:
        raise InputError("verify needs a property: a VNN-LIB path or text, or box_property()")
    v = _verify(path, None, net=net, prop=_property(prop, net), **options)
    recheck(v.answer, net)
    return v


def _net(model, input_shape, proba):
    return network_of(model, input_shape=input_shape, proba=proba)[0]


def _flat(x, net, what: str) -> np.ndarray:
    a = np.asarray(x, float)
    if a.size != net.n_inputs:
        raise InputError(f"{what} has {a.size} values; network {net.name} takes {net.n_inputs} "
                         "inputs")
    if not np.isfinite(a).all():
        raise InputError(f"{what} has values that are not finite")
    return a.reshape(-1)


def _box(net, lo, hi, what: str, ball=None) -> tuple[np.ndarray, np.ndarray]:
    """The query's box: ``lo`` / ``hi`` (scalars or one per input) within the network's
    own box, or the network's box, or the epsilon ball."""
    n = net.n_inputs
    own = None
    if getattr(net, "input_box", None) is not None:
        own = tuple(np.broadcast_to(np.asarray(b, float), (n,)).copy() for b in net.input_box)
    if lo is None and hi is None:
        if own is not None:
            return own
        if ball is not None:
            return ball[0] - ball[1], ball[0] + ball[1]
        raise InputError(f"{what} needs an input box: give lo= and hi= (network {net.name} "
                         "declares none)")
    if lo is None or hi is None:
        raise InputError(f"{what}: give both lo= and hi=")
    blo, bhi = (np.broadcast_to(np.asarray(v, float), (n,)).copy() for v in (lo, hi))
    if not (np.isfinite(blo).all() and np.isfinite(bhi).all()):
        raise InputError(f"{what}: input box bounds must be finite")
    if own is not None:
        blo, bhi = np.maximum(blo, own[0]), np.minimum(bhi, own[1])
    if (blo > bhi).any():
        k = int(np.flatnonzero(blo > bhi)[0])
        raise InputError(f"{what}: the input box is empty at input {k}")
    return blo, bhi


def _output(k, net, what: str) -> int:
    if k is None:
        return None
    if not (isinstance(k, (int, np.integer)) and 0 <= int(k) < net.n_outputs):
        raise InputError(f"{what} {k!r} is not one of the {net.n_outputs} outputs of network "
                         f"{net.name} (0..{net.n_outputs - 1})")
    return int(k)


def _solved(query, net, options) -> Answer:
    ans = solve(query, **options)
    recheck(ans, net)
    return ans


def evaluate(model, X, *, input_shape=None, proba: bool = False, **options) -> Answer:
    """The network's outputs at the rows of ``X`` (one input, or (N, n_inputs)), computed
    by a solver from the encoding and checked by a forward pass: an Answer whose
    ``arrays["output"]`` are the outputs. ``options``: those of :func:`solve`."""
    net = _net(model, input_shape, proba)
    X = np.asarray(X, float)
    X = X.reshape(1, -1) if X.size == net.n_inputs else X.reshape(len(X), -1)
    for i, row in enumerate(X):
        _flat(row, net, f"input {i}")
    return _solved(EvaluateQuery(f"evaluate {net.name}", net, X), net, options)


def maximize(model, output: int, lo=None, hi=None, *, minimize: bool = False, wins: bool = False,
             margin: float = 1e-3, ratio: float | None = None, input_shape=None,
             proba: bool = False, **options) -> Answer:
    """The input of the box ``[lo, hi]`` (scalars or one per input; default: the
    network's own box) that maximises (``minimize``: minimises) output ``output``;
    ``wins``: that output must also be the network's class, by ``margin`` (or
    ``ratio`` times the others). An Answer: ``arrays["input"]``, ``arrays["output"]``,
    the objective and the bound on it in ``result``. ``options``: those of :func:`solve`."""
    net = _net(model, input_shape, proba)
    k = _output(output, net, "output")
    blo, bhi = _box(net, lo, hi, "maximize")
    sense = "minimize" if minimize else "maximize"
    return _solved(MaximizeQuery(f"{sense} {net.name}[{k}]", net, k, blo, bhi, minimize,
                                 wins=wins, margin=float(margin), ratio=ratio), net, options)


def adversarial(model, x0, *, target: int | None = None, label: int | None = None,
                norm: str = "l1", epsilon: float | None = None, lo=None, hi=None,
                margin: float = 1e-3, ratio: float | None = None, input_shape=None,
                proba: bool = False, **options) -> Answer:
    """The input closest to ``x0`` (in ``norm``: ``l1``, ``linf`` or ``l0``) that the
    network classifies as ``target`` (None: any class but ``label``, by default the
    network's class of ``x0``), by ``margin`` (or ``ratio``); within ``[lo, hi]``
    and the ``epsilon`` L-infinity ball where given. An Answer: ``arrays["input"]``
    is the adversarial input; ``status`` is ``solution`` when it is the closest (the
    solver's ``result.bound`` meets it), ``unknown`` with arrays for the closest found
    in the time, ``no_solution`` when no input of the box reaches another class.
    ``options``: those of :func:`solve`."""
    net = _net(model, input_shape, proba)
    x = _flat(x0, net, "x0")
    if norm not in ("l1", "linf", "l0"):
        raise InputError(f"norm must be l1, linf or l0, not {norm!r}")
    if epsilon is not None and not (np.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"epsilon must be a finite number > 0, got {epsilon}")
    blo, bhi = _box(net, lo, hi, "adversarial",
                    None if epsilon is None else (x, float(epsilon)))
    if ((x < blo) | (x > bhi)).any():
        raise InputError("x0 lies outside the input box")
    q = AdversarialQuery(f"adversarial {net.name}", net, x, blo, bhi,
                         target=_output(target, net, "target"), label=_output(label, net, "label"),
                         margin=float(margin), ratio=ratio, norm=norm, epsilon=epsilon)
    return _solved(q, net, options)
