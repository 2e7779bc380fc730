"""Rewrites at import keep the truth of every property a user can state.

NNet networks clip every input into the header's [min, max] before they
normalise it; nncc does not encode the clip but works on the clip box. An
input outside the box is still an input, whose outputs are those of its clip:
a disjunct whose box lies (partly) outside must be clipped, not dropped, and
its counterexample is a point of the user's own box."""
from pathlib import Path

import numpy as np
import pytest

from nncc.frontend.vnnlib import parse_vnnlib
from nncc.checks.counterexample import check_counterexample
from nncc.pipeline.verify import verify

NNET = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "nnet"
needs_nnet = pytest.mark.skipif(not (NNET / "TestNetwork.nnet").exists(),
                                reason="../shared/fixtures/nnet is absent")


def _outside_property(net, rows):
    """X_0 in [max_0 + 1, max_0 + 2] (outside the clip box), the others at the centre."""
    lo, hi = net.input_box
    z = (lo + hi) / 2
    z[0] = hi[0]
    y = net.forward(z[None])[0]
    n, m = net.n_inputs, net.n_outputs
    txt = "".join(f"(declare-const X_{i} Real)\n" for i in range(n))
    txt += "".join(f"(declare-const Y_{j} Real)\n" for j in range(m))
    blo, bhi = z.copy(), z.copy()
    blo[0], bhi[0] = hi[0] + 1, hi[0] + 2
    txt += "".join(f"(assert (>= X_{i} {float(blo[i])!r}))\n(assert (<= X_{i} {float(bhi[i])!r}))\n"
                   for i in range(n))
    return txt + rows(float(y[0])), z


@needs_nnet
def test_nnet_box_outside_the_clip_box_is_clipped_not_dropped():
    from nncc.problem.nnet_import import load_nnet
    net = load_nnet(str(NNET / "TestNetwork.nnet"))
    assert net.input_clip
    text, z = _outside_property(net, lambda y0: f"(assert (>= Y_0 {y0 - 0.01!r}))\n"
                                                f"(assert (<= Y_0 {y0 + 0.01!r}))\n")
    prop = parse_vnnlib(text)
    v = verify(None, None, net=net, prop=prop, time_limit=30)
    assert v.status == "sat", (v.how, v.message)     # the old import said unsat
    x = v.check.x
    assert x[0] > net.input_box[1][0]                 # a point of the user's box, outside
    assert check_counterexample(net, prop, x).ok
    y = net.forward(np.clip(x, *net.input_box)[None])[0]   # what the NNet network computes
    assert abs(y[0] - net.forward(z[None])[0][0]) <= 0.01
    text, _ = _outside_property(net, lambda y0: f"(assert (>= Y_0 {y0 + 0.005!r}))\n"
                                                f"(assert (<= Y_0 {y0 + 0.01!r}))\n")
    v = verify(None, None, net=net, prop=parse_vnnlib(text), time_limit=30)
    assert v.status == "unsat"                        # the clip's output is y0, not above


@needs_nnet
def test_nnet_input_rows_outside_the_clip_box_prove_nothing():
    """Rows over inputs speak of the input, not of its clip: outside the box they cannot be
    restated on the clip box, so nothing is proven there."""
    from nncc.problem.nnet_import import load_nnet
    net = load_nnet(str(NNET / "TestNetwork.nnet"))
    text, _ = _outside_property(net, lambda y0: f"(assert (>= Y_0 {y0 + 0.005!r}))\n"
                                                "(assert (>= (- X_0 X_1) 0))\n")
    v = verify(None, None, net=net, prop=parse_vnnlib(text), time_limit=30)
    assert v.status != "unsat"


def test_dropout_in_training_mode_is_refused_not_dropped(tmp_path):
    """Dropout passes its input through only in inference mode; in training mode it drops
    at random, and reading it as the identity would verify another network."""
    import onnx
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh
    from nncc.errors import InputError
    from nncc.problem.onnx_import import load_onnx
    for mode in (True, False):
        X = h.make_tensor_value_info("X", T.FLOAT, [2])
        Y = h.make_tensor_value_info("Y", T.FLOAT, [2])
        g = h.make_graph([h.make_node("Dropout", ["X", "r", "t"], ["D"]),
                          h.make_node("Relu", ["D"], ["Y"])], "g", [X], [Y],
                         [nh.from_array(np.array(0.5, np.float32), "r"),
                          nh.from_array(np.array(mode), "t")])
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
        m.ir_version = 8
        path = tmp_path / f"m{int(mode)}.onnx"
        onnx.save(m, str(path))
        if mode:
            with pytest.raises(InputError, match="training mode"):
                load_onnx(str(path))
        else:
            assert load_onnx(str(path)).forward(np.array([[-1.0, 2.0]])).tolist() == [[0.0, 2.0]]
