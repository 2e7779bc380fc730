"""Dense networks with known parameters as ONNX (Gemm + Relu), run by onnxruntime.

A step / sign layer (binarised networks) has no ONNX operator: it is written
as ``Where(GreaterOrEqual(z, 0), gamma, beta)`` after the Gemm (opset 12+),
the same rule as the numpy forward pass (``z >= 0`` gives the upper level).
"""
from __future__ import annotations

import numpy as np

from ..problem.network import RELU, Network
from ..atomic import atomic_output


def network_to_onnx(net: Network, params: dict[str, np.ndarray]):
    """An ``onnx.ModelProto``: input ``net.input_name`` of shape (N, d), output ``output``.

    Weights are float32 initialisers named by their npz keys; every layer is a
    Gemm with ``transB=1`` (weights stored (out, in) as in PyTorch).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    cur = net.input_name
    for k, layer in enumerate(net.layers):
        W = params.get(f"{layer.name}.weight", layer.weight)
        b = params.get(f"{layer.name}.bias", layer.bias)
        inits += [numpy_helper.from_array(np.asarray(W, np.float32), f"{layer.name}.weight"),
                  numpy_helper.from_array(np.asarray(b, np.float32), f"{layer.name}.bias")]
        last = k == len(net.layers) - 1
        z = "output" if last and layer.activation != RELU and not layer.is_step else f"{layer.name}.pre"
        nodes.append(helper.make_node("Gemm", [cur, f"{layer.name}.weight", f"{layer.name}.bias"], [z],
                                      name=f"{layer.name}.gemm", transB=1,
                                      # written out although they are the defaults: some
                                      # readers (OMLT 1.2) require them
                                      alpha=1.0, beta=1.0))
        cur = z
        if layer.is_step:
            beta, gamma = layer.levels
            inits += [numpy_helper.from_array(np.zeros((), np.float32), f"{layer.name}.zero"),
                      numpy_helper.from_array(np.asarray(beta, np.float32), f"{layer.name}.beta"),
                      numpy_helper.from_array(np.asarray(gamma, np.float32), f"{layer.name}.gamma")]
            nodes.append(helper.make_node("GreaterOrEqual", [z, f"{layer.name}.zero"],
                                          [f"{layer.name}.on"], name=f"{layer.name}.compare"))
            a = "output" if last else f"{layer.name}.out"
            nodes.append(helper.make_node("Where", [f"{layer.name}.on", f"{layer.name}.gamma",
                                                    f"{layer.name}.beta"], [a],
                                          name=f"{layer.name}.step"))
            cur = a
        elif layer.activation == RELU:
            a = "output" if last else f"{layer.name}.out"
            nodes.append(helper.make_node("Relu", [z], [a], name=f"{layer.name}.relu"))
            cur = a
    graph = helper.make_graph(
        nodes, net.name,
        [helper.make_tensor_value_info(net.input_name, TensorProto.FLOAT, ["N", net.input_size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", net.output_size])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="nncc", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(model)
    return model


def write_onnx(path: str, net: Network, params: dict[str, np.ndarray]) -> None:
    """Write the network with ``params`` as an ONNX file, atomically."""
    model = network_to_onnx(net, params)
    with atomic_output(path) as f:
        f.write(model.SerializeToString())


def run_onnx(path_or_bytes, X: np.ndarray) -> np.ndarray:
    """Outputs of an ONNX model under onnxruntime (float32)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: np.asarray(X, np.float32)})[0]


# onnxruntime's names of tensor types, as numpy types
ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
             "tensor(float16)": np.float16, "tensor(int64)": np.int64, "tensor(int32)": np.int32,
             "tensor(int16)": np.int16, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8,
             "tensor(uint16)": np.uint16, "tensor(uint32)": np.uint32,
             "tensor(uint64)": np.uint64}


def run_onnx_samples(path: str, X: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """Outputs (N, n_out) of an ONNX model under onnxruntime, one sample at a time, each
    shaped ``input_shape`` with a batch dimension when the model's input has one."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = list(input_shape)
    if len(inp.shape) == len(shape) + 1:
        shape = [1] + shape
    dtype = ORT_TYPES.get(inp.type, np.float32)   # the model's own input type
    rows = [np.asarray(sess.run(None, {inp.name: np.asarray(x).astype(dtype).reshape(shape)})[0],
                       np.float64).reshape(-1) for x in np.asarray(X)]
    return np.stack(rows) if rows else np.zeros((0, 0))
