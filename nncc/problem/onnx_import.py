"""Import a trained ONNX network as a :class:`FixedNetwork`.

The graph is evaluated *symbolically*: every tensor that depends on the
network input is held as an affine expression ``A v + c`` of the current
"base" vector ``v`` -- the network input at first, then the output of the
last non-linear layer emitted. Linear operators (Gemm, MatMul, Add, Sub, Sum,
Neg, Mul and Div by constants, Conv, BatchNormalization, AveragePool,
GlobalAveragePool, ReduceSum, ReduceMean) and data movement (Reshape,
Flatten, Transpose, Squeeze, Unsqueeze, Concat with constants, Split, Slice,
Gather with constant indices, Expand, Tile, Pad, DepthToSpace, SpaceToDepth,
Identity, inference Dropout, Where on a constant condition, Cast and
CastLike to a float type, Pow by the exponent 1) only update ``A`` and
``c``, so a whole chain of them folds into one :class:`Affine` layer. A
non-linear operator (Relu,
MaxPool, and the piecewise-linear ops written with Relu: LeakyRelu, PRelu,
Clip, Abs) emits the Affine that computes its input from the base, then the
non-linear layer, whose output becomes the new base.

Tensors that are still needed *after* a non-linear layer (a skip connection,
or MIPVerify's masked ReLU ``Relu(z) * M0 + z * M1``) are carried through it
exactly: a Relu layer carries ``z`` as the unit pair ``relu(z), relu(-z)``
(``z = relu(z) - relu(-z)``), a MaxPool layer as one-element groups. Units no
later layer reads are removed at the end.

Tensors are tracked with their ONNX shape and a batch size of 1 (a symbolic
leading dimension is taken as 1): with one sample, every operator's ONNX
semantics is exact, and the flat C-order vector of the batch-1 tensor is the
flat vector of the sample. ``FixedNetwork.input_shape`` drops that leading
batch dimension.

Several graph inputs make one flat input vector, their flat values
concatenated in order (``load_onnx(inputs=...)``, default: graph order), and
several outputs one flat output vector (``outputs=...``: graph outputs or any
intermediate tensor, a hidden node; default: the graph outputs). Only the
nodes the outputs depend on are imported. ``FixedNetwork.input_parts`` /
``output_parts`` record the (name, shape) of each part.

Constant sub-graphs (shape arithmetic such as Shape -> Gather -> Concat ->
Reshape, ConstantOfShape, comparisons, Not / And / Or and casts of constants)
are folded with the ONNX reference implementation. Refused, with the
operator and the reason: smooth operators (Sigmoid, Tanh, Exp, a Softmax that
is not dropped, ...), steps on tensors that depend on the input (comparisons,
a Cast to an integer or bool type, Floor, Sign, ..., Where on such a
condition), Pow by any exponent but 1, random operators (even on constants:
onnxruntime draws again at every run) and Dropout in training mode.

Reshape) are folded with the ONNX reference implementation.

A dense network needs neither the onnx package nor scipy (each costs more CPU
to import than the rest of a small verification): the file is read by
:mod:`nncc.problem.onnx_proto`, Flatten / Reshape / Transpose are done in
numpy, and the input and each new base start as a :class:`_Sel` (at most one
non-zero per row), which stays one through data movement, scaling and sums
of such tensors and meets the weights in a numpy product. Anything else
turns it into the CSR matrix the code would otherwise hold, the same values
and structure, and goes on with scipy.sparse as before.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nncc.errors import InputError
from nncc.problem.fixed_network import (Affine, FixedNetwork, MaxPool, Relu,
                                        as_dense_if_full, issparse,
                                        merge_consecutive_affine, prune_dead_relu_units)

# Operators accepted on tensors that depend on the network input.
_LINEAR_OPS = {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Sum", "Conv",
               "BatchNormalization", "AveragePool", "GlobalAveragePool", "ReduceSum",
               "ReduceMean"}
_MOVE_OPS = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice",
             "Gather", "Expand", "Tile", "Split", "Pad", "DepthToSpace", "SpaceToDepth"}
_PASS_OPS = {"Identity", "Dropout"}
# Accepted when their other operands are constants that make them exact: Cast and
# CastLike to a float type (the identity), Pow by the exponent 1, Where on a constant
# condition (it selects entries).
_CHECKED_OPS = {"Cast", "CastLike", "Pow", "Where"}
_NONLINEAR_OPS = {"Relu", "MaxPool", "GlobalMaxPool", "LeakyRelu", "PRelu", "Clip", "Abs"}
_STRUCTURAL_OPS = {"Shape", "Size", "Constant"}
SUPPORTED_OPS = (_LINEAR_OPS | _MOVE_OPS | _PASS_OPS | _CHECKED_OPS | _NONLINEAR_OPS
                 | _STRUCTURAL_OPS)
SOFTMAX_OPS = {"Softmax", "LogSoftmax"}
# what may follow a softmax that is left out: moves of its values only
_FINAL_MOVES = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"}
# Refused even on constants: folding would fix one draw, onnxruntime draws again each run.
RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
               "Bernoulli", "Multinomial"}
# Why an unsupported operator on an input-dependent tensor cannot be encoded, by op.
_SMOOTH = ("Sigmoid", "Tanh", "Exp", "Log", "Softplus", "Softsign", "Elu", "Selu", "Celu",
           "Gelu", "Erf", "Sqrt", "Reciprocal", "Sin", "Cos", "Mish", "HardSwish", "Softmax",
           "LogSoftmax")
_STEPS = ("Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or",
          "Xor", "Sign", "Floor", "Ceil", "Round", "ArgMax", "ArgMin")
_REASONS = {**{op: "not piecewise linear" for op in _SMOOTH},
            **{op: "a step on a tensor that depends on the input, not continuous (folded "
                   "only on constants)" for op in _STEPS},
            **{op: "random, not a function of the input" for op in RANDOM_OPS},
            **{op: "control flow on tensors that depend on the input" for op in
               ("If", "Loop", "Scan")}}
_FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64"}  # TensorProto FLOAT, FLOAT16, DOUBLE
# A Clip bound beyond this is never added outside a relu (see _nonlinear)
_CLIP_BIG = 1e4
_F32_MAX = float(np.finfo(np.float32).max)

_PWL_HINT = "nncc encodes piecewise-linear networks (Gemm, MatMul, Conv, Relu, MaxPool, ...)"


class NotPiecewiseLinear(InputError):
    """An operator on a tensor that depends on the input and is not piecewise linear (a
    step, a product of two such tensors, a power, a smooth activation): the network has
    no exact MILP encoding, but ``nncc verify`` may still decide it on the graph itself
    (:mod:`nncc.problem.onnx_graph`)."""


def _sparse():
    """scipy.sparse, imported when a sparse matrix is needed."""
    import scipy.sparse as sp

    return sp


class _Sel:
    """A matrix with at most one non-zero per row: ``val[i]`` in column ``col[i]``
    of row ``i`` (``col[i] == -1``: an empty row).

    It stands for the CSR matrix :meth:`tocsr` gives, entry for entry (a zero
    value is no entry, as in the CSR results of scaling and sums), and every
    operation on it gives what the same operation on that matrix gives."""

    __slots__ = ("col", "val", "n_cols")

    def __init__(self, col, val, n_cols: int):
        val = np.asarray(val, dtype=np.float64)
        self.col = np.where(val != 0, col, -1).astype(np.int64)
        self.val = val
        self.n_cols = int(n_cols)

    @classmethod
    def identity(cls, n: int) -> "_Sel":
        return cls(np.arange(n), np.ones(n), n)

    @classmethod
    def zeros(cls, n_rows: int, n_cols: int) -> "_Sel":
        return cls(np.full(n_rows, -1), np.zeros(n_rows), n_cols)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.col.size, self.n_cols)

    @property
    def nnz(self) -> int:
        return int(np.count_nonzero(self.col >= 0))

    def __getitem__(self, rows) -> "_Sel":
        rows = np.asarray(rows)
        return _Sel(self.col[rows], self.val[rows], self.n_cols)

    def __neg__(self) -> "_Sel":
        return _Sel(self.col, -self.val, self.n_cols)

    def scaled(self, k: np.ndarray) -> "_Sel":
        """``diags(k) @ self``."""
        return _Sel(self.col, k * self.val, self.n_cols)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        rows = np.flatnonzero(self.col >= 0)
        out[rows, self.col[rows]] = self.val[rows]
        return out

    def tocsr(self):
        rows = np.flatnonzero(self.col >= 0)
        return _sparse().csr_matrix((self.val[rows], (rows, self.col[rows])), shape=self.shape)

    def left_product(self, L: np.ndarray):
        """``L @ self`` for a dense ``L`` when no two rows share a column, as the CSR
        code computes it (``(self.T @ L.T).T``: each entry is 0 + value x weight),
        else None."""
        rows = np.flatnonzero(self.col >= 0)
        cols = self.col[rows]
        ordered = np.sort(cols)
        if np.any(ordered[1:] == ordered[:-1]):
            return None
        LT = np.asarray(L).T
        Y = np.zeros((self.n_cols, LT.shape[1]), dtype=np.result_type(LT.dtype, np.float64))
        Y[cols] += self.val[rows, None] * LT[rows]
        return np.asarray(Y.T)


def _is_sparse(A) -> bool:
    return isinstance(A, _Sel) or issparse(A)


def _csr(A):
    """A matrix as scipy's: a :class:`_Sel` as its CSR matrix, others unchanged."""
    return A.tocsr() if isinstance(A, _Sel) else A


class _Expr:
    """A tensor of shape ``shape`` whose flat C-order values are ``A @ v + c``
    for the current base ``v``; ``A`` is a numpy array, a CSR matrix or a :class:`_Sel`."""

    __slots__ = ("A", "c", "shape")

    def __init__(self, A, c, shape):
        self.A = A
        self.c = np.asarray(c, dtype=np.float64).ravel()
        self.shape = tuple(int(d) for d in shape)
        assert self.A.shape[0] == self.c.size == int(np.prod(self.shape, dtype=np.int64))

    @property
    def size(self) -> int:
        return self.c.size

    def rows(self, idx: np.ndarray, shape) -> "_Expr":
        """The entries ``idx`` (flat) of this tensor, as a tensor of ``shape``."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        return _Expr(self.A[idx], self.c[idx], shape)

    def scaled(self, k: np.ndarray) -> "_Expr":
        """Every entry multiplied by the matching entry of flat ``k``."""
        k = np.asarray(k, dtype=np.float64).ravel()
        if isinstance(self.A, _Sel):
            A = self.A.scaled(k)
        elif issparse(self.A):
            A = _sparse().diags(k) @ self.A
        else:
            A = self.A * k[:, None]
        return _Expr(_tidy(A), self.c * k, self.shape)

    def mapped(self, L, shape, d=None) -> "_Expr":
        """The tensor ``L @ self + d`` (``L`` dense or sparse) of ``shape``."""
        A = _matmul(L, self.A)
        c = np.asarray(L @ self.c).ravel()
        if d is not None:
            c = c + np.asarray(d, dtype=np.float64).ravel()
        return _Expr(_tidy(A), c, shape)


def _matmul(L, A):
    """``L @ A`` for any mix of dense and sparse operands."""
    if isinstance(A, _Sel):
        if not issparse(L):
            out = A.left_product(L)
            if out is not None:
                return out
        A = A.tocsr()
    if issparse(L) and issparse(A):
        return (L @ A).tocsr()
    if issparse(A):  # dense @ sparse: go through the transposes to stay in numpy
        return np.asarray((A.T @ np.asarray(L).T).T)
    return np.asarray(L @ A)


def _tidy(A):
    """Sparse matrices as CSR (a :class:`_Sel` as it is), dense ones as float64 arrays."""
    if isinstance(A, _Sel):
        return A
    if issparse(A):
        return A.tocsr()
    return np.asarray(A, dtype=np.float64)


def _const_expr(value: np.ndarray, n: int) -> _Expr:
    value = np.asarray(value, dtype=np.float64)
    return _Expr(_Sel.zeros(value.size, n), value.ravel(), value.shape)


def _broadcast(e: _Expr, shape) -> _Expr:
    shape = tuple(shape)
    if e.shape == shape:
        return e
    idx = np.broadcast_to(np.arange(e.size).reshape(e.shape), shape)
    return e.rows(idx, shape)


def node_label(node, i: int) -> str:
    if node.name:
        return f"'{node.name}'"
    return f"#{i} (output '{node.output[0]}')" if node.output else f"#{i}"


def node_attrs(node) -> dict:
    from nncc.problem.onnx_proto import attributes

    a = attributes(node)
    if a is None:
        import onnx

        a = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return a


def _first_line(msg: str) -> str:
    lines = [ln.strip() for ln in str(msg).splitlines() if ln.strip()]
    return lines[0] if lines else str(msg)


def read_onnx_file(path: str):
    """Load and check the model; every failure is an InputError with one message."""
    from nncc.problem.onnx_proto import read_model

    p = Path(path)
    if not p.is_file():
        raise InputError(f"cannot read ONNX file '{path}': no such file")
    model = read_model(str(p))  # loaded and checked without the onnx package
    if model is not None:
        if not _has_graph(model):
            raise InputError(f"not an ONNX model: '{path}' (no graph with nodes in it)")
        return model
    import onnx

    try:
        model = onnx.load(str(p))
    except Exception as e:  # protobuf decode errors, truncated files, bad external data
        raise InputError(f"not an ONNX model: '{path}' ({_first_line(e) or type(e).__name__})") from None
    if not _has_graph(model):
        raise InputError(f"not an ONNX model: '{path}' (no graph with nodes in it)")
    try:
        # full_check also runs strict shape inference, which catches inconsistent
        # attributes (e.g. a 3-entry kernel_shape on a 2-D pool) that onnxruntime
        # would refuse too.
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:
        raise InputError(f"invalid ONNX model '{path}': onnx.checker rejects it: "
                         f"{_checker_reason(str(e))}") from None
    return model


def _has_graph(model) -> bool:
    # Random bytes sometimes decode as a protobuf message: require a real graph.
    return model.ir_version > 0 and model.HasField("graph") and len(model.graph.node) > 0


def _checker_reason(text: str) -> str:
    """The first specific reason in an onnx.checker message, e.g.
    "MaxPool node 'node1': Attribute kernel_shape has incorrect size"."""
    import re

    m = re.search(r"\(op_type:(\w+), node name: ([^)]*)\): (?:\[\w+\] )?([^\n]*)", text)
    if not m:
        return _first_line(text)
    op, node, why = m.group(1), m.group(2), m.group(3).strip()
    if "kernel_shape" in why:
        why += " (kernel_shape needs one entry per spatial dimension of the input)"
    return f"{op} node '{node}': {why}"


def tensor_to_numpy(tensor) -> np.ndarray:
    """A constant tensor; float32 values become the shortest decimals that round to them.

    A float32 weight such as 0.646 is stored as 0.64600002765655517578125; read
    exactly, every solver file would carry 17-digit decimals, and exact
    (rational) solvers slow down badly on them. The shortest decimal that
    rounds to the same float32 is within half a float32 ulp (3e-8 relative) of
    it, far below the error of onnxruntime's own float32 arithmetic, so the
    network nncc encodes is that one, and its forward pass is the reference.
    """
    from nncc.problem.onnx_proto import tensor_array

    a = tensor_array(tensor)
    if a is None:
        from onnx import numpy_helper

        a = numpy_helper.to_array(tensor)
    a = np.array(a)
    if a.dtype == np.float32:
        a = a.astype(str).astype(np.float64)  # numpy prints float32 in shortest form
    return a


def load_onnx(path: str, name: str | None = None, drop_final_softmax: bool = True, *,
              inputs: list[str] | None = None,
              outputs: list[str] | None = None) -> FixedNetwork:
    """Read an ONNX file into a :class:`FixedNetwork` (Affine / Relu / MaxPool layers).

    ``name`` defaults to the file stem. With ``drop_final_softmax`` (the
    default), a Softmax or LogSoftmax whose output is the graph output is left
    out and named in ``net.output_softmax`` (and ``net.notes``): ``forward``
    gives the logits before it. That keeps the arg-max and every order between
    outputs, nothing else: a VNN-LIB property is restated over the logits only
    where that is exact, and checked on the file's outputs
    (:mod:`nncc.problem.output_softmax`). Raises :class:`InputError` for a file
    that is not ONNX, a model ``onnx.checker`` rejects, or operators nncc cannot
    encode (all of them listed in one message).

    ``inputs``: the graph inputs whose flat values, in this order, make the
    network's one flat input vector (default: every graph input that is not an
    initializer, in graph order); each is flattened in C order without its batch
    dimension. ``outputs``: the tensors -- graph outputs or any intermediate
    tensor (a hidden node) -- whose flat values, in this order, make the flat
    output vector (default: every graph output, in graph order). Only the nodes
    these outputs depend on are imported. ``net.input_parts`` /
    ``net.output_parts`` list the (name, shape) of each part; with several parts
    ``input_shape`` / ``output_shape`` are the flat ``(n,)``.
    """
    model = read_onnx_file(path)
    importer = Importer(model, str(path), drop_final_softmax, inputs, outputs)
    net = importer.run(name or Path(path).stem)
    return net


class Importer:
    def __init__(self, model, path: str, drop_final_softmax: bool,
                 inputs: list[str] | None = None, outputs: list[str] | None = None):
        self.model = model
        self.graph = model.graph
        self.path = path
        self.drop_final_softmax = drop_final_softmax
        self.want_inputs = None if inputs is None else [str(n) for n in inputs]
        self.want_outputs = None if outputs is None else [str(n) for n in outputs]
        self.opset = 1
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = int(o.version)
        self.values: dict = {}      # tensor name -> np.ndarray (constant) or _Expr
        self.layers: list = []
        self.n = 0                  # length of the current base vector
        self.notes: list[str] = []
        self.pending_names: list[str] = []  # names of linear nodes folded since the last layer
        self.index = 0                      # the node being imported (for messages)
        self.output_softmax = None          # the final softmax left out, if any
        self.softmax_base_groups = None     # its groups in the base, when there are several
        self.f32: set[str] = set()          # constants that are float32 in the model

    # ----------------------------------------------------------------- setup
    def _inputs(self):
        """The network's input parts: [(name, dims with the batch, has_batch)]."""
        inits = {t.name for t in self.graph.initializer}
        graph_inputs = {i.name: i for i in self.graph.input}
        free = [i.name for i in self.graph.input if i.name not in inits]
        if self.want_inputs is None:
            names = free
        else:
            names = self.want_inputs
            if not names:
                raise InputError(f"'{self.path}': no input asked for; the graph inputs are "
                                 + (", ".join(f"'{n}'" for n in free) or "none"))
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise InputError(f"'{self.path}': the input '{dup[0]}' is asked for twice")
            for n in names:
                if n in inits:
                    raise InputError(f"'{self.path}': '{n}' is an initializer (a constant of the "
                                     f"model), not an input")
                if n not in graph_inputs:
                    raise InputError(f"'{self.path}': no graph input '{n}'; the graph inputs are "
                                     + (", ".join(f"'{m}'" for m in free) or "none"))
        if not names:
            raise InputError(f"'{self.path}': nncc needs a graph input, found none")
        return [self._input_part(graph_inputs[n]) for n in names]

    def _input_part(self, inp):
        dims = []
        tt = inp.type.tensor_type
        if not inp.type.HasField("tensor_type"):
            raise InputError(f"'{self.path}': the input '{inp.name}' is not a tensor")
        if tt.elem_type not in _FLOAT_TYPES:
            import onnx

            raise InputError(f"'{self.path}': the input '{inp.name}' has the type "
                             f"{onnx.TensorProto.DataType.Name(tt.elem_type)}; nncc needs float "
                             f"inputs (float16, float32 or float64)")
        if not tt.HasField("shape"):
            raise InputError(f"'{self.path}': the input '{inp.name}' has no shape")
        for k, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            elif k == 0:
                dims.append(1)  # a symbolic batch dimension: one sample at a time
            else:
                raise InputError(f"'{self.path}': dimension {k} of the input '{inp.name}' is not a "
                                 f"fixed number ('{d.dim_param}'); nncc needs a fixed input shape")
        sym0 = len(tt.shape.dim) > 0 and not (tt.shape.dim[0].HasField("dim_value")
                                                and tt.shape.dim[0].dim_value > 0)
        # A leading dimension that is symbolic or 1 is the batch (rank >= 2 only:
        # a rank-1 input such as the NNet-converted [5] is a single sample).
        has_batch = len(dims) >= 2 and (sym0 or dims[0] == 1)
        return inp.name, tuple(dims), has_batch

    def _outputs(self) -> list[str]:
        """The names of the tensors that make the network's output, checked."""
        g = self.graph
        if self.want_outputs is None:
            names = [o.name for o in g.output]
            if not names:
                raise InputError(f"'{self.path}': the graph has no output")
            return names
        names = self.want_outputs
        if not names:
            raise InputError(f"'{self.path}': no output asked for")
        known = {t.name for t in g.initializer} | {i.name for i in g.input}
        for node in g.node:
            known.update(o for o in node.output if o)
        for n in names:
            if n not in known:
                raise InputError(f"'{self.path}': no tensor '{n}' in the graph (an output must be a "
                                 f"graph output or a tensor some node computes)")
        return names

    def _needed(self, outputs: list[str]) -> set[int]:
        """The nodes the requested outputs depend on."""
        need = set(outputs)
        nodes = set()
        for i in range(len(self.graph.node) - 1, -1, -1):
            node = self.graph.node[i]
            if any(o in need for o in node.output if o):
                nodes.add(i)
                need.update(x for x in node.input if x)
                need.update(_outer_reads(node))
        return nodes

    def _prepass(self, outputs: list[str], in_names: list[str]):
        """Mark constant tensors, find last uses, and list every unsupported op among the
        nodes the requested ``outputs`` depend on (the others are not imported)."""
        g = self.graph
        const = {t.name for t in g.initializer}
        const.add("")  # an omitted optional input
        self.last_use: dict[str, int] = {}
        wanted = set(outputs)
        self.needed = self._needed(outputs)
        consumers: dict[str, int] = {}
        for i, node in enumerate(g.node):
            for x in node.input:
                if x:
                    if i in self.needed:
                        self.last_use[x] = i
                    consumers[x] = consumers.get(x, 0) + 1
        for o in wanted:
            self.last_use[o] = len(g.node) + 1
        # a graph input the outputs read must be one of the network's inputs
        read = {x for i in self.needed for x in g.node[i].input if x} | wanted
        missing = [i.name for i in g.input
                   if i.name in read and i.name not in const and i.name not in in_names]
        if missing:
            raise InputError(f"'{self.path}': the outputs depend on the graph input "
                             f"'{missing[0]}', which is not among the inputs asked for")
        bad, why = [], []
        self.const_nodes = set()
        self.dropped_softmax = set()
        for i, node in enumerate(g.node):
            if i not in self.needed:
                continue
            is_const = node.op_type in ("Constant", "Shape", "Size") or (
                len(node.input) > 0 and all(x in const for x in node.input)
                and all(x in const for x in _outer_reads(node)))
            if node.domain not in ("", "ai.onnx"):
                bad.append(f"{node.domain}.{node.op_type} (node {node_label(node, i)})")
                continue
            if node.op_type in RANDOM_OPS:
                bad.append(f"{node.op_type} (node {node_label(node, i)})")
                continue
            if is_const:
                self.const_nodes.add(i)
                const.update(node.output)
                continue
            if node.op_type in SOFTMAX_OPS and self.drop_final_softmax and \
                    len(node.output) == 1 and self._reaches_output_only(node.output[0], wanted):
                if len(outputs) == 1:
                    self.dropped_softmax.add(i)
                    continue
                why.append(f"a final {node.op_type} is dropped only when it gives the "
                           f"network's only output")
            if node.op_type not in SUPPORTED_OPS:
                bad.append(f"{node.op_type} (node {node_label(node, i)})")
        if bad:
            ops = dict.fromkeys(b.split(" ")[0] for b in bad)
            why = [f"{op}: {_REASONS[op]}" for op in ops if op in _REASONS] + why
            why = "".join(f"; {w}" for w in dict.fromkeys(why))
            # steps and smooth functions of the input may still be verified on the graph
            graph = not any(op in RANDOM_OPS or op in ("If", "Loop", "Scan") or "." in op
                            for op in ops)
            raise (NotPiecewiseLinear if graph else InputError)(
                f"'{self.path}': unsupported ONNX ops: {', '.join(bad)}{why}: {_PWL_HINT}")

    def _reaches_output_only(self, t: str, outputs) -> bool:
        """Does tensor ``t`` reach a graph output through moves of its values only
        (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity), read by nothing else?"""
        users: dict[str, list] = {}
        for nd in self.graph.node:
            for x in nd.input:
                if x:
                    users.setdefault(x, []).append(nd)
        while True:
            us = users.get(t, [])
            if t in outputs:
                return not us
            if len(us) != 1 or us[0].op_type not in _FINAL_MOVES or us[0].input[0] != t \
                    or len(us[0].output) != 1:
                return False
            t = us[0].output[0]

    # ------------------------------------------------------------ the walk
    def run(self, name: str) -> FixedNetwork:
        parts = self._inputs()
        out_names = self._outputs()
        self._prepass(out_names, [p[0] for p in parts])
        for t in self.graph.initializer:
            self.values[t.name] = tensor_to_numpy(t)
            if t.data_type == 1:  # TensorProto.FLOAT
                self.f32.add(t.name)
        sizes = [int(np.prod(dims)) for _, dims, _ in parts]
        size = sum(sizes)
        self.n = size
        if len(parts) == 1:
            nm, dims, _ = parts[0]
            self.values[nm] = _Expr(_Sel.identity(size), np.zeros(size), dims)
        else:
            eye = _sparse().identity(size, format="csr")
            offset = 0
            for (nm, dims, _), k in zip(parts, sizes):
                self.values[nm] = _Expr(eye[offset:offset + k], np.zeros(k), dims)
                offset += k
        for i, node in enumerate(self.graph.node):
            if i not in self.needed:
                continue
            self.index = i
            try:
                if i in self.const_nodes:
                    self._fold(node)
                else:
                    self._node(i, node)
            except InputError:
                raise
            except Exception as e:  # a shape or value the ops cannot take: a bad model
                raise InputError(f"'{self.path}': cannot import node {node_label(node, i)} "
                                 f"({node.op_type}): {_first_line(e)}") from None
            self.pending_names.append(node.name or (node.output[0] if node.output else node.op_type))
        outs = []
        for out_name in out_names:
            if out_name not in self.values:
                raise InputError(f"'{self.path}': the output '{out_name}' is never computed")
            o = self.values[out_name]
            outs.append(o if isinstance(o, _Expr) else _const_expr(o, self.n))
        out = outs[0] if len(outs) == 1 else _Expr(_vstack([o.A for o in outs]),
                                                   np.concatenate([o.c for o in outs]),
                                                   (sum(o.size for o in outs),))
        softmax_groups = None
        if self.softmax_base_groups is not None:
            softmax_groups = self._output_groups(out)
        if not self._is_base(out):
            self._emit_affine(out, self.pending_names[-1] if self.pending_names else "output")
        layers = merge_consecutive_affine(self.layers)
        layers = prune_dead_relu_units(layers)
        if not layers:  # the output is the input itself (Reshape, Identity, ...): one
            # identity Affine, so that every pass and encoding sees a layer
            layers = [Affine(self._pending_name(), as_dense_if_full(
                _sparse().identity(self.n, format="csr")), np.zeros(self.n))]
        has_batch = any(p[2] for p in parts)

        def unbatched(shape, batch=has_batch):
            shape = tuple(shape)
            return shape[1:] if batch and len(shape) >= 2 and shape[0] == 1 else shape

        input_parts = [(nm, dims[1:] if hb else dims) for nm, dims, hb in parts]
        output_parts = [(nm, unbatched(o.shape)) for nm, o in zip(out_names, outs)]
        in_shape = input_parts[0][1] if len(parts) == 1 else (size,)
        out_shape = output_parts[0][1] if len(outs) == 1 else (out.size,)
        net = FixedNetwork(name=name, input_shape=tuple(in_shape), output_shape=tuple(out_shape),
                           layers=layers, source=f"onnx:{self.path}",
                           input_name=",".join(p[0] for p in parts),
                           output_name=",".join(out_names), notes=self.notes,
                           input_parts=input_parts, output_parts=output_parts,
                           output_softmax=self.output_softmax, softmax_groups=softmax_groups)
        net.check_shapes()
        return net

    def _output_groups(self, out: _Expr) -> list:
        """The output positions of each softmax left out: the output must be a
        permutation of the base (the softmaxes' values, moved)."""
        A = out.A.tocsr() if hasattr(out.A, 'tocsr') else _sparse().csr_matrix(out.A)
        ok = (out.size == self.n and not np.any(out.c) and np.all(np.diff(A.indptr) == 1)
              and np.all(A.data == 1))
        col = A.indices if ok else None
        if not ok or np.unique(col).size != self.n:
            raise InputError(f"'{self.path}': the outputs are not a rearrangement of the final "
                             f"{self.output_softmax}'s values; nncc leaves out only a final softmax")
        pos = np.empty(self.n, dtype=np.int64)
        pos[col] = np.arange(self.n)
        return pos[self.softmax_base_groups].tolist()

    def _fold(self, node):
        """Evaluate a node whose inputs are all constant (or only their shapes matter)."""
        a = node_attrs(node)
        if node.op_type == "Constant":
            from onnx.reference import ReferenceEvaluator

            self._store_folded(node.output[0], ReferenceEvaluator(
                node, opsets={"": self.opset}).run(None, {})[0])
            return
        if node.op_type in ("Shape", "Size"):
            v = self.values[node.input[0]]
            shape = v.shape if isinstance(v, (_Expr, np.ndarray)) else np.shape(v)
            if node.op_type == "Size":
                self.values[node.output[0]] = np.array(int(np.prod(shape)), dtype=np.int64)
            else:
                s = np.array(shape, dtype=np.int64)
                start, end = a.get("start", 0), a.get("end", None)
                self.values[node.output[0]] = s[start:end]
            return
        from onnx.reference import ReferenceEvaluator

        if node.op_type == "Dropout":
            self._check_dropout(node)
        # float32 constants are folded in float32, as onnxruntime computes them (0.1 + 0.2
        # equals 0.3 in float32, not in float64: a folded Equal must say so)
        feeds = {x: self.values[x].astype(np.float32) if x in self.f32 else self.values[x]
                 for x in node.input if x}
        res = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        for o, r in zip(node.output, res):
            if o:
                self._store_folded(o, r)

    def _store_folded(self, name: str, r):
        """A folded constant; float32 values kept as their shortest decimals (as
        :func:`tensor_to_numpy` does) and marked, to be folded again in float32."""
        r = np.array(r)
        if r.dtype == np.float32:
            self.f32.add(name)
            r = r.astype(str).astype(np.float64)
        self.values[name] = r

    def _const(self, node, k: int, what: str) -> np.ndarray | None:
        """Input ``k`` of ``node`` as a constant (None if omitted)."""
        if k >= len(node.input) or not node.input[k]:
            return None
        v = self.values[node.input[k]]
        if isinstance(v, _Expr):
            raise InputError(f"'{self.path}': node {node_label(node, self.index)} ({node.op_type}): its "
                             f"{what} depends on the network input; nncc needs it constant")
        return v

    def _expr(self, name: str) -> _Expr:
        v = self.values[name]
        return v if isinstance(v, _Expr) else _const_expr(v, self.n)

    def _set(self, node, value):
        self.values[node.output[0]] = value

    def _node(self, i: int, node):
        op = node.op_type
        a = node_attrs(node)
        label = node_label(node, i)
        if i in self.dropped_softmax:
            x = self._expr(node.input[0])
            axis = a.get("axis", 1 if self.opset < 13 else -1)
            axis = axis + len(x.shape) if axis < 0 else axis
            idx = np.arange(x.size).reshape(x.shape)
            if self.opset < 13:   # the input as 2-D at axis: one softmax per row
                groups = idx.reshape(-1, int(np.prod(x.shape[axis:], dtype=np.int64)))
            else:                 # one softmax per position of the other axes
                groups = np.moveaxis(idx, axis, -1).reshape(-1, x.shape[axis])
            self.output_softmax = op
            if groups.shape[0] > 1:
                # several softmaxes: their logits become the base, so that the moves after
                # them only permute it and each output's softmax can be read off at the end
                if self._live(i, exclude=(node.input[0],)):
                    raise InputError(f"'{self.path}': the final {op} (node {label}) acts along "
                                     f"axis {axis} of {list(x.shape)} while other tensors are "
                                     f"still to be computed; nncc leaves out only a final "
                                     f"softmax")
                if not self._is_base(x):
                    self._emit_affine(x, self._pending_name())
                self.pending_names = []
                self.n = x.size
                x = _Expr(_sparse().identity(x.size, format="csr"), np.zeros(x.size), x.shape)
                self.softmax_base_groups = groups
            self._set(node, x)
            self.notes.append(f"the final {op} (node {label}) was dropped: the outputs are the "
                              f"logits before it (it is monotone, so the arg-max is unchanged)")
            return
        if op in _PASS_OPS:
            if op == "Dropout":
                self._check_dropout(node)
            for k, o in enumerate(node.output):
                if k == 0:
                    self.values[o] = self.values[node.input[0]]
                elif o and self.last_use.get(o) is not None:
                    raise InputError(f"'{self.path}': the mask output of Dropout {label} is used; "
                                     f"nncc imports inference graphs only")
            return
        if op in ("Add", "Sub", "Sum"):
            terms = [self._expr(x) for x in node.input]
            shape = np.broadcast_shapes(*[t.shape for t in terms])
            terms = [_broadcast(t, shape) for t in terms]
            if op == "Sub":
                terms[1] = terms[1].scaled(-np.ones(terms[1].size))
            A, c = terms[0].A, terms[0].c.copy()
            for t in terms[1:]:
                A = _add_mats(A, t.A)
                c = c + t.c
            self._set(node, _Expr(A, c, shape))
            return
        if op in ("Mul", "Div"):
            x, y = self.values[node.input[0]], self.values[node.input[1]]
            if op == "Div":
                if isinstance(y, _Expr):
                    raise NotPiecewiseLinear(f"'{self.path}': Div node {label} divides by a tensor that "
                                     f"depends on the input: not linear; {_PWL_HINT}")
                y = np.asarray(y, dtype=np.float64)
                if np.any(y == 0):
                    raise InputError(f"'{self.path}': Div node {label} divides by zero")
                y = 1.0 / y
            if isinstance(x, _Expr) and isinstance(y, _Expr):
                raise NotPiecewiseLinear(f"'{self.path}': Mul node {label} multiplies two tensors that "
                                 f"depend on the input: not linear; {_PWL_HINT}")
            e, k = (x, y) if isinstance(x, _Expr) else (y, x)
            k = np.asarray(k, dtype=np.float64)
            shape = np.broadcast_shapes(e.shape, k.shape)
            self._set(node, _broadcast(e, shape).scaled(np.broadcast_to(k, shape)))
            return
        if op == "Neg":
            x = self._expr(node.input[0])
            self._set(node, x.scaled(-np.ones(x.size)))
            return
        if op in ("Cast", "CastLike"):
            self._set(node, self._cast(node, a, label))
            return
        if op == "Pow":
            x = self.values[node.input[0]]
            if not isinstance(x, _Expr):
                raise NotPiecewiseLinear(f"'{self.path}': Pow node {label}: its exponent depends on the "
                                 f"network input: not piecewise linear")
            p = np.asarray(self._const(node, 1, "exponent"), dtype=np.float64)
            if p.size == 0 or np.any(p != 1.0):
                shown = p.ravel()[0] if p.size and np.all(p == p.ravel()[0]) else p.ravel()[:4]
                raise NotPiecewiseLinear(f"'{self.path}': Pow node {label} raises a tensor that depends on "
                                 f"the network input to the power {shown}: not piecewise linear "
                                 f"(nncc accepts the exponent 1 only)")
            self._set(node, _broadcast(x, np.broadcast_shapes(x.shape, p.shape)))
            return
        if op == "Where":
            cond = self.values[node.input[0]]
            if isinstance(cond, _Expr):
                raise NotPiecewiseLinear(f"'{self.path}': Where node {label}: its condition depends on the "
                                 f"network input: a step, not continuous")
            cond = np.asarray(cond).astype(bool)
            xs = [self._expr(node.input[1]), self._expr(node.input[2])]
            shape = np.broadcast_shapes(cond.shape, xs[0].shape, xs[1].shape)
            xs = [_broadcast(e, shape) for e in xs]
            both = _Expr(_vstack([xs[0].A, xs[1].A]), np.concatenate([xs[0].c, xs[1].c]),
                         (2 * xs[0].size,))
            size = xs[0].size
            pick = np.where(np.broadcast_to(cond, shape).ravel(), np.arange(size),
                            size + np.arange(size))
            self._set(node, both.rows(pick, shape))
            return
        if op in ("ReduceSum", "ReduceMean"):
            self._set(node, self._reduce(node, a, label))
            return
        if op == "MatMul":
            self._set(node, self._matmul_node(node, self.values[node.input[0]],
                                              self.values[node.input[1]]))
            return
        if op == "Gemm":
            A, B = self.values[node.input[0]], self.values[node.input[1]]
            if a.get("transA", 0):
                A = _transpose(A)
            if a.get("transB", 0):
                B = _transpose(B)
            y = self._matmul_node(node, A, B)
            alpha = float(a.get("alpha", 1.0))
            if alpha != 1.0:
                y = y.scaled(np.full(y.size, alpha))
            C = self.values[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            if C is not None:
                C = self._expr(node.input[2])
                beta = float(a.get("beta", 1.0))
                C = C.scaled(np.full(C.size, beta))
                shape = np.broadcast_shapes(y.shape, C.shape)
                y, C = _broadcast(y, shape), _broadcast(C, shape)
                y = _Expr(_add_mats(y.A, C.A), y.c + C.c, shape)
            self._set(node, y)
            return
        if op == "BatchNormalization":
            if a.get("training_mode", 0):
                raise InputError(f"'{self.path}': BatchNormalization {label} is in training mode; "
                                 f"nncc imports inference graphs only")
            x = self._expr(node.input[0])
            scale, bias, mean, var = (np.asarray(self._const(node, k, w), dtype=np.float64)
                                      for k, w in ((1, "scale"), (2, "bias"), (3, "mean"),
                                                   (4, "variance")))
            k = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
            shift = bias - mean * k
            # Channels are axis 1 (axis 0 for a rank-1 tensor).
            cshape = [1] * len(x.shape)
            cshape[1 if len(x.shape) > 1 else 0] = -1
            kf = np.broadcast_to(k.reshape(cshape), x.shape)
            sf = np.broadcast_to(shift.reshape(cshape), x.shape)
            y = x.scaled(kf)
            self._set(node, _Expr(y.A, y.c + sf.ravel(), x.shape))
            return
        if op == "Conv":
            self._set(node, self._conv(node, a, label))
            return
        if op in ("AveragePool", "GlobalAveragePool"):
            self._set(node, self._avgpool(node, a, label))
            return
        if op in _MOVE_OPS:
            self._move(node, a)
            return
        if op in _NONLINEAR_OPS:
            self._nonlinear(i, node, a, label)
            return
        raise InputError(f"'{self.path}': unsupported ONNX op {op} (node {label}): {_PWL_HINT}")

    # ------------------------------------------------------------- linear ops
    def _check_dropout(self, node):
        """Dropout is the identity at inference; refuse it in training mode (random)."""
        if self.opset < 12 or len(node.input) < 3 or not node.input[2]:
            return
        t = self.values[node.input[2]]
        if isinstance(t, _Expr) or bool(np.any(np.asarray(t))):
            raise InputError(f"'{self.path}': Dropout node {node_label(node, self.index)} is in "
                             f"training mode (random, not a function of the input); nncc "
                             f"imports inference graphs only")

    def _cast(self, node, a, label) -> _Expr:
        """Cast / CastLike of an input-dependent tensor: the identity to a float type."""
        if node.op_type == "Cast":
            to = int(a.get("to", 0))
        else:
            import onnx

            t = self.values[node.input[1]]
            dt = np.float64 if isinstance(t, _Expr) else np.asarray(t).dtype
            to = int(onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dt)))
        x = self.values[node.input[0]]
        if to not in _FLOAT_TYPES:
            import onnx

            try:
                tname = onnx.TensorProto.DataType.Name(to)
            except ValueError:
                tname = str(to)
            raise NotPiecewiseLinear(f"'{self.path}': {node.op_type} node {label} casts a tensor that "
                             f"depends on the network input to {tname}: a step, not continuous "
                             f"(nncc folds such a cast only on constants)")
        if to == 10:
            note = ("a Cast to float16 was taken as the identity: nncc computes in real "
                    "arithmetic, without the float16 rounding")
            if note not in self.notes:
                self.notes.append(note)
        return x

    def _reduce(self, node, a, label) -> _Expr:
        """ReduceSum / ReduceMean: each output entry the sum (mean) of its input entries."""
        x = self._expr(node.input[0])
        from_input = self.opset >= (13 if node.op_type == "ReduceSum" else 18)
        if from_input:
            axes = self._const(node, 1, "axes")
            noop = int(a.get("noop_with_empty_axes", 0))
        else:
            axes, noop = a.get("axes", None), 0
        axes = [] if axes is None else [int(v) for v in np.asarray(axes).ravel()]
        r = len(x.shape)
        if not axes:
            if noop:
                return x
            axes = list(range(r))
        if any(not -r <= ax < r for ax in axes):
            raise ValueError(f"axes {axes} out of range for a tensor of rank {r}")
        axes = sorted({ax % r for ax in axes})
        kept = tuple(1 if k in axes else d for k, d in enumerate(x.shape))
        coords = np.indices(x.shape).reshape(r, -1) if r else np.zeros((0, 1), np.int64)
        for ax in axes:
            coords[ax] = 0
        rows = np.ravel_multi_index(tuple(coords), kept) if r else np.zeros(1, np.int64)
        m = int(np.prod(kept, dtype=np.int64))
        count = x.size // max(m, 1)
        val = 1.0 if node.op_type == "ReduceSum" else 1.0 / max(count, 1)
        L = _sparse().csr_matrix((np.full(x.size, val), (rows, np.arange(x.size))), shape=(m, x.size))
        keepdims = int(a.get("keepdims", 1))
        shape = kept if keepdims else tuple(d for k, d in enumerate(x.shape) if k not in axes)
        return x.mapped(L, shape)

    def _matmul_node(self, node, X, W) -> _Expr:
        """``X @ W`` where exactly one side depends on the input (numpy matmul rules)."""
        if isinstance(X, _Expr) and isinstance(W, _Expr):
            raise NotPiecewiseLinear(f"'{self.path}': {node.op_type} node {node_label(node, self.index)} multiplies "
                             f"two tensors that depend on the input: not linear; {_PWL_HINT}")
        if isinstance(X, _Expr):
            W = np.asarray(W, dtype=np.float64)
            if W.ndim == 1:
                W2, squeeze = W[:, None], True
            elif W.ndim == 2:
                W2, squeeze = W, False
            else:
                raise InputError(f"'{self.path}': {node.op_type} node {node_label(node, self.index)}: a "
                                 f"constant of rank {W.ndim} is not supported (rank 1 or 2 only)")
            k, m = W2.shape
            if X.shape[-1] != k:
                raise ValueError(f"shapes {list(X.shape)} and {list(W.shape)} do not match")
            P = X.size // k
            # Every row of X (length k) is multiplied by W: the flat map is kron(I_P, W^T).
            if P == 1:
                L = W2.T
            else:
                sp = _sparse()
                L = sp.kron(sp.identity(P), sp.csr_matrix(W2.T), format="csr")
            shape = X.shape[:-1] + (() if squeeze else (m,))
            return X.mapped(L, shape)
        # W @ X with W constant
        Wc = np.asarray(X, dtype=np.float64)
        E = W
        if Wc.ndim == 1:
            Wc2, squeeze = Wc[None, :], True
        elif Wc.ndim == 2:
            Wc2, squeeze = Wc, False
        else:
            raise InputError(f"'{self.path}': {node.op_type} node {node_label(node, self.index)}: a "
                             f"constant of rank {Wc.ndim} is not supported (rank 1 or 2 only)")
        m, k = Wc2.shape
        if len(E.shape) == 1:
            if E.shape[0] != k:
                raise ValueError(f"shapes {list(Wc.shape)} and {list(E.shape)} do not match")
            return E.mapped(Wc2, (m,) if not squeeze else ())
        if E.shape[-2] != k:
            raise ValueError(f"shapes {list(Wc.shape)} and {list(E.shape)} do not match")
        p = E.shape[-1]
        B = E.size // (k * p)
        # Each (k, p) matrix of E is left-multiplied: kron(I_B, kron(W, I_p)).
        if p == 1 and B == 1:
            L = Wc2
        else:
            sp = _sparse()
            L = sp.kron(sp.identity(B), sp.kron(sp.csr_matrix(Wc2), sp.identity(p)), format="csr")
        shape = E.shape[:-2] + (() if squeeze else (m,)) + (p,)
        return E.mapped(L, shape)

    def _spatial(self, node, a, x: _Expr, label: str, kernel=None):
        """Pads, strides, dilations of a 1-D / 2-D Conv or pool; 1-D is made 2-D."""
        rank = len(x.shape) - 2
        if rank not in (1, 2) or x.shape[0] != 1:
            raise InputError(f"'{self.path}': {node.op_type} node {label}: input of shape "
                             f"{list(x.shape)}; nncc supports 1-D and 2-D {node.op_type} on one "
                             f"sample [N, C, H, W]")
        ks = list(kernel if kernel is not None else a.get("kernel_shape", []))
        if len(ks) != rank:
            raise InputError(f"'{self.path}': {node.op_type} node {label}: kernel_shape {ks} has "
                             f"{len(ks)} entries for an input with {rank} spatial dimension(s) "
                             f"({list(x.shape)}): not a valid ONNX model")
        strides = list(a.get("strides", [1] * rank))
        dil = list(a.get("dilations", [1] * rank))
        pads = list(a.get("pads", [0] * (2 * rank)))
        sizes = list(x.shape[2:])
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * (2 * rank)
            for d in range(rank):
                out = -(-sizes[d] // strides[d])
                total = max(0, (out - 1) * strides[d] + (ks[d] - 1) * dil[d] + 1 - sizes[d])
                small, big = total // 2, total - total // 2
                pads[d], pads[d + rank] = (small, big) if auto == "SAME_UPPER" else (big, small)
        elif auto == "VALID":
            pads = [0] * (2 * rank)
        if rank == 1:
            sizes, ks, strides, dil = [1] + sizes, [1] + ks, [1] + strides, [1] + dil
            pads = [0, pads[0], 0, pads[1]]
        return sizes, ks, strides, dil, pads

    def _conv(self, node, a, label) -> _Expr:
        x = self._expr(node.input[0])
        W = np.asarray(self._const(node, 1, "weight"), dtype=np.float64)
        b = self._const(node, 2, "bias")
        kernel = a.get("kernel_shape", list(W.shape[2:]))
        (H, Wd), ks, strides, dil, pads = self._spatial(node, a, x, label, kernel)
        C = x.shape[1]
        group = int(a.get("group", 1))
        W4 = W.reshape(W.shape[0], W.shape[1], ks[0], ks[1])
        if C != W4.shape[1] * group:
            raise ValueError(f"{C} input channels, weight {list(W.shape)} with group {group}")
        L, (M, OH, OW) = conv_matrix((C, H, Wd), W4, strides, pads, dil, group)
        d = None
        if b is not None:
            d = np.repeat(np.asarray(b, dtype=np.float64), OH * OW)
        out_shape = (1, M, OH, OW) if len(x.shape) == 4 else (1, M, OW)
        return x.mapped(L, out_shape, d)

    def _avgpool(self, node, a, label) -> _Expr:
        x = self._expr(node.input[0])
        glob = node.op_type == "GlobalAveragePool"
        kernel = list(x.shape[2:]) if glob else None
        (H, W), ks, strides, dil, pads = self._spatial(node, {} if glob else a, x, label, kernel)
        C = x.shape[1]
        idx, inpad, (OH, OW) = pool_windows((C, H, W), ks, strides, pads, dil,
                                            bool(a.get("ceil_mode", 0)) and not glob)
        valid = idx >= 0
        count = (inpad if a.get("count_include_pad", 0) else valid).sum(axis=1)
        rows = np.broadcast_to(np.arange(idx.shape[0])[:, None], idx.shape)[valid]
        vals = np.broadcast_to((1.0 / np.maximum(count, 1))[:, None], idx.shape)[valid]
        L = _sparse().csr_matrix((vals, (rows, idx[valid])), shape=(idx.shape[0], x.size))
        out_shape = (1, C, OH, OW) if len(x.shape) == 4 else (1, C, OW)
        return x.mapped(L, out_shape)

    def _move(self, node, a):
        """A data-movement op: run it on tensors of row indices with the ONNX
        reference implementation (numpy for Flatten, Reshape and Transpose),
        then gather the rows of the expression."""
        data_pos = range(len(node.input)) if node.op_type == "Concat" else [0]
        pieces, feeds, offset = [], {}, 0
        for k, x in enumerate(node.input):
            if not x:
                continue
            v = self.values[x]
            if k in data_pos:
                e = v if isinstance(v, _Expr) else _const_expr(v, self.n)
                base = 1 if node.op_type == "Pad" else 0  # 0 marks padding positions
                feeds[x] = (np.arange(e.size, dtype=np.int64) + offset + base).reshape(e.shape)
                pieces.append(e)
                offset += e.size
            else:
                feeds[x] = self._const(node, k, f"input {k}")
        if node.op_type == "Pad":
            mode = a.get("mode", b"constant")
            mode = mode.decode() if isinstance(mode, bytes) else mode
            fill = 0.0
            if mode == "constant":
                cv = a.get("value", None) if self.opset < 11 else (
                    self._const(node, 2, "constant value") if len(node.input) > 2 else None)
                fill = float(np.asarray(cv).ravel()[0]) if cv is not None and np.size(cv) else 0.0
                if self.opset >= 11 and len(node.input) > 2 and node.input[2]:
                    feeds[node.input[2]] = np.zeros_like(np.asarray(feeds[node.input[2]]),
                                                         dtype=np.int64)
        res = _reshaped(node, a, feeds, self.opset)
        if res is None:
            from onnx.reference import ReferenceEvaluator

            res = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        allA = pieces[0].A if len(pieces) == 1 else _vstack([p.A for p in pieces])
        allc = np.concatenate([p.c for p in pieces])
        for o, r in zip(node.output, res):
            if not o:
                continue
            r = np.asarray(r).astype(np.int64)
            if node.op_type == "Pad":
                pad = r.ravel() == 0
                idx = np.where(pad, 0, r.ravel() - 1)
                A = allA[idx]
                if pad.any():
                    A = _zero_rows(A, pad)
                c = np.where(pad, fill, allc[idx])
                self.values[o] = _Expr(_tidy(A), c, r.shape)
            else:
                self.values[o] = _Expr(_tidy(allA[r.ravel()]), allc[r.ravel()], r.shape)

    # --------------------------------------------------------- non-linear ops
    def _is_base(self, e: _Expr) -> bool:
        """Is ``e`` exactly the current base vector (identity, no offset)?"""
        if e.size != self.n or np.any(e.c != 0):
            return False
        if isinstance(e.A, _Sel):
            return bool(np.all(e.A.col == np.arange(self.n)) and np.all(e.A.val == 1))
        if issparse(e.A):
            return (e.A != _sparse().identity(self.n, format="csr")).nnz == 0
        # without allocating an n x n identity
        return np.count_nonzero(e.A) == self.n and bool(np.all(np.diagonal(e.A) == 1))

    def _emit_affine(self, e: _Expr, name: str):
        A = e.A
        if isinstance(A, _Sel):  # as_dense_if_full's rule, without a CSR matrix when dense
            size = A.shape[0] * A.shape[1]
            A = A.toarray() if size == 0 or A.nnz >= 0.25 * size else A.tocsr()
        self.layers.append(Affine(name, as_dense_if_full(A), e.c.copy()))

    def _live(self, i: int, exclude=()):
        """Names of input-dependent tensors read by a node after node ``i``."""
        return [nm for nm, v in self.values.items()
                if isinstance(v, _Expr) and self.last_use.get(nm, -1) > i and nm not in exclude]

    def _relu_layer(self, i: int, pres: list, keeps: list, name: str):
        """Emit Affine + Relu computing relu of every tensor in ``pres``.

        Returns (relu outputs, ``keeps`` carried through) as expressions of the new
        base. Every other live tensor is carried through too, and replaced."""
        live = self._live(i)
        carry = keeps + [self.values[nm] for nm in live]
        blocks = [p for p in pres]
        for e in carry:
            blocks.append(e)
            blocks.append(e.scaled(-np.ones(e.size)))
        A = _vstack([b.A for b in blocks])
        c = np.concatenate([b.c for b in blocks])
        # Carried tensors often duplicate a relu input (masked ReLU: relu(z) and
        # the carried z share a unit): merge identical rows.
        unit = np.arange(c.size)
        if carry:
            A, c, unit = _dedup_rows(A, c)
        pre = _Expr(A, c, (c.size,))
        if not self._is_base(pre) or carry:
            self._emit_affine(pre, self._pending_name())
        self.layers.append(Relu(name, pre.size))
        self.n = pre.size
        self.pending_names = []

        def sel(rows_pos, rows_neg=None, shape=None):
            m = len(rows_pos)
            if rows_neg is None:
                return _Expr(_Sel(unit[rows_pos], np.ones(m), self.n), np.zeros(m), shape)
            sp = _sparse()
            S = sp.csr_matrix((np.ones(m), (np.arange(m), unit[rows_pos])), shape=(m, self.n))
            S = S - sp.csr_matrix((np.ones(m), (np.arange(m), unit[rows_neg])), shape=(m, self.n))
            return _Expr(S.tocsr(), np.zeros(m), shape)

        pos = 0
        outs = []
        for p in pres:
            outs.append(sel(np.arange(pos, pos + p.size), shape=p.shape))
            pos += p.size
        carried = []
        for e in carry:
            r = np.arange(pos, pos + e.size)
            carried.append(sel(r, r + e.size, e.shape))
            pos += 2 * e.size
        for nm, e in zip(live, carried[len(keeps):]):
            self.values[nm] = e
        return outs, carried[:len(keeps)]

    def _pending_name(self) -> str:
        return self.pending_names[-1] if self.pending_names else "affine"

    def _nonlinear(self, i: int, node, a, label):
        op = node.op_type
        name = node.name or node.output[0]
        x = self._expr(node.input[0])
        if op == "Relu":
            (y,), _ = self._relu_layer(i, [x], [], name)
            self._set(node, y)
        elif op == "Abs":  # |x| = relu(x) + relu(-x)
            (p, q), _ = self._relu_layer(i, [x, x.scaled(-np.ones(x.size))], [], name)
            self._set(node, _Expr(_add_mats(p.A, q.A), p.c + q.c, x.shape))
        elif op in ("LeakyRelu", "PRelu"):
            # y = alpha x + (1 - alpha) relu(x), exact for any alpha; x is carried.
            if op == "LeakyRelu":
                alpha = np.full(x.shape, float(a.get("alpha", 0.01)))
            else:
                alpha = np.asarray(self._const(node, 1, "slope"), dtype=np.float64)
            alpha = np.broadcast_to(alpha, np.broadcast_shapes(alpha.shape, x.shape))
            x = _broadcast(x, alpha.shape)
            (r,), (xc,) = self._relu_layer(i, [x], [x], name)
            u, v = xc.scaled(alpha), r.scaled(1.0 - alpha)
            self._set(node, _Expr(_add_mats(u.A, v.A), u.c + v.c, x.shape))
        elif op == "Clip":
            if self.opset < 11:
                lo, hi = a.get("min", None), a.get("max", None)
            else:
                lo, hi = self._const(node, 1, "min"), self._const(node, 2, "max")
            # a bound at or beyond the largest float32 (the "no bound" of many exporters)
            # clips no finite float32 value: none
            lo = None if lo is None or not float(lo) > -_F32_MAX else float(lo)
            hi = None if hi is None or not float(hi) < _F32_MAX else float(hi)
            if lo is None and hi is None:
                self._set(node, x)
                return
            if lo is not None and hi is not None and lo > hi:
                raise InputError(f"'{self.path}': Clip node {label} has min {lo} > max {hi}")
            # clip(x) = lo + relu(x - lo) - relu(x - hi) = hi - relu(hi - x) + relu(lo - x)
            #         = x - relu(x - hi) + relu(lo - x): a bound far from 0 (such as
            # -1e30) is kept inside the relus, where it gives 0, and never added outside
            # them, where it would cancel x away in floating point (lo + relu(x - lo) was 0).
            terms = []   # (sign, relu argument)
            if lo is not None and abs(lo) <= _CLIP_BIG:
                base = lo
                terms.append((1.0, _Expr(x.A, x.c - lo, x.shape)))
                if hi is not None:
                    terms.append((-1.0, _Expr(x.A, x.c - hi, x.shape)))
            elif hi is not None and abs(hi) <= _CLIP_BIG:
                base = hi
                terms.append((-1.0, _Expr(-x.A, hi - x.c, x.shape)))
                if lo is not None:
                    terms.append((1.0, _Expr(-x.A, lo - x.c, x.shape)))
            else:
                base = None  # x itself, carried through the layer
                if hi is not None:
                    terms.append((-1.0, _Expr(x.A, x.c - hi, x.shape)))
                if lo is not None:
                    terms.append((1.0, _Expr(-x.A, lo - x.c, x.shape)))
            outs, kept = self._relu_layer(i, [t for _, t in terms], [] if base is not None
                                          else [x], name)
            A = kept[0].A if base is None else _sparse().csr_matrix((x.size, self.n))
            c = kept[0].c.copy() if base is None else np.full(x.size, base)
            for (sign, _), r in zip(terms, outs):
                A = _add_mats(A, r.A if sign > 0 else -r.A)
                c = c + sign * r.c
            self._set(node, _Expr(_tidy(A), c, x.shape))
        elif op in ("MaxPool", "GlobalMaxPool"):
            if len(node.output) > 1 and node.output[1] and node.output[1] in self.last_use:
                raise InputError(f"'{self.path}': MaxPool node {label}: its Indices output is "
                                 f"used; nncc supports the values output only")
            glob = op == "GlobalMaxPool"
            kernel = list(x.shape[2:]) if glob else None
            (H, W), ks, strides, dil, pads = self._spatial(node, {} if glob else a, x, label, kernel)
            C = x.shape[1]
            idx, _, (OH, OW) = pool_windows((C, H, W), ks, strides, pads, dil,
                                            bool(a.get("ceil_mode", 0)) and not glob)
            if np.any((idx < 0).all(axis=1)):
                raise InputError(f"'{self.path}': MaxPool node {label} has a window made only of "
                                 f"padding")
            out_shape = (1, C, OH, OW) if len(x.shape) == 4 else (1, C, OW)
            self._maxpool_layer(i, x, idx, out_shape, name)
        else:  # pragma: no cover - the prepass lists the op names
            raise InputError(f"'{self.path}': unsupported ONNX op {op} (node {label})")

    def _maxpool_layer(self, i, x: _Expr, idx: np.ndarray, out_shape, name):
        """Emit Affine + MaxPool; live tensors pass through as one-element groups."""
        live = self._live(i)
        carry = [self.values[nm] for nm in live]
        blocks = [x] + carry
        pre = _Expr(_vstack([b.A for b in blocks]), np.concatenate([b.c for b in blocks]),
                    (sum(b.size for b in blocks),))
        k = idx.shape[1]
        groups = [idx]
        pos = x.size
        for e in carry:
            g = np.full((e.size, k), -1, dtype=np.int64)
            g[:, 0] = np.arange(pos, pos + e.size)
            groups.append(g)
            pos += e.size
        groups = np.vstack(groups).astype(np.int64)
        if not self._is_base(pre):
            self._emit_affine(pre, self._pending_name())
        self.layers.append(MaxPool(name, pre.size, groups))
        self.n = groups.shape[0]
        self.pending_names = []
        m = idx.shape[0]
        sp = _sparse()
        y = _Expr(sp.csr_matrix((np.ones(m), (np.arange(m), np.arange(m))), shape=(m, self.n)),
                  np.zeros(m), out_shape)
        pos = m
        for nm, e in zip(live, carry):
            r = np.arange(e.size)
            self.values[nm] = _Expr(sp.csr_matrix((np.ones(e.size), (r, r + pos)),
                                                  shape=(e.size, self.n)),
                                    np.zeros(e.size), e.shape)
            pos += e.size
        self.values[self.graph.node[i].output[0]] = y


# ------------------------------------------------------------------ helpers
def _outer_reads(node) -> set:
    """Names the sub-graphs of ``node`` (If, Loop, Scan) read and do not define: tensors
    of the enclosing graph."""
    out = set()
    for a in node.attribute:
        for sub in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            defined = {t.name for t in sub.initializer} | {v.name for v in sub.input}
            for sn in sub.node:
                out.update(x for x in sn.input if x and x not in defined)
                out.update(_outer_reads(sn) - defined)
                defined.update(sn.output)
    return out


def _reshaped(node, a: dict, feeds: dict, opset: int):
    """The outputs of a Flatten, Reshape or Transpose node, computed as the ONNX
    reference implementation computes them; None for other nodes and where it
    would raise (it then gives its own message)."""
    op = node.op_type
    try:
        x = feeds[node.input[0]]
        if op == "Flatten" and len(node.input) == 1:
            axis = a.get("axis", 1)
            return [x.reshape((1, -1) if axis == 0 else (int(np.prod(x.shape[:axis])), -1))]
        if op == "Reshape" and len(node.input) == 2 and opset >= 5:
            shape = np.asarray(feeds[node.input[1]])
            new_shape = np.copy(shape)
            if not (opset >= 14 and a.get("allowzero", 0) == 1):
                zeros = np.where(shape == 0)
                new_shape[zeros] = np.array(x.shape)[zeros]
            return [np.reshape(x, new_shape)]
        if op == "Transpose" and len(node.input) == 1:
            perm = a.get("perm") or None
            if perm is not None and len(perm) != x.ndim:
                return None
            return [np.transpose(x, axes=perm)]
    except Exception:
        return None
    return None


def _vstack(mats):
    if all(not _is_sparse(m) for m in mats):
        return np.vstack(mats)
    if all(isinstance(m, _Sel) for m in mats) and len({m.n_cols for m in mats}) == 1:
        return _Sel(np.concatenate([m.col for m in mats]), np.concatenate([m.val for m in mats]),
                    mats[0].n_cols)
    sp = _sparse()
    return sp.vstack([sp.csr_matrix(_csr(m)) for m in mats], format="csr")


def _add_mats(A, B):
    if isinstance(A, _Sel) and isinstance(B, _Sel) and A.shape == B.shape:
        a, b = A.col >= 0, B.col >= 0
        if not np.any(a & b & (A.col != B.col)):  # each row's entries in one column
            va, vb = np.where(a, A.val, 0.0), np.where(b, B.val, 0.0)
            return _Sel(np.where(a, A.col, B.col), va + vb, A.n_cols)
    if _is_sparse(A) and _is_sparse(B):
        return (_csr(A) + _csr(B)).tocsr()
    return np.asarray(A.toarray() if _is_sparse(A) else A) + \
        np.asarray(B.toarray() if _is_sparse(B) else B)


def _zero_rows(A, mask: np.ndarray):
    keep = (~mask).astype(np.float64)
    if isinstance(A, _Sel):
        return A.scaled(keep)
    if issparse(A):
        return (_sparse().diags(keep) @ A).tocsr()
    return A * keep[:, None]


def _transpose(v):
    """A 2-D constant or expression transposed (an expression's rows permuted)."""
    if isinstance(v, _Expr):
        if len(v.shape) != 2:
            raise ValueError(f"Gemm input of shape {list(v.shape)} is not 2-D")
        idx = np.arange(v.size).reshape(v.shape).T
        return v.rows(idx, idx.shape)
    return np.asarray(v).T


def _dedup_rows(A, c):
    """Identical rows of ``[A | c]`` merged, first occurrences kept in order.

    Returns (A', c', unit) with ``unit[j]`` the row of ``A'`` standing for row j."""
    if _is_sparse(A):
        if A.shape[0] * (A.shape[1] + 1) > 20_000_000:
            return A, c, np.arange(c.size)  # too big to compare cheaply: keep duplicates
        M = np.hstack([A.toarray(), c[:, None]])
    else:
        M = np.hstack([A, c[:, None]])
    _, first, inverse = np.unique(M, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)              # unique rows in order of first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    keep = first[order]
    unit = rank[np.asarray(inverse).ravel()]
    A2 = A[keep]
    return _tidy(A2), c[keep], unit


def conv_matrix(in_shape, W: np.ndarray, strides, pads, dilations, group: int = 1):
    """The sparse (CSR) matrix of a 2-D convolution without bias.

    ``in_shape`` is (C, H, W); ``W`` has shape (M, C/group, kH, kW); ``pads`` is
    ONNX's [top, left, bottom, right]. Returns (matrix of shape
    (M*OH*OW, C*H*W), (M, OH, OW)); rows and columns are C-order flat indices.
    The index arrays are built with numpy broadcasting, one pass per kernel
    offset (kh, kw)."""
    C, H, Wd = in_shape
    M, Cg, kH, kW = W.shape
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads
    OH = (H + pt + pb - ((kH - 1) * dh + 1)) // sh + 1
    OW = (Wd + pl + pr - ((kW - 1) * dw + 1)) // sw + 1
    if OH <= 0 or OW <= 0:
        raise ValueError(f"kernel {kH}x{kW} does not fit the input {H}x{Wd}")
    m = np.arange(M)
    oh, ow = np.arange(OH), np.arange(OW)
    chan = (m // (M // group))[:, None] * Cg + np.arange(Cg)[None, :]          # (M, Cg)
    out_row = ((m[:, None, None] * OH + oh[None, :, None]) * OW + ow[None, None, :])  # (M,OH,OW)
    R, Cc, V = [], [], []
    for kh in range(kH):
        ih = oh * sh - pt + kh * dh
        for kw in range(kW):
            iw = ow * sw - pl + kw * dw
            ok = ((ih >= 0) & (ih < H))[:, None] & ((iw >= 0) & (iw < Wd))[None, :]  # (OH,OW)
            w = W[:, :, kh, kw]                                                    # (M, Cg)
            shape = (M, Cg, OH, OW)
            mask = np.broadcast_to(ok[None, None], shape) & (w != 0)[:, :, None, None]
            rows = np.broadcast_to(out_row[:, None], shape)
            cols = (chan[:, :, None, None] * H + ih[None, None, :, None]) * Wd + iw[None, None, None, :]
            vals = np.broadcast_to(w[:, :, None, None], shape)
            R.append(rows[mask])
            Cc.append(np.broadcast_to(cols, shape)[mask])
            V.append(vals[mask])
    L = _sparse().csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(Cc))),
                             shape=(M * OH * OW, C * H * Wd))
    return L, (M, OH, OW)


def pool_windows(in_shape, kernel, strides, pads, dilations, ceil_mode: bool = False):
    """Windows of a 2-D pool over (C, H, W).

    Returns (idx, inpad, (OH, OW)): ``idx`` of shape (C*OH*OW, kH*kW) holds the
    flat input index of every window position, -1 where the position is
    outside the input; ``inpad`` marks the positions inside the padded input
    (for AveragePool's count_include_pad)."""
    C, H, W = in_shape
    kH, kW = kernel
    sh, sw = strides
    dh, dw = dilations
    pt, pl, pb, pr = pads

    def out_len(n, k, s, d, p0, p1):
        span = n + p0 + p1 - ((k - 1) * d + 1)
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + p0:  # the last window must start inside
            o -= 1
        return o

    OH = out_len(H, kH, sh, dh, pt, pb)
    OW = out_len(W, kW, sw, dw, pl, pr)
    if OH <= 0 or OW <= 0:
        raise ValueError(f"pool kernel {kH}x{kW} does not fit the input {H}x{W}")
    ih = (np.arange(OH) * sh - pt)[:, None] + (np.arange(kH) * dh)[None, :]   # (OH, kH)
    iw = (np.arange(OW) * sw - pl)[:, None] + (np.arange(kW) * dw)[None, :]   # (OW, kW)
    IH = ih[:, None, :, None]
    IW = iw[None, :, None, :]                                                  # -> (OH,OW,kH,kW)
    inside = ((IH >= 0) & (IH < H)) & ((IW >= 0) & (IW < W))
    inpad = ((IH >= -pt) & (IH < H + pb)) & ((IW >= -pl) & (IW < W + pr))
    flat = IH * W + IW
    c = np.arange(C)[:, None, None, None, None]
    idx = np.where(inside[None], c * H * W + flat[None], -1)                    # (C,OH,OW,kH,kW)
    idx = idx.reshape(C * OH * OW, kH * kW).astype(np.int64)
    inpad = np.broadcast_to(inpad[None], (C, OH, OW, kH, kW)).reshape(C * OH * OW, kH * kW)
    return idx, inpad, (OH, OW)
