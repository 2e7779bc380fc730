"""The forward-pass check of answers about trained networks."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..problem.query import adversarial_box
from .check_training import DEFAULT_TOLERANCE


@dataclass
class NetworkCheck:
    """``value`` is the forward pass's value of the objective (maximize), ``outputs``
    the forward pass's outputs; ``ok`` is False when the solver's claim differs."""

    ok: bool
    outputs: np.ndarray
    value: float | None = None
    max_error: float = 0.0
    tolerance: float = DEFAULT_TOLERANCE
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"ok": self.ok, "value": self.value, "max_error": self.max_error,
                "tolerance": self.tolerance, "problems": self.problems,
                "outputs": np.asarray(self.outputs).tolist()}


# onnxruntime computes in float32: its outputs differ from the float64 forward pass
ORT_RTOL, ORT_ATOL = 1e-4, 1e-4


def onnx_outputs(net, X: np.ndarray) -> np.ndarray | None:
    """onnxruntime's outputs on the rows of ``X`` for a network read from ONNX, else None.

    Each row is split into the network's input parts (``net.input_parts``: the graph
    inputs, in order); the outputs are the flat values of ``net.output_parts`` in
    order, an intermediate tensor among them computed by a copy of the model that
    lists it as a graph output."""
    src = str(getattr(net, "source", ""))
    if not src.startswith("onnx:"):
        return None
    in_parts = getattr(net, "input_parts", None) or [(getattr(net, "input_name", "input"),
                                                      tuple(net.input_shape))]
    out_names = [nm for nm, _ in getattr(net, "output_parts", None) or []] or None
    return run_onnx_parts(src[len("onnx:"):], X, in_parts, out_names)


_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
               "tensor(float16)": np.float16}


def _session_with_outputs(path: str, names: list[str] | None):
    """``(session, names)``: an onnxruntime session of the model at ``path`` whose
    outputs include ``names`` (intermediate tensors are added as graph outputs of a
    copy of the model); the first graph output when ``names`` is None, or is one name
    the model does not have (a network built by hand with the default name)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    have = {o.name for o in sess.get_outputs()}
    if names is None or all(n in have for n in names):
        return sess, names or [sess.get_outputs()[0].name]
    import os

    st = os.stat(path)
    data = _with_outputs(path, st.st_mtime_ns, st.st_size, tuple(dict.fromkeys(names)))
    if data is None:
        return sess, [sess.get_outputs()[0].name]
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]), names


@functools.lru_cache(maxsize=2)
def _with_outputs(path: str, mtime_ns: int, size: int, names: tuple) -> bytes | None:
    """The model at ``path`` with ``names`` added to its graph outputs, serialized (None
    when ``names`` is one name no node computes: a network built by hand). The file's
    time and size are part of the cache key."""
    import onnx

    model = onnx.load(path)
    g = model.graph
    have = {o.name for o in g.output}
    made = {o for node in g.node for o in node.output} | {i.name for i in g.input} | \
        {t.name for t in g.initializer}
    if len(names) == 1 and names[0] not in made:
        return None
    typed = {v.name: v for v in list(g.value_info) + list(g.input) + list(g.output)}
    if any(n not in typed for n in names):
        inferred = onnx.shape_inference.infer_shapes(model)
        typed.update({v.name: v for v in inferred.graph.value_info})
    consts = {t.name: t for t in g.initializer}
    for n in names:
        if n in have:
            continue
        if n in typed:
            v = onnx.ValueInfoProto()
            v.CopyFrom(typed[n])
        elif n in consts:
            v = onnx.helper.make_tensor_value_info(n, consts[n].data_type, list(consts[n].dims))
        else:
            # no type known: a float tensor of unknown shape (onnxruntime accepts it)
            v = onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None)
        g.output.append(v)
    return model.SerializeToString()


def run_onnx_parts(path: str, X: np.ndarray, input_parts, output_names=None) -> np.ndarray:
    """Outputs (N, n_out) of an ONNX model under onnxruntime, one sample at a time: each
    row of ``X`` split into ``input_parts`` ((graph input name, shape without the
    batch) in order), each shaped with a batch dimension when the model's input has
    one; the outputs ``output_names`` (default: the first graph output) flattened and
    concatenated. Graph inputs not among the parts (none of the outputs reads them)
    get zeros."""
    sess, names = _session_with_outputs(path, output_names)
    run_names = list(dict.fromkeys(names))
    inputs = {i.name: i for i in sess.get_inputs()}
    if len(input_parts) == 1 and input_parts[0][0] not in inputs:  # a default name
        input_parts = [(sess.get_inputs()[0].name, tuple(input_parts[0][1]))]
    sizes = [int(np.prod(shape, dtype=np.int64)) for _, shape in input_parts]
    fixed = {}
    for nm, meta in inputs.items():
        if nm not in dict(input_parts):
            dims = [d if isinstance(d, int) and d > 0 else 1 for d in meta.shape]
            fixed[nm] = np.zeros(dims, _ORT_DTYPES.get(meta.type, np.float32))
    rows = []
    for x in np.asarray(X, dtype=np.float64).reshape(len(X), -1):
        feeds, off = dict(fixed), 0
        for (nm, shape), k in zip(input_parts, sizes):
            meta = inputs[nm]
            shape = list(shape)
            if len(meta.shape) == len(shape) + 1:
                shape = [1] + shape
            feeds[nm] = np.asarray(x[off:off + k], _ORT_DTYPES.get(meta.type, np.float32)
                                   ).reshape(shape)
            off += k
        res = dict(zip(run_names, sess.run(run_names, feeds)))
        rows.append(np.concatenate([np.asarray(res[n], np.float64).reshape(-1) for n in names]))
    return np.stack(rows) if rows else np.zeros((0, 0))


def onnxruntime_problems(net, X: np.ndarray, y: np.ndarray, target: int | None = None) -> list[str]:
    """For a network read from ONNX: run the file itself under onnxruntime on the inputs
    ``X`` and compare with the forward pass ``y`` (values, or the argmax when a final
    softmax was dropped); ``target`` must also be onnxruntime's strict argmax."""
    ref = onnx_outputs(net, X)
    if ref is None:
        return []
    dropped = any("oftmax" in n for n in getattr(net, "notes", []))
    out = []
    if dropped:
        if np.any(ref.argmax(axis=1) != y.argmax(axis=1)):
            out.append("onnxruntime's class differs from the forward pass")
    elif not np.allclose(ref, y, rtol=ORT_RTOL, atol=ORT_ATOL):
        out.append(f"onnxruntime's outputs differ from the forward pass by up to "
                   f"{float(np.abs(ref - y).max()):.3g}")
    if target is not None:
        r = ref[0]
        if int(np.argmax(r)) != target:
            out.append(f"under onnxruntime the class is {int(np.argmax(r))}, not {target}")
        elif np.sum(r == r.max()) > 1:
            out.append(f"under onnxruntime (float32) class {target} only ties with another class: "
                       "ask for a larger margin")
    return out


def check_network_answer(query, arrays: dict[str, np.ndarray],
                         tolerance: float = DEFAULT_TOLERANCE) -> NetworkCheck:
    """Re-run the network on the answer's inputs (in numpy, and under onnxruntime for a
    network read from ONNX) and compare with what the solver claims."""
    net = query.network
    problems = []
    if query.kind == "adversarial":
        return _check_adversarial(query, arrays, tolerance)
    if query.kind == "evaluate":
        X = np.asarray(query.inputs, float).reshape(-1, net.n_inputs)
        claimed = arrays["output"]
    else:
        X = arrays["input"].reshape(1, -1)
        claimed = arrays["output"].reshape(1, -1)
        lo, hi = np.asarray(query.input_lo, float), np.asarray(query.input_hi, float)
        out = (X[0] < lo - tolerance) | (X[0] > hi + tolerance)
        if out.any():
            problems.append(f"{int(out.sum())} inputs outside the box")
    y = net.forward(X)
    scale = tolerance * (1.0 + np.abs(y))
    err = np.abs(y - claimed)
    if np.any(err > scale * 10):  # MILP solvers carry ~1e-6 relative error per layer
        problems.append(f"the solver's outputs differ from the forward pass by up to "
                        f"{float(err.max()):.3g}")
    if query.kind == "maximize" and getattr(query, "wins", False):
        problems += _wins_problems(query, y[0], query.output, tolerance)
    problems += onnxruntime_problems(net, X, y, query.output if getattr(query, "wins", False)
                                     else None)
    value = float(y[0, query.output]) if query.kind == "maximize" else None
    return NetworkCheck(not problems, y, value, float(err.max()) if err.size else 0.0, tolerance,
                        problems)


def _wins_problems(query, y: np.ndarray, k: int, tolerance: float) -> list[str]:
    """Class ``k`` is the strict argmax of ``y``, by ``query.margin`` and ``query.ratio``."""
    problems = []
    scale = tolerance * (1.0 + float(np.abs(y).max()))
    win = int(np.argmax(y))
    others = np.delete(y, k)
    if win != k or (others.size and y[k] <= others.max()):
        problems.append(f"the network gives class {win}, not {k} (strictly)")
    elif others.size and y[k] - others.max() < query.margin - scale:
        problems.append(f"class {k} wins by {y[k] - others.max():.3g}, less than the margin "
                        f"{query.margin:g}")
    if query.ratio is not None and np.any(y[k] < query.ratio * others - scale):
        problems.append(f"class {k} is not {query.ratio:g} times every other output")
    return problems


def _check_adversarial(query, arrays, tolerance) -> NetworkCheck:
    """The new input lies in the box (and ball), the network's strict argmax is the
    target (or not the label), by the margin / ratio asked; the distance is recomputed."""
    net = query.network
    problems = []
    x = np.asarray(arrays["input"], float).reshape(-1)
    x0 = np.asarray(query.x0, float).reshape(-1)
    lo, hi = adversarial_box(query)
    outside = (x < lo - tolerance) | (x > hi + tolerance)
    if outside.any():
        problems.append(f"{int(outside.sum())} inputs outside the box")
    y = net.forward(x[None])[0]
    label = query.label if query.label is not None else int(np.argmax(net.forward(x0[None])[0]))
    scale = tolerance * (1.0 + float(np.abs(y).max()))
    win = int(np.argmax(y))
    rivals = np.delete(y, win)
    strict = rivals.size == 0 or y[win] > rivals.max()
    if query.target is not None:
        others = np.delete(y, query.target)
        if win != query.target or not strict:
            problems.append(f"the network gives class {win}, not {query.target} (strictly)")
        elif others.size and y[query.target] - others.max() < query.margin - scale:
            problems.append(f"class {query.target} wins by {y[query.target] - others.max():.3g}, "
                            f"less than the margin {query.margin:g}")
        if query.ratio is not None and np.any(y[query.target] < query.ratio * others - scale):
            problems.append(f"class {query.target} is not {query.ratio:g} times every other output")
    elif win == label or not strict:
        problems.append(f"the network still gives class {label} (or a tie)")
    if not problems:
        problems += onnxruntime_problems(net, x[None], y[None], query.target)
    d = x - x0
    value = {"l1": float(np.abs(d).sum()), "linf": float(np.abs(d).max()) if d.size else 0.0,
             "l0": float(np.sum(np.abs(d) > tolerance))}[query.norm]
    err = float(np.abs(y - np.asarray(arrays["output"], float).reshape(-1)).max())
    return NetworkCheck(not problems, y[None], value, err, tolerance, problems)
