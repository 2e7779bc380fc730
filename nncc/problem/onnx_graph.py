"""Networks kept as their ONNX graph: for ``nncc verify`` on operators that are not
piecewise linear on the input.

The importer (:mod:`nncc.problem.onnx_import`) turns a graph into Affine / ReLU /
MaxPool layers, the form every MILP and SMT encoding needs, and refuses what has
no exact such form: a step of the input (``Greater``, ``Equal``, ``Where`` on such
a condition, ``Cast`` to an integer or to BOOL), a product or quotient of two
input-dependent tensors, a power, a smooth activation (``Sigmoid``, ``Tanh``,
``Exp``, ...). :class:`GraphNetwork` keeps such a graph as its nodes and
evaluates it two ways, with one implementation of each operator:

* **at a point** (:meth:`GraphNetwork.forward`), in float64, the reference the
  counterexample check compares with onnxruntime;
* **over a box** (:meth:`GraphNetwork.bounds`): every tensor is an interval per
  entry (a boolean one is "surely true" / "maybe true"), widened outward after
  every rounded operation, so the true outputs of every input of the box lie
  in the bounds. Products, quotients and powers take the extremes of their
  endpoints (each is monotone in each argument on the pieces used); a step is
  exact wherever the box decides it and both values otherwise.

:mod:`nncc.analysis.graph_split` splits boxes on these bounds. Semantics are the
importer's: real arithmetic, float32 constants read as their shortest decimals,
a Cast to a float type the identity; a Cast to an integer type truncates toward
zero (onnxruntime's), out of the type's range it is unbounded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .onnx_import import (RANDOM_OPS, Importer, NotPiecewiseLinear, load_onnx, node_attrs,
                          node_label, read_onnx_file, tensor_to_numpy)

_EPS = float(np.finfo(np.float64).eps)
_INF = np.inf

# ONNX element types -> kind; integer ranges for Cast
_FLOAT_T = {1, 10, 11, 16}
_INT_RANGE = {2: (0, 255), 3: (-128, 127), 4: (0, 65535), 5: (-32768, 32767),
              6: (-2 ** 31, 2 ** 31 - 1), 7: (-2 ** 63, 2 ** 63 - 1), 12: (0, 2 ** 32 - 1),
              13: (0, 2 ** 64 - 1)}
_BOOL_T = 9

# Operators that only move or copy entries (their other inputs constant): the same
# operator on the lower and on the upper ends
_MOVES = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice",
          "Gather", "Expand", "Tile", "Split", "DepthToSpace", "SpaceToDepth", "Pad",
          "Identity"}
# Non-decreasing entry-wise or order-preserving operators, exact in float64
_MONOTONE_EXACT = {"Relu", "MaxPool", "GlobalMaxPool", "ReduceMax", "ReduceMin", "Floor", "Ceil",
                   "Round", "Sign", "Clip"}
# Linear on each side of 0 (any slope): the extremes are at the ends or at 0
_KINKED = {"LeakyRelu", "PRelu"}
# Non-decreasing, rounded (a few ulps of libm error: widened)
_MONOTONE_ROUNDED = {"Sigmoid", "Tanh", "Exp", "Softplus", "Softsign", "Erf", "Sqrt", "Log",
                     "HardSigmoid", "Elu", "Selu"}
# Non-negative linear maps: non-decreasing, rounded by sums
_MONOTONE_SUMS = {"ReduceSum", "ReduceMean", "AveragePool", "GlobalAveragePool"}
_ARITH = {"Add", "Sub", "Sum", "Mul", "Div", "Neg", "Abs", "Reciprocal", "Pow", "MatMul", "Gemm",
          "Conv", "BatchNormalization", "Softmax", "LogSoftmax"}
_LOGIC = {"Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal", "Not", "And", "Or", "Xor",
          "Where", "Cast", "CastLike"}
_STRUCT = {"Shape", "Size", "Dropout"}
GRAPH_OPS = frozenset(_MOVES | _MONOTONE_EXACT | _KINKED | _MONOTONE_ROUNDED | _MONOTONE_SUMS
                      | _ARITH | _LOGIC | _STRUCT | {"Constant", "ConstantOfShape"})


class GraphUnsupported(Exception):
    """What the graph evaluator cannot bound (the importer's message stands)."""


@dataclass
class Iv:
    """An input-dependent tensor: entry-wise bounds ``lo <= value <= hi`` (float64);
    ``kind`` float, int (integer values) or bool (0 / 1: ``lo`` surely, ``hi`` maybe)."""

    lo: np.ndarray
    hi: np.ndarray
    kind: str = "float"

    @property
    def shape(self):
        return self.lo.shape


def _kind_of(a: np.ndarray) -> str:
    if a.dtype == bool:
        return "bool"
    return "int" if np.issubdtype(a.dtype, np.integer) else "float"


def _iv(v) -> Iv:
    if isinstance(v, Iv):
        return v
    a = np.asarray(v)
    f = a.astype(np.float64)
    return Iv(f, f, _kind_of(a))


def _clean(lo, hi):
    """NaN bounds (inf - inf, 0 * inf): unbounded on that side."""
    lo = np.where(np.isnan(lo), -_INF, lo)
    hi = np.where(np.isnan(hi), _INF, hi)
    return lo, hi


class _Eval:
    """One evaluation of the graph: at a point (``exact``) or over a box."""

    def __init__(self, net: "GraphNetwork", exact: bool):
        self.net = net
        self.exact = exact

    def widen(self, lo, hi, err=None, rel: float = 2.0):
        """Outward by ``err`` (absolute) or ``rel`` ulps of the values, and one more ulp."""
        if self.exact:   # a point: the float64 value as it is (NaN stays NaN)
            return np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        lo, hi = _clean(np.asarray(lo, np.float64), np.asarray(hi, np.float64))
        with np.errstate(invalid="ignore", over="ignore"):
            el = rel * _EPS * np.abs(lo) if err is None else err
            eh = rel * _EPS * np.abs(hi) if err is None else err
            lo = np.nextafter(np.where(np.isfinite(lo), lo - el, lo), -_INF)
            hi = np.nextafter(np.where(np.isfinite(hi), hi + eh, hi), _INF)
        return _clean(lo, hi)

    def point(self, fn, *xs):
        """``fn`` on the endpoints of every combination; the entry-wise extremes (exact
        for a function monotone in each argument on the box)."""
        ivs = [_iv(x) for x in xs]
        with np.errstate(all="ignore"):
            if self.exact:
                v = np.asarray(fn(*[iv.lo for iv in ivs]), np.float64)
                return v, v
            vals = []
            for mask in range(2 ** len(ivs)):
                args = [iv.hi if mask >> k & 1 else iv.lo for k, iv in enumerate(ivs)]
                vals.append(np.asarray(fn(*args), np.float64))
            V = np.stack(np.broadcast_arrays(*vals))
            bad = np.isnan(V)
            lo = np.where(bad.any(0), -_INF, np.where(bad, _INF, V).min(0))
            hi = np.where(bad.any(0), _INF, np.where(bad, -_INF, V).max(0))
        return lo, hi


class GraphNetwork:
    """An ONNX graph kept as its nodes (see the module docstring): what
    :func:`nncc.pipeline.verify.verify` needs of a network (sizes, parts, ``source``,
    ``forward``) and :meth:`bounds` for box splitting."""

    layers = ()
    input_box = None
    input_clip = False
    output_softmax = None
    softmax_groups = None
    kind = "graph"

    def __init__(self, name, path, nodes, consts, input_parts, out_names, output_parts, opset,
                 notes):
        self.name = name
        self.path = path
        self.source = f"onnx:{path}"
        self.nodes = nodes                # [(index, node)] the outputs need, in order
        self.consts = consts              # tensor name -> np.ndarray
        self.out_names = out_names
        self.output_parts = output_parts  # [(name, shape)]
        self.opset = opset
        self.notes = notes
        self.n_inputs = int(sum(np.prod(s, dtype=np.int64) for _, s, _ in input_parts))
        self.input_shape = (input_parts[0][1] if len(input_parts) == 1 else (self.n_inputs,))
        self.input_name = ",".join(p[0] for p in input_parts)
        self.output_name = ",".join(out_names)
        self.input_parts = [(nm, s) for nm, s, _ in input_parts]   # without the batch
        self._graph_shapes = [g for _, _, g in input_parts]         # as the graph has them
        self._ref: dict = {}
        self.ops = sorted({node.op_type for _, node in nodes})
        if output_parts is None:   # from one evaluation at zero
            vals = self._walk(np.zeros(self.n_inputs), np.zeros(self.n_inputs), True)
            batch = any(len(g) == len(s) + 1 for g, s in zip(self._graph_shapes,
                                                              (s for _, s in self.input_parts)))
            output_parts = []
            for o in out_names:
                shp = tuple(np.shape(vals[o].lo if isinstance(vals[o], Iv) else vals[o]))
                output_parts.append((o, shp[1:] if batch and len(shp) >= 2 and shp[0] == 1
                                     else shp))
        self.output_parts = output_parts
        self.n_outputs = int(sum(np.prod(s, dtype=np.int64) for _, s in output_parts))
        self.output_shape = (output_parts[0][1] if len(output_parts) == 1 else (self.n_outputs,))

    # ------------------------------------------------------------------ api
    @property
    def n_relus(self) -> int:
        return 0

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Outputs (N, n_outputs) of the rows of ``X``, in float64."""
        X = np.asarray(X, np.float64).reshape(-1, self.n_inputs)
        out = np.empty((len(X), self.n_outputs))
        for r, x in enumerate(X):
            out[r] = self._run(x, x, True).lo
        return out

    def bounds(self, lo: np.ndarray, hi: np.ndarray) -> Iv:
        """Bounds of the flat outputs over the box ``lo <= x <= hi``."""
        return self._run(np.asarray(lo, np.float64), np.asarray(hi, np.float64), False)

    def describe(self) -> str:
        return f"the ONNX graph ({len(self.nodes)} nodes: {', '.join(self.ops)})"

    # ----------------------------------------------------------------- walk
    def _run(self, lo, hi, exact: bool) -> Iv:
        vals = self._walk(lo, hi, exact)
        outs = [_iv(vals[n]) for n in self.out_names]
        return Iv(np.concatenate([o.lo.reshape(-1) for o in outs]),
                  np.concatenate([o.hi.reshape(-1) for o in outs]))

    def _walk(self, lo, hi, exact: bool) -> dict:
        """Every tensor's value (constant) or bounds (:class:`Iv`)."""
        ev = _Eval(self, exact)
        vals: dict = dict(self.consts)
        off = 0
        for (nm, _), shape in zip(self.input_parts, self._graph_shapes):
            k = int(np.prod(shape, dtype=np.int64))
            vals[nm] = Iv(lo[off:off + k].reshape(shape), hi[off:off + k].reshape(shape))
            off += k
        for i, node in self.nodes:
            try:
                res = self._node(ev, vals, i, node)
            except (GraphUnsupported, InputError):
                raise
            except Exception as e:
                raise InputError(f"'{self.path}': cannot evaluate node {node_label(node, i)} "
                                 f"({node.op_type}): {str(e).splitlines()[0] if str(e) else e!r}"
                                 ) from None
            for o, r in zip(node.output, res):
                if o:
                    vals[o] = r
        return vals

    def _reference(self, i, node, feeds):
        from onnx.reference import ReferenceEvaluator
        ref = self._ref.get(i)
        if ref is None:
            ref = self._ref[i] = ReferenceEvaluator(node, opsets={"": self.opset})
        with np.errstate(all="ignore"):   # overflow to inf is part of the bounds
            return ref.run(None, feeds)

    def _same(self, ev, vals, i, node, kind=None):
        """The node on the lower ends, then on the upper ends (constants as they are)."""
        ivs = [vals[x] if x else None for x in node.input]
        lo_f = {x: (v.lo if isinstance(v, Iv) else v) for x, v in zip(node.input, ivs) if x}
        hi_f = {x: (v.hi if isinstance(v, Iv) else v) for x, v in zip(node.input, ivs) if x}
        lo = self._reference(i, node, lo_f)
        hi = lo if ev.exact else self._reference(i, node, hi_f)   # a point: once
        k = kind or next(v.kind for v in ivs if isinstance(v, Iv))
        return [Iv(np.asarray(a, np.float64), np.asarray(b, np.float64), k) for a, b in zip(lo, hi)]

    def _node(self, ev: _Eval, vals: dict, i: int, node):
        op = node.op_type
        a = node_attrs(node)
        ins = [vals[x] if x else None for x in node.input]
        dep = [isinstance(v, Iv) for v in ins]
        if not any(dep):   # constants (folded at load, or made of folded shapes)
            return self._reference(i, node, {x: v for x, v in zip(node.input, ins) if x})
        label = node_label(node, i)

        def need_const(k, what):
            if k < len(dep) and dep[k]:
                raise GraphUnsupported(f"{op} node {label}: its {what} depends on the input")
        if op in ("Shape", "Size"):
            return self._reference(i, node, {node.input[0]: ins[0].lo})
        if op == "Dropout":
            if len(node.output) > 1 and node.output[1]:
                raise GraphUnsupported(f"Dropout node {label}: its mask output is used")
            need_const(2, "training mode")
            if len(ins) > 2 and ins[2] is not None and bool(np.asarray(ins[2]).any()):
                raise GraphUnsupported(f"Dropout node {label} is in training mode")
            return [ins[0]]
        if op in _MOVES:
            if op == "Concat":
                kinds = {v.kind for v in ins if isinstance(v, Iv)}
                return self._same(ev, vals, i, node, kind=kinds.pop() if len(kinds) == 1
                                  else "float")
            for k in range(1, len(ins)):
                need_const(k, "index or shape operand")
            return self._same(ev, vals, i, node)
        if op in _MONOTONE_EXACT or op in _MONOTONE_ROUNDED or op in _MONOTONE_SUMS:
            for k in range(1, len(ins)):
                need_const(k, "second operand")
            if op in ("Elu", "Selu", "HardSigmoid") and (a.get("alpha", 1.0) < 0
                                                        or a.get("gamma", 1.0) < 0):
                raise GraphUnsupported(f"{op} node {label}: a negative coefficient")
            outs = self._same(ev, vals, i, node)
            r = outs[0]
            if op in _MONOTONE_ROUNDED:
                lo, hi = ev.widen(r.lo, r.hi, rel=16.0)
            elif op in _MONOTONE_SUMS:
                x = ins[0]
                mag = np.maximum(np.abs(x.lo), np.abs(x.hi))
                mag = np.where(np.isfinite(mag), mag, 0.0)
                s = self._reference(i, node, {node.input[0]: mag})[0]
                terms = max(int(x.lo.size // max(r.lo.size, 1)), 1)
                lo, hi = ev.widen(r.lo, r.hi, err=(terms + 2) * _EPS * np.abs(s)
                                  + 4 * np.finfo(float).tiny)
            else:
                lo, hi = _clean(r.lo, r.hi)
            kind = "float" if op in _MONOTONE_ROUNDED or op in _MONOTONE_SUMS else r.kind
            return [Iv(lo, hi, kind)] + outs[1:]
        if op in _KINKED:
            need_const(1, "slope")
            r = self._same(ev, vals, i, node)[0]
            x = ins[0]
            lo, hi = np.minimum(r.lo, r.hi), np.maximum(r.lo, r.hi)
            straddle = (x.lo < 0) & (x.hi > 0)
            lo, hi = np.where(straddle, np.minimum(lo, 0.0), lo), np.where(straddle,
                                                                            np.maximum(hi, 0.0), hi)
            return [Iv(*ev.widen(lo, hi), "float")]
        if op in _ARITH:
            return [self._arith(ev, op, a, node, ins, label)]
        if op in _LOGIC:
            return [self._logic(ev, op, a, node, ins, label)]
        raise GraphUnsupported(f"{op} node {label}")

    # ---------------------------------------------------------- arithmetic
    def _arith(self, ev: _Eval, op, a, node, ins, label) -> Iv:
        xs = [_iv(v) for v in ins if v is not None]
        kind = "int" if all(x.kind in ("int", "bool") for x in xs) else "float"
        if op in ("Add", "Sum"):
            lo, hi = xs[0].lo, xs[0].hi
            for x in xs[1:]:
                with np.errstate(invalid="ignore"):
                    lo, hi = lo + x.lo, hi + x.hi
                lo, hi = ev.widen(lo, hi, rel=1.0)
            return Iv(lo, hi, kind)
        if op == "Sub":
            with np.errstate(invalid="ignore"):
                return Iv(*ev.widen(xs[0].lo - xs[1].hi, xs[0].hi - xs[1].lo, rel=1.0), kind)
        if op == "Neg":
            return Iv(-xs[0].hi, -xs[0].lo, kind)
        if op == "Abs":
            x = xs[0]
            lo = np.where(x.lo >= 0, x.lo, np.where(x.hi <= 0, -x.hi, 0.0))
            return Iv(lo, np.maximum(np.abs(x.lo), np.abs(x.hi)), kind)
        if op == "Mul":
            if node.input[0] == node.input[1]:   # a square: never negative
                x = xs[0]
                straddle = (x.lo < 0) & (x.hi > 0)
                lo, hi = ev.point(lambda u: u * u, x)
                lo, hi = ev.widen(np.where(straddle, 0.0, lo), hi)
                return Iv(np.maximum(lo, 0.0), hi, kind)   # rounding keeps a square >= 0
            return Iv(*ev.widen(*ev.point(np.multiply, *xs)), kind)
        if op in ("Div", "Reciprocal"):
            num, den = (xs[0], xs[1]) if op == "Div" else (_iv(np.ones(())), xs[0])
            zero = (den.lo <= 0) & (den.hi >= 0)
            if ev.exact:
                with np.errstate(all="ignore"):
                    q = num.lo / den.lo
                    if op == "Div" and kind == "int":
                        q = np.trunc(q)
                return Iv(q, q, kind)
            lo, hi = ev.point(np.divide, num, den)
            lo, hi = ev.widen(np.where(zero, -_INF, lo), np.where(zero, _INF, hi))
            if op == "Div" and kind == "int":
                lo, hi = np.trunc(lo), np.trunc(hi)
            return Iv(lo, hi, kind)
        if op == "Pow":
            return self._pow(ev, xs[0], xs[1], isinstance(ins[1], Iv), kind)
        if op in ("MatMul", "Gemm"):
            return self._matmul(ev, op, a, ins, label)
        if op == "Conv":
            return self._conv(ev, node, ins, label)
        if op == "BatchNormalization":
            for k in range(1, 5):
                if isinstance(ins[k], Iv):
                    raise GraphUnsupported(f"BatchNormalization node {label}: its statistics "
                                           "depend on the input")
            if a.get("training_mode", 0):
                raise GraphUnsupported(f"BatchNormalization node {label} is in training mode")
            x = xs[0]
            scale, bias, mean, var = (np.asarray(v, np.float64) for v in ins[1:5])
            k = scale / np.sqrt(var + a.get("epsilon", 1e-5))
            shape = (1, -1) + (1,) * (x.lo.ndim - 2)
            k, c = k.reshape(shape), (bias - k * mean).reshape(shape)
            lo, hi = ev.point(lambda u: u * k + c, x)
            return Iv(*ev.widen(lo, hi, rel=4.0))
        if op in ("Softmax", "LogSoftmax"):
            return self._softmax(ev, op, a, xs[0], label)
        raise GraphUnsupported(f"{op} node {label}")

    def _pow(self, ev: _Eval, base: Iv, expo: Iv, expo_dep: bool, kind: str) -> Iv:
        with np.errstate(all="ignore"):
            lo, hi = ev.point(np.power, base, expo)
            if not expo_dep:
                e = np.broadcast_to(expo.lo, np.broadcast_shapes(base.shape, expo.shape))
                blo = np.broadcast_to(base.lo, e.shape)
                bhi = np.broadcast_to(base.hi, e.shape)
                integer = e == np.round(e)
                even = integer & (np.mod(e, 2) == 0)
                straddle = (blo < 0) & (bhi > 0)
                has_zero = (blo <= 0) & (bhi >= 0)
                lo = np.where(even & (e > 0) & straddle, 0.0, lo)
                wild = ((e < 0) & has_zero) | (~integer & (blo < 0))
            else:   # base ** x: monotone in x only where the base is positive
                wild = np.broadcast_to(base.lo <= 0, lo.shape)
                if ev.exact:
                    wild = np.zeros(lo.shape, bool)
            if ev.exact:
                return Iv(lo, hi, kind)
            lo, hi = np.where(wild, -_INF, lo), np.where(wild, _INF, hi)
            lo, hi = ev.widen(lo, hi, rel=8.0)
            if not expo_dep:   # an even power is never negative, rounded or not
                lo = np.where(even & (e > 0), np.maximum(lo, 0.0), lo)
            return Iv(lo, hi, kind)

    def _matmul(self, ev: _Eval, op, a, ins, label) -> Iv:
        A, B = ins[0], ins[1]
        if op == "Gemm":
            if a.get("transA", 0):
                A = (Iv(A.lo.T, A.hi.T, A.kind) if isinstance(A, Iv) else np.asarray(A).T)
            if a.get("transB", 0):
                B = (Iv(B.lo.T, B.hi.T, B.kind) if isinstance(B, Iv) else np.asarray(B).T)
        if isinstance(A, Iv) and isinstance(B, Iv):
            a1, b1 = A.lo.ndim == 1, B.lo.ndim == 1   # numpy's promotion of vectors
            Al, Ah = (A.lo[None], A.hi[None]) if a1 else (A.lo, A.hi)
            Bl, Bh = (B.lo[:, None], B.hi[:, None]) if b1 else (B.lo, B.hi)
            lo, hi = ev.point(np.multiply, Iv(Al[..., :, :, None], Ah[..., :, :, None]),
                              Iv(Bl[..., None, :, :], Bh[..., None, :, :]))
            k = Al.shape[-1]
            mag = np.maximum(np.abs(lo), np.abs(hi))
            lo, hi = lo.sum(-2), hi.sum(-2)
            err = (k + 2) * _EPS * np.where(np.isfinite(mag), mag, 0).sum(-2)
            if b1:
                lo, hi, err = lo[..., 0], hi[..., 0], err[..., 0]
            if a1:
                lo, hi, err = lo[..., 0, :], hi[..., 0, :], err[..., 0, :]
        else:
            if isinstance(A, Iv):
                W = np.asarray(B, np.float64)
                c, r = (A.lo + A.hi) / 2, (A.hi - A.lo) / 2
                with np.errstate(invalid="ignore"):
                    yc, yr = c @ W, r @ np.abs(W)
                    mag = (np.abs(c) + r) @ np.abs(W)
                k = W.shape[-2] if W.ndim >= 2 else W.size
            else:
                W = np.asarray(A, np.float64)
                c, r = (B.lo + B.hi) / 2, (B.hi - B.lo) / 2
                with np.errstate(invalid="ignore"):
                    yc, yr = W @ c, np.abs(W) @ r
                    mag = np.abs(W) @ (np.abs(c) + r)
                k = W.shape[-1]
            if ev.exact:
                lo = hi = yc
                err = 0
            else:
                lo, hi = yc - yr, yc + yr
                err = (k + 4) * _EPS * mag
        if op == "Gemm":
            alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
            lo, hi = (alpha * lo, alpha * hi) if alpha >= 0 else (alpha * hi, alpha * lo)
            err = abs(alpha) * err
            if len(ins) > 2 and ins[2] is not None:
                C = _iv(ins[2])
                cl, ch = (beta * C.lo, beta * C.hi) if beta >= 0 else (beta * C.hi, beta * C.lo)
                lo, hi = lo + cl, hi + ch
                err = err + 2 * _EPS * (np.abs(lo) + np.abs(hi))
        if ev.exact:
            return Iv(*_clean(lo, hi))
        return Iv(*ev.widen(lo, hi, err=err))

    def _conv(self, ev: _Eval, node, ins, label) -> Iv:
        if any(isinstance(v, Iv) for v in ins[1:]):
            raise GraphUnsupported(f"Conv node {label}: its weights depend on the input")
        W = np.asarray(ins[1], np.float64)
        x = ins[0]
        ref = self._ref.get(("conv", label))
        if ref is None:   # the node without its bias
            import onnx
            from onnx.reference import ReferenceEvaluator
            bare = onnx.helper.make_node("Conv", ["x", "w"], ["y"], **node_attrs(node))
            ref = self._ref[("conv", label)] = ReferenceEvaluator(bare, opsets={"": self.opset})
        c, r = (x.lo + x.hi) / 2, (x.hi - x.lo) / 2
        with np.errstate(all="ignore"):
            yc = ref.run(None, {"x": c, "w": W})[0]
        if len(ins) > 2 and ins[2] is not None:
            yc = yc + np.asarray(ins[2], np.float64).reshape(1, -1, *([1] * (yc.ndim - 2)))
        if ev.exact:
            return Iv(yc, yc)
        with np.errstate(all="ignore"):
            yr = ref.run(None, {"x": r, "w": np.abs(W)})[0]
            mag = ref.run(None, {"x": np.abs(c) + r, "w": np.abs(W)})[0]
        k = int(np.prod(W.shape[1:]))
        return Iv(*ev.widen(yc - yr, yc + yr, err=(k + 4) * _EPS * (mag + np.abs(yc))))

    def _softmax(self, ev: _Eval, op, a, x: Iv, label) -> Iv:
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        axis = axis % x.lo.ndim
        if self.opset < 13 and axis != x.lo.ndim - 1 and int(np.prod(x.shape[axis + 1:])) != 1:
            raise GraphUnsupported(f"{op} node {label}: a softmax over flattened axes (opset < 13)")
        lo_x, hi_x = np.moveaxis(x.lo, axis, -1), np.moveaxis(x.hi, axis, -1)
        n = lo_x.shape[-1]
        with np.errstate(all="ignore"):
            # entry i is smallest when it is lowest and the others highest
            def part(own, other):
                d = other[..., None, :] - own[..., :, None]      # [.., i, j]
                e = np.exp(d)
                e[..., np.arange(n), np.arange(n)] = 0.0
                return e.sum(-1)
            s_lo, s_hi = part(lo_x, hi_x), part(hi_x, lo_x)
            if op == "Softmax":
                lo, hi = 1.0 / (1.0 + s_lo), 1.0 / (1.0 + s_hi)
            else:
                lo, hi = -np.log1p(s_lo), -np.log1p(s_hi)
        lo, hi = np.moveaxis(lo, -1, axis), np.moveaxis(hi, -1, axis)
        if ev.exact:
            return Iv(lo, hi)
        lo, hi = ev.widen(lo, hi, rel=8.0 * (n + 2))
        if op == "Softmax":   # probabilities
            lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
        return Iv(lo, hi)

    # ---------------------------------------------------------------- logic
    def _logic(self, ev: _Eval, op, a, node, ins, label) -> Iv:
        if op in ("Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal"):
            x, y = _iv(ins[0]), _iv(ins[1])
            if op in ("Less", "LessOrEqual"):
                x, y = y, x
            if op in ("Greater", "Less"):
                sure, maybe = x.lo > y.hi, x.hi > y.lo
            elif op == "Equal":
                sure = (x.lo == x.hi) & (y.lo == y.hi) & (x.lo == y.lo)
                maybe = (x.hi >= y.lo) & (y.hi >= x.lo)
            else:
                sure, maybe = x.lo >= y.hi, x.hi >= y.lo
            return Iv(sure.astype(np.float64), maybe.astype(np.float64), "bool")
        if op == "Not":
            x = _iv(ins[0])
            return Iv(1.0 - x.hi, 1.0 - x.lo, "bool")
        if op in ("And", "Or", "Xor"):
            x, y = _iv(ins[0]), _iv(ins[1])
            if op == "And":
                return Iv(x.lo * y.lo, x.hi * y.hi, "bool")
            if op == "Or":
                return Iv(np.maximum(x.lo, y.lo), np.maximum(x.hi, y.hi), "bool")
            lo = np.maximum(x.lo * (1 - y.hi), (1 - x.hi) * y.lo)
            hi = np.maximum(x.hi * (1 - y.lo), (1 - x.lo) * y.hi)
            return Iv(lo, hi, "bool")
        if op == "Where":
            c, x, y = _iv(ins[0]), _iv(ins[1]), _iv(ins[2])
            kind = x.kind if x.kind == y.kind else "float"
            lo = np.where(c.lo == 1, x.lo, np.where(c.hi == 0, y.lo, np.minimum(x.lo, y.lo)))
            hi = np.where(c.lo == 1, x.hi, np.where(c.hi == 0, y.hi, np.maximum(x.hi, y.hi)))
            return Iv(lo, hi, kind)
        if op in ("Cast", "CastLike"):
            x = ins[0]
            if op == "Cast":
                to = int(a.get("to", 0))
            else:
                t = ins[1]
                if isinstance(t, Iv):
                    to = {"float": 11, "int": 7, "bool": _BOOL_T}[t.kind]
                else:
                    import onnx
                    to = int(onnx.helper.np_dtype_to_tensor_dtype(np.asarray(t).dtype))
            if to in _FLOAT_T:
                if to == 10 and "a Cast to float16 was taken as the identity" not in self.notes:
                    self.notes.append("a Cast to float16 was taken as the identity")
                return Iv(x.lo, x.hi, "float")
            if to == _BOOL_T:
                sure = (x.lo > 0) | (x.hi < 0)
                maybe = (x.lo != 0) | (x.hi != 0)
                return Iv(sure.astype(np.float64), maybe.astype(np.float64), "bool")
            if to in _INT_RANGE:
                lo_t, hi_t = _INT_RANGE[to]
                lo, hi = np.trunc(x.lo), np.trunc(x.hi)
                out = (x.lo <= lo_t - 1) | (x.hi >= hi_t + 1) | np.isnan(x.lo) | np.isnan(x.hi)
                return Iv(np.where(out, -_INF, lo), np.where(out, _INF, hi), "int")
            raise GraphUnsupported(f"{op} node {label}: a cast to element type {to}")
        raise GraphUnsupported(f"{op} node {label}")


class _GraphReader(Importer):
    """The importer's reading of inputs, outputs and constants, without its walk."""

    def read(self, name: str) -> GraphNetwork:
        parts = self._inputs()
        out_names = self._outputs()
        g = self.graph
        needed = self._needed(out_names)
        const = {t.name for t in g.initializer}
        for t in g.initializer:
            self.values[t.name] = tensor_to_numpy(t)
            if t.data_type == 1:
                self.f32.add(t.name)
        in_names = {p[0] for p in parts}
        read = {x for i in needed for x in g.node[i].input if x} | set(out_names)
        missing = [i.name for i in g.input if i.name in read and i.name not in const
                   and i.name not in in_names]
        if missing:
            raise InputError(f"'{self.path}': the outputs depend on the graph input "
                             f"'{missing[0]}', which is not among the inputs asked for")
        bad, nodes = [], []
        for i, node in enumerate(g.node):
            if i not in needed:
                continue
            self.index = i
            label = f"{node.op_type} (node {node_label(node, i)})"
            is_const = node.op_type == "Constant" or (
                len(node.input) > 0 and all(x in const or not x for x in node.input))
            if node.domain not in ("", "ai.onnx") or node.op_type in RANDOM_OPS:
                bad.append(label)
            elif is_const:
                try:
                    self._fold(node)
                except InputError:
                    raise
                except Exception as e:
                    raise InputError(f"'{self.path}': cannot fold node {node_label(node, i)} "
                                     f"({node.op_type}): {str(e).splitlines()[0]}") from None
                const.update(o for o in node.output if o)
            elif node.op_type not in GRAPH_OPS:
                bad.append(label)
            else:
                nodes.append((i, node))
        if bad:
            raise GraphUnsupported(", ".join(bad))
        input_parts = [(nm, dims[1:] if hb else dims, dims) for nm, dims, hb in parts]
        net = GraphNetwork(name, self.path, nodes, dict(self.values), input_parts, out_names,
                           None, self.opset, [])
        net.notes = [f"the network is not piecewise linear ({', '.join(net.ops)}): verified on "
                     "its ONNX graph by interval bounds and box splitting"]
        return net


def load_graph(path: str, name: str | None = None, *, inputs=None, outputs=None) -> GraphNetwork:
    """The ONNX file as a :class:`GraphNetwork`; :class:`GraphUnsupported` when some
    operator it needs is outside :data:`GRAPH_OPS`."""
    from pathlib import Path
    model = read_onnx_file(path)
    reader = _GraphReader(model, str(path), False, inputs, outputs)
    return reader.read(name or Path(path).stem)


def load_onnx_or_graph(path: str, name: str | None = None, **kw):
    """The importer's network, or where it refuses an operator that is not piecewise
    linear, the :class:`GraphNetwork` of the file (for ``nncc verify``); the importer's
    message where the graph evaluator cannot take the file either."""
    try:
        return load_onnx(path, name, **kw)
    except NotPiecewiseLinear as e:
        try:
            return load_graph(path, name, inputs=kw.get("inputs"), outputs=kw.get("outputs"))
        except GraphUnsupported as g:
            raise InputError(f"{e.message} (nor can nncc bound its graph: {g})") from None
