"""The one network a VNN-LIB 2.0 query is verified on.

A query may declare several networks (``equal-to`` one another, isomorphic,
or unrelated), networks with several inputs and outputs, hidden tensors, and
rows relating inputs to outputs. nncc verifies all of it as one function
from the flat ``X`` (every declared input, in declaration order) to the flat
``Y`` (every declared hidden and output tensor, then the copies of inputs
that rows relate to outputs; :mod:`nncc.frontend.vnnlib2`):

* one network with one input and one output and nothing else: its file, as
  it is (a final softmax is handled by :mod:`nncc.problem.output_softmax`);
* otherwise one ONNX model made of every network's graph, names prefixed
  per network (``n0.``, ``n1.``, ...), whose graph inputs are the declared
  inputs in order and whose graph outputs are the declared hidden and output
  tensors and the input copies in order (``Identity`` nodes name the hidden
  tensors and the copies). The graphs share no tensor, so the model computes
  each network on its own inputs; onnxruntime re-checks counterexamples on
  that model.

Declared tensors are matched with the ONNX file by their ONNX name where the
query gives one (hidden tensors always do), else by position among the
graph's inputs or outputs; their sizes must agree.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError


def network_files(query, given: dict[str, str]) -> dict[str, str]:
    """The ONNX file of every declared network: ``given`` maps names to files (the
    ``--network NAME=FILE`` options); a network ``equal-to`` another takes its file."""
    names = [n.name for n in query.networks]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InputError(f"--network {unknown[0]}=...: the query declares no network "
                         f"'{unknown[0]}' (it declares {', '.join(names)})")
    files = {}
    decl = {n.name: n for n in query.networks}
    for n in query.networks:
        if n.equal_to:
            if n.name in given:
                raise InputError(f"--network {n.name}=...: network '{n.name}' is declared "
                                 f"equal-to '{n.equal_to}', which gives its model; leave it out")
            root, seen = n, set()
            while root.equal_to and root.name not in seen:
                seen.add(root.name)
                if root.equal_to not in decl:
                    raise InputError(f"network '{root.name}' is equal-to '{root.equal_to}', "
                                     "which is not declared")
                root = decl[root.equal_to]
            if root.name not in given:
                raise InputError(f"no --network {root.name}=FILE.onnx for network '{root.name}'")
            files[n.name] = given[root.name]
        elif n.name not in given:
            raise InputError(f"no --network {n.name}=FILE.onnx for network '{n.name}' of the "
                             "query")
        else:
            files[n.name] = given[n.name]
    for name, path in files.items():
        if not os.path.isfile(path):
            raise InputError(f"cannot read ONNX file '{path}' (network '{name}'): no such file")
    return files


def _tensor_size(vi) -> int | None:
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        return None
    n = 1
    for k, d in enumerate(tt.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            n *= int(d.dim_value)
        elif k != 0:
            return None   # a symbolic dimension other than the batch
    return n


def _match(path, net_name, declared, available: list, what: str) -> list[str]:
    """ONNX tensor names for the declared variables: by ONNX name, else by position."""
    names = [vi.name for vi in available]
    if len(declared) > len(names) and any(v.onnx_name is None for v in declared):
        raise InputError(f"'{path}' (network '{net_name}') has {len(names)} graph {what}s; the "
                         f"query declares {len(declared)}")
    out = []
    for k, v in enumerate(declared):
        name = v.onnx_name if v.onnx_name is not None else names[k]
        if v.onnx_name is not None and what != "hidden" and name not in names:
            raise InputError(f"'{path}' (network '{net_name}') has no graph {what} "
                             f"'{v.onnx_name}' for {v.name}")
        vi = next((a for a in available if a.name == name), None)
        size = _tensor_size(vi) if vi is not None else None
        if size is not None and size != v.size:
            raise InputError(f"{v.name} is declared with shape {list(v.shape)} ({v.size} values); "
                             f"the {what} '{name}' of '{path}' has {size}")
        out.append(name)
    return out


def query_network(query, files: dict[str, str], workdir: str):
    """The :class:`~nncc.problem.fixed_network.FixedNetwork` from ``X`` to ``Y``; a
    combined model, where one is needed, is written into ``workdir`` (which must
    outlive the network: its counterexamples are re-checked on that file)."""
    from .onnx_graph import load_onnx_or_graph as load_onnx
    nets = query.networks
    one = nets[0]
    if (len(nets) == 1 and len(one.inputs) == 1 and len(one.outputs) == 1 and not one.hidden
            and not query.copies and not query.products):
        net = load_onnx(files[one.name])
        _check_sizes(net, query)
        return net
    path = os.path.join(workdir, "query_model.onnx")
    _combined_model(query, files, path)
    net = load_onnx(path, name="query")
    _check_sizes(net, query)
    return net


def _check_sizes(net, query) -> None:
    p = query.property
    if net.n_inputs != p.n_inputs or net.n_outputs != p.n_outputs:
        raise InputError(f"{query.path}: the query declares {p.n_inputs} input values and "
                         f"{p.n_outputs} output values; the network has {net.n_inputs} inputs "
                         f"and {net.n_outputs} outputs")


def _combined_model(query, files: dict[str, str], out_path: str) -> None:
    import onnx
    from onnx import compose, helper, version_converter

    models = {}
    for n in query.networks:
        try:
            models[n.name] = onnx.load(files[n.name])
        except Exception as e:
            raise InputError(f"not an ONNX model: '{files[n.name]}' ({e})") from None
    opset = max(next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 1)
                for m in models.values())
    nodes, inputs, outputs, inits, vinfo = [], [], [], [], []
    tail_nodes, tail_outputs = [], []
    copies_of: dict[str, str] = {}
    tensor_of: dict[str, str] = {}   # declared variable -> its tensor in the combined graph
    for i, n in enumerate(query.networks):
        m = models[n.name]
        own = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 1)
        if own != opset:
            try:
                m = version_converter.convert_version(m, opset)
            except Exception as e:
                raise InputError(f"'{files[n.name]}' is opset {own}, another network of the query "
                                 f"opset {opset}, and it cannot be converted ({e})") from None
        m = compose.add_prefix(m, f"n{i}.")
        g = m.graph
        init_names = {t.name for t in g.initializer}
        g_inputs = [vi for vi in g.input if vi.name not in init_names]
        in_names = _match(files[n.name], n.name, [_prefixed(v, i) for v in n.inputs],
                          g_inputs, "input")
        out_names = _match(files[n.name], n.name, [_prefixed(v, i) for v in n.outputs],
                           list(g.output), "output")
        byname = {vi.name: vi for vi in g_inputs}
        inputs += [byname[nm] for nm in in_names]
        nodes += list(g.node)
        inits += list(g.initializer)
        vinfo += list(g.value_info)
        outs = {vi.name: vi for vi in g.output}
        produced = {o for nd in g.node for o in nd.output} | set(byname)
        declared_out = dict(zip([v.name for v in n.outputs], out_names))
        for v in n.hidden:
            t = f"n{i}.{v.onnx_name}"
            if t not in produced:
                raise InputError(f"'{files[n.name]}' (network '{n.name}') has no tensor "
                                 f"'{v.onnx_name}' for the hidden {v.name}")
        for v in _y_order(query, n):
            if v.kind == "output":
                outputs.append(outs[declared_out[v.name]])
                tensor_of[v.name] = declared_out[v.name]
            else:
                t = f"n{i}.{v.onnx_name}"
                alias = f"n{i}.__hidden__.{v.name}"
                nodes.append(helper.make_node("Identity", [t], [alias]))
                outputs.append(helper.make_empty_tensor_value_info(alias))
                tensor_of[v.name] = alias
        for v in n.inputs:
            tensor_of[v.name] = in_names[n.inputs.index(v)]
            if v.name in query.copies:
                copies_of[v.name] = in_names[n.inputs.index(v)]
    for name in sorted(query.copies, key=query.copies.get):
        alias = f"__copy__.{name}"
        tail_nodes.append(helper.make_node("Identity", [copies_of[name]], [alias]))
        tail_outputs.append(helper.make_empty_tensor_value_info(alias))
    _product_nodes(query, tensor_of, tail_nodes, tail_outputs, inits)
    graph = helper.make_graph(nodes + tail_nodes, "query", inputs, outputs + tail_outputs, inits,
                              value_info=vinfo)
    ir = max(m.ir_version for m in models.values())
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir
    model = onnx.shape_inference.infer_shapes(model)
    onnx.save(model, out_path)


def _product_nodes(query, tensor_of, nodes, outputs, inits) -> None:
    """The products of polynomial rows (theory POLY) as graph outputs after the copies:
    each factor one value of its tensor (flattened, gathered), a power ``Pow`` by a
    constant exponent (so that an even power stays non-negative in the bounds), the
    factors multiplied."""
    from onnx import helper, numpy_helper
    if not query.products:
        return
    inits.append(numpy_helper.from_array(np.array([-1], np.int64), "__poly__.flat"))
    for k, (_, factors) in enumerate(sorted(query.products)):
        terms = []
        for j, (name, flat, power) in enumerate(factors):
            base = f"__poly__.{k}.{j}"
            inits.append(numpy_helper.from_array(np.array([flat], np.int64), base + ".at"))
            nodes.append(helper.make_node("Reshape", [tensor_of[name], "__poly__.flat"],
                                          [base + ".flat"]))
            nodes.append(helper.make_node("Gather", [base + ".flat", base + ".at"], [base]))
            if power != 1:
                inits.append(numpy_helper.from_array(np.array(float(power), np.float32),
                                                     base + ".power"))
                nodes.append(helper.make_node("Pow", [base, base + ".power"], [base + ".pow"]))
                base += ".pow"
            terms.append(base)
        for j in range(1, len(terms)):
            nodes.append(helper.make_node("Mul", [terms[j - 1], terms[j]],
                                          [f"__poly__.{k}.prod{j}"]))
            terms[j] = f"__poly__.{k}.prod{j}"
        alias = f"__product__.{k}"
        nodes.append(helper.make_node("Identity", [terms[-1]], [alias]))
        outputs.append(helper.make_empty_tensor_value_info(alias))


def _prefixed(v, i):
    """The variable with its ONNX name prefixed as in the combined model."""
    from dataclasses import replace
    return replace(v, onnx_name=None if v.onnx_name is None else f"n{i}.{v.onnx_name}")


def _y_order(query, n):
    return sorted(n.hidden + n.outputs, key=lambda v: v.offset)


def assignment_lines(query, x: np.ndarray, y: np.ndarray) -> list[str]:
    """The standard's command-line assignment: per declared variable in declaration
    order ``NAME TYPE [d1,d2]``, then its values one a line, row-major."""
    lines = []
    for v in query.variables:
        src = x if v.kind == "input" else y
        vals = np.asarray(src[v.offset:v.offset + v.size], float)
        lines.append(f"{v.name} {v.dtype} [{','.join(str(s) for s in v.shape)}]")
        if v.dtype.startswith(("int", "uint")):
            lines += [str(int(round(a))) for a in vals]
        else:
            lines += [repr(float(a)) for a in vals]
    return lines


def serialise_assignment(query, x: np.ndarray, y: np.ndarray, folder: str) -> None:
    """One ``NAME.pb`` (an ONNX TensorProto of the declared type and shape) per declared
    variable, written atomically."""
    from onnx import numpy_helper
    from ..atomic import atomic_output
    os.makedirs(folder, exist_ok=True)
    types = {"float64": np.float64, "float32": np.float32, "float16": np.float16,
             "real": np.float64, "bfloat16": np.float32, "int8": np.int8, "int16": np.int16,
             "int32": np.int32, "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16,
             "uint32": np.uint32, "uint64": np.uint64}
    for v in query.variables:
        src = x if v.kind == "input" else y
        a = np.asarray(src[v.offset:v.offset + v.size], float).reshape(v.shape)
        if v.dtype.startswith(("int", "uint")):
            a = np.round(a)
        t = numpy_helper.from_array(a.astype(types[v.dtype]), v.name)
        with atomic_output(os.path.join(folder, f"{v.name}.pb")) as f:
            f.write(t.SerializeToString())
