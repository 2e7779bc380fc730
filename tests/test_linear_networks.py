"""Networks without a ReLU: purely affine graphs (Gemm, Add, BatchNormalization, data
movement only), the identity (no layer at all), and MaxPool as the only non-linear op,
answered by ``verify`` through every step (falsification, bounds, input and ReLU
splitting, the MILP) and through the command line."""
import itertools

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from conftest import run_nncc  # noqa: E402
from nncc.frontend.vnnlib import parse_vnnlib  # noqa: E402
from nncc.problem.fixed_network import Affine, FixedNetwork  # noqa: E402
from nncc.problem.onnx_import import load_onnx  # noqa: E402
from nncc.checks.counterexample import check_counterexample  # noqa: E402
from nncc.pipeline.verify import verify  # noqa: E402


def _f(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _i(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def _save(tmp_path, fname, nodes, inits, in_shape, out_shape, opset=13):
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, in_shape)
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, out_shape)
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    p = tmp_path / fname
    onnx.save(model, str(p))
    return p


def _models(tmp_path):
    rng = np.random.default_rng(3)
    n = helper.make_node
    return {
        "gemm": _save(tmp_path, "gemm.onnx",
                      [n("Gemm", ["X", "W", "B"], ["Y"], transB=1)],
                      [_f("W", [[1, 2, 0], [3, -1, 0.5]]), _f("B", [0.5, 0])], [1, 3], [1, 2]),
        # a Gemm that is exactly the identity: no layer is emitted for it
        "gemm_identity": _save(tmp_path, "gemm_id.onnx",
                               [n("Gemm", ["X", "W"], ["Y"])], [_f("W", np.eye(3))],
                               [1, 3], [1, 3]),
        "add": _save(tmp_path, "add.onnx", [n("Add", ["X", "B"], ["Y"])],
                     [_f("B", [0.5, -1, 2])], [1, 3], [1, 3]),
        "batchnorm": _save(tmp_path, "bn.onnx",
                           [n("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"])],
                           [_f("s", [2, -1, 0.5]), _f("b", [0.1, 0.2, 0]),
                            _f("m", [0.3, 0.4, -1]), _f("v", [1, 4, 0.25])], [1, 3], [1, 3]),
        "movement": _save(tmp_path, "move.onnx",
                          [n("Reshape", ["X", "s3"], ["r"]),
                           n("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
                           n("Flatten", ["t"], ["f"]),
                           n("Unsqueeze", ["f", "ax"], ["u"]),
                           n("Reshape", ["u", "s2"], ["Y"])],
                          [_i("s3", [1, 3, 2]), _i("ax", [0]), _i("s2", [1, 6])], [1, 6], [1, 6]),
        "identity": _save(tmp_path, "ident.onnx", [n("Identity", ["X"], ["Y"])], [],
                          [1, 3], [1, 3]),
        "maxpool": _save(tmp_path, "maxpool.onnx",
                         [n("MaxPool", ["X"], ["p"], kernel_shape=[2, 2], strides=[1, 1]),
                          n("Flatten", ["p"], ["Y"])], [], [1, 1, 3, 3], [1, 4]),
        # 40 inputs: no input splitting; ReLU-free, so no ReLU splitting either
        "gemm_wide": _save(tmp_path, "gemm_wide.onnx",
                           [n("Gemm", ["X", "W", "B"], ["Y"], transB=1)],
                           [_f("W", rng.normal(size=(2, 40))), _f("B", [0.5, 0])], [1, 40], [1, 2]),
    }


def _stable_relu(tmp_path, n_in):
    """Relu(X + 3) over inputs in [-1, 1]: every ReLU always active (none unstable)."""
    rng = np.random.default_rng(n_in)
    n = helper.make_node
    return _save(tmp_path, f"stable{n_in}.onnx",
                 [n("Add", ["X", "B"], ["z"]), n("Relu", ["z"], ["r"]),
                  n("Gemm", ["r", "W", "C"], ["Y"], transB=1)],
                 [_f("B", np.full(n_in, 3.0)), _f("W", rng.normal(size=(2, n_in))), _f("C", [0.5, 0])],
                 [1, n_in], [1, 2])


def _max_y0(net, lo, hi):
    """The exact maximum of output 0 over the box: at a corner for these networks (affine,
    or a max of affine functions: convex); by the affine formula for wide affine ones."""
    n = net.n_inputs
    if n <= 10:
        P = np.array(list(itertools.product(*zip(lo, hi))))
        return float(net.forward(P)[:, 0].max())
    b = net.forward(np.zeros((1, n)))[0]
    W = (net.forward(np.eye(n)) - b).T
    return float(np.maximum(W[0], 0) @ hi + np.minimum(W[0], 0) @ lo + b[0])


def _vnnlib(n, m, lo, hi, t):
    s = "".join(f"(declare-const X_{i} Real)\n" for i in range(n))
    s += "".join(f"(declare-const Y_{j} Real)\n" for j in range(m))
    s += "".join(f"(assert (>= X_{i} {float(lo[i])!r}))\n(assert (<= X_{i} {float(hi[i])!r}))\n"
                 for i in range(n))
    return s + f"(assert (>= Y_0 {float(t)!r}))\n"


def _property(net, sat):
    lo = np.linspace(-1.0, -0.5, net.n_inputs)
    hi = np.linspace(0.5, 1.0, net.n_inputs)
    t = _max_y0(net, lo, hi) + (-0.25 if sat else 0.25)
    return _vnnlib(net.n_inputs, net.n_outputs, lo, hi, t), t


OPTIONS = {"default": {}, "no-falsify": {"falsify_budget": 0.0},
           "milp": {"falsify_budget": 0.0, "split_budget": 0.0},
           "interval-milp": {"falsify_budget": 0.0, "split_budget": 0.0, "bounds": "interval"},
           "lp": {"falsify_budget": 0.0, "split_budget": 0.0, "bounds": "lp"}}


def _assert_verdict(net, prop, v, sat, t):
    assert v.status == ("sat" if sat else "unsat"), v.report()
    if sat:
        assert v.check is not None and v.check.ok
        y = net.forward(v.check.x[None])[0]
        assert y[0] >= t
        assert check_counterexample(net, prop, v.check.x).ok


@pytest.mark.parametrize("model", ["gemm", "gemm_identity", "add", "batchnorm", "movement",
                                   "identity", "maxpool", "gemm_wide"])
@pytest.mark.parametrize("sat", [True, False])
def test_relu_free_networks_are_answered(tmp_path, model, sat):
    path = _models(tmp_path)[model]
    net = load_onnx(str(path))
    assert net.layers and net.relu_count() == 0
    text, t = _property(net, sat)
    prop = parse_vnnlib(text, "p.vnnlib")
    for name, opts in OPTIONS.items():
        v = verify(str(path), None, prop=parse_vnnlib(text, "p.vnnlib"), time_limit=60, **opts)
        _assert_verdict(net, prop, v, sat, t)


@pytest.mark.parametrize("n_in", [4, 40])   # input splitting; ReLU splitting
@pytest.mark.parametrize("sat", [True, False])
def test_relu_networks_without_an_unstable_relu(tmp_path, n_in, sat):
    path = _stable_relu(tmp_path, n_in)
    net = load_onnx(str(path))
    assert net.relu_count() == n_in
    # the ReLUs are the identity on the box: the maximum of an affine function
    lo = np.linspace(-1.0, -0.5, n_in)
    hi = np.linspace(0.5, 1.0, n_in)
    b = net.forward(np.zeros((1, n_in)))[0]
    W = (net.forward(np.eye(n_in)) - b).T
    t = float(np.maximum(W[0], 0) @ hi + np.minimum(W[0], 0) @ lo + b[0]) + (-0.25 if sat else 0.25)
    text = _vnnlib(n_in, 2, lo, hi, t)
    for name, opts in OPTIONS.items():
        prop = parse_vnnlib(text, "p.vnnlib")
        v = verify(str(path), None, prop=prop, time_limit=60, **opts)
        _assert_verdict(net, prop, v, sat, t)


@pytest.mark.parametrize("n", [3, 40])
@pytest.mark.parametrize("sat", [True, False])
def test_network_without_any_layer_is_the_identity(n, sat):
    """A FixedNetwork with an empty layer list (the identity) goes through every step."""
    net = FixedNetwork("id", (n,), (n,), [])
    text, t = _property(net, sat)
    for name, opts in OPTIONS.items():
        prop = parse_vnnlib(text, "p.vnnlib")
        v = verify(None, None, net=net, prop=prop, time_limit=60, **opts)
        _assert_verdict(net, prop, v, sat, t)


def test_identity_graph_imports_as_one_identity_affine(tmp_path):
    models = _models(tmp_path)
    for m in ("identity", "movement", "gemm_identity"):
        net = load_onnx(str(models[m]))
        assert len(net.layers) == 1 and isinstance(net.layers[0], Affine)
        X = np.random.default_rng(0).normal(size=(4, net.n_inputs))
        if m != "movement":
            np.testing.assert_array_equal(net.forward(X), X)


@pytest.mark.parametrize("model", ["gemm", "identity", "maxpool"])
def test_cli_on_relu_free_networks(tmp_path, model):
    path = _models(tmp_path)[model]
    net = load_onnx(str(path))
    for sat in (True, False):
        text, t = _property(net, sat)
        prop = tmp_path / f"{model}_{sat}.vnnlib"
        prop.write_text(text)
        for extra in ([], ["--falsify-time", "0"]):
            r = run_nncc("verify", path, prop, "--time-limit", "60", *extra)
            assert r.returncode == (0 if sat else 1), r.stderr
            assert r.stdout.strip() == ("sat" if sat else "unsat"), r.stderr
