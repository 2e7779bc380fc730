"""NNet import: sisl/NNet's reference outputs and agreement with the ONNX version."""
from pathlib import Path

import numpy as np
import pytest

from nncc.errors import InputError
from nncc.problem.fixed_network import Affine, Relu
from nncc.problem.nnet_import import load_nnet

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
NNET = FIXTURES / "nnet"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(),
                                    reason="../shared/fixtures is absent (fresh clone)")

REFERENCE = [270.94961805, 280.8974763, 274.55254776, 288.10071007, 256.18037737]


def clip_to_box(net, x):
    """What NNet does before normalising, and what a caller of nncc must do."""
    lo, hi = net.input_box
    return np.clip(x, lo, hi)


@needs_fixtures
def test_reference_output_of_sisl_nnet():
    net = load_nnet(str(NNET / "TestNetwork.nnet"))
    assert net.name == "TestNetwork" and net.input_shape == (5,) and net.output_shape == (5,)
    assert [type(l) for l in net.layers] == [Affine, Relu] * 6 + [Affine]
    assert net.relu_count() == 300
    x = np.array([1.0, 1.0, 1.0, 100.0, 1.0])
    # This input lies inside [min, max] (x[3] = 100 is the minimum), so NNet's clip
    # does nothing; in general the clip is the caller's, as documented.
    np.testing.assert_allclose(net.forward(clip_to_box(net, x)[None])[0], REFERENCE, rtol=1e-5)
    lo, hi = net.input_box
    np.testing.assert_allclose(lo, [0.0, -3.141593, -3.141593, 100.0, 0.0])
    np.testing.assert_allclose(hi, [60760.0, 3.141593, 3.141593, 1200.0, 1200.0])
    assert any("input_box" in n for n in net.notes)


@needs_fixtures
def test_nnet_and_onnx_versions_agree():
    ort = pytest.importorskip("onnxruntime")
    from nncc.problem.onnx_import import load_onnx

    a = load_nnet(str(NNET / "TestNetwork2.nnet"))
    b = load_onnx(str(NNET / "TestNetwork2.onnx"))
    lo, hi = a.input_box
    X = np.random.default_rng(0).uniform(lo, hi, size=(20, 5))
    X = np.vstack([X, clip_to_box(a, np.array([1.0, 1.0, 1.0, 100.0, 1.0]))])
    ya, yb = a.forward(X), b.forward(X)
    np.testing.assert_allclose(ya, yb, rtol=1e-5, atol=1e-5 * np.abs(yb).max())
    sess = ort.InferenceSession(str(NNET / "TestNetwork2.onnx"), providers=["CPUExecutionProvider"])
    yo = np.array([sess.run(None, {"X": x.astype(np.float32)})[0] for x in X])
    np.testing.assert_allclose(ya, yo, rtol=1e-5, atol=1e-5 * np.abs(yo).max())
    np.testing.assert_allclose(ya[-1], REFERENCE, rtol=1e-5)


def _write_nnet(path, sizes, weights, lo, hi, mean, rng):
    lines = ["// a test network", ",".join(map(str, [len(sizes) - 1, sizes[0], sizes[-1],
                                                    max(sizes)])) + ",",
             ",".join(map(str, sizes)) + ",", "0,"]
    for v in (lo, hi, mean, rng):
        lines.append(",".join(repr(float(t)) for t in v) + ",")
    for W, b in weights:
        for row in W:
            lines.append(",".join(repr(float(t)) for t in row) + ",")
        for t in b:
            lines.append(repr(float(t)) + ",")
    path.write_text("\n".join(lines) + "\n")


def test_small_network_against_the_nnet_formula(tmp_path):
    rng = np.random.default_rng(4)
    sizes = [3, 4, 2]
    weights = [(rng.normal(size=(4, 3)), rng.normal(size=4)),
               (rng.normal(size=(2, 4)), rng.normal(size=2))]
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 5.0, 3.0])
    mean, rg = np.array([0.1, 2.0, 2.5, 0.3]), np.array([2.0, 5.0, 1.0, 7.0])
    p = tmp_path / "small.nnet"
    _write_nnet(p, sizes, weights, lo, hi, mean, rg)
    net = load_nnet(str(p), name="small")
    assert net.name == "small"
    X = rng.uniform(lo - 1, hi + 1, size=(30, 3))
    Xc = np.clip(X, lo, hi)
    h = (Xc - mean[:3]) / rg[:3]
    h = np.maximum(h @ weights[0][0].T + weights[0][1], 0)
    y = (h @ weights[1][0].T + weights[1][1]) * rg[3] + mean[3]
    np.testing.assert_allclose(net.forward(clip_to_box(net, X)), y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text,match", [
    ("", "not an NNet file"),
    ("hello\nworld\n", "not an NNet file"),
    ("2,2,1,3,\n2,3,1,\n0,\n0,0,\n1,1,\n0,0,0,\n1,1,1,\n1,2,\n", "weights and biases"),
    ("2,2,1,3,\n2,5,1,\n0,\n0,0,\n1,1,\n0,0,0,\n1,1,1,\n", "layer sizes"),
])
def test_bad_files(tmp_path, text, match):
    p = tmp_path / "bad.nnet"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        load_nnet(str(p))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_nnet(str(tmp_path / "none.nnet"))
