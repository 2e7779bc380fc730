"""The Python API on the objects users have: scikit-learn MLPs, torch nn.Sequential, ONNX
ModelProto; properties from numpy and from text. Every answer is checked here on the
object itself (its own predict_proba / forward), not only on nncc's forward pass."""
import numpy as np
import pytest

import nncc
from nncc.errors import InputError

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, float)
XOR_Y = [0, 1, 1, 0] * 8


@pytest.fixture(scope="module")
def xor_clf():
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=1, max_iter=2000)
    clf.fit(XOR_X, XOR_Y)
    assert list(clf.predict(XOR_X[:4])) == [0, 1, 1, 0]
    return clf


@pytest.fixture(scope="module")
def iris_clf():
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier
    X, y = load_iris(return_X_y=True)
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0, max_iter=3000)
    clf.fit(X, y)
    return clf, X, y


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")


def _conv_net(torch, scale=True):
    from torch import nn
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(18, 8), nn.ReLU(), nn.Linear(8, 3))
    if scale:   # classes that change within the unit box
        with torch.no_grad():
            m[0].weight.mul_(3)
            m[-1].weight.mul_(10)
            m[-1].bias.zero_()
    return m


def _torch_out(m, x, shape):
    import torch
    with torch.no_grad():
        return m(torch.tensor(np.reshape(x, (1, *shape)), dtype=torch.float32)).numpy()[0]


# ------------------------------------------------------------------ conversions

def test_classifier_logits_are_those_whose_softmax_is_predict_proba(iris_clf):
    clf, X, _ = iris_clf
    net = nncc.network(clf)
    Z = net.forward(X[:20])
    E = np.exp(Z - Z.max(1, keepdims=True))
    assert np.allclose(E / E.sum(1, keepdims=True), clf.predict_proba(X[:20]), atol=1e-9)
    assert (Z.argmax(1) == clf.predict(X[:20])).all()


def test_a_two_class_classifier_gets_the_logits_zero_and_z(xor_clf):
    net = nncc.network(xor_clf)
    assert net.n_outputs == 2
    Z = net.forward(XOR_X[:4])
    assert np.allclose(Z[:, 0], 0)
    E = np.exp(Z - Z.max(1, keepdims=True))
    assert np.allclose(E / E.sum(1, keepdims=True), xor_clf.predict_proba(XOR_X[:4]), atol=1e-9)


def test_proba_outputs_keep_the_softmax_in_the_file(iris_clf):
    clf, X, _ = iris_clf
    net = nncc.network(clf, proba=True)
    assert net.output_softmax == "Softmax"   # left out of the encoding, kept in the file
    from nncc.checks.check_network import onnx_outputs
    assert np.allclose(onnx_outputs(net, X[:5]), clf.predict_proba(X[:5]), atol=1e-9)


def test_a_regressor_with_tanh_is_read_as_its_graph():
    from sklearn.neural_network import MLPRegressor
    r = MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="lbfgs", random_state=0,
                     max_iter=500).fit(XOR_X, np.array(XOR_Y, float))
    net = nncc.network(r)
    assert "not piecewise linear" in " ".join(net.notes)
    from nncc.checks.check_network import onnx_outputs
    assert np.allclose(onnx_outputs(net, XOR_X[:4]).ravel(), r.predict(XOR_X[:4]), atol=1e-9)


@pytest.mark.parametrize("layers", [
    "conv_stride2_pad", "conv_same_dilation", "conv_groups_nobias", "pool_ceil", "pool_stride1"])
def test_torch_layers_compute_what_torch_computes(layers):
    torch = _torch()
    from torch import nn
    torch.manual_seed(3)
    shape = (2, 9, 9)
    first = {
        "conv_stride2_pad": [nn.Conv2d(2, 3, 3, stride=2, padding=1)],
        "conv_same_dilation": [nn.Conv2d(2, 2, 4, padding="same", dilation=2)],
        "conv_groups_nobias": [nn.Conv2d(2, 4, (3, 2), groups=2, bias=False)],
        "pool_ceil": [nn.Conv2d(2, 2, 2), nn.ReLU(), nn.MaxPool2d(3, stride=2, ceil_mode=True)],
        "pool_stride1": [nn.MaxPool2d(2, stride=1, padding=1)],
    }[layers]
    body = nn.Sequential(*first)
    with torch.no_grad():
        flat = int(np.prod(body(torch.zeros(1, *shape)).shape[1:]))
    m = nn.Sequential(*first, nn.Flatten(), nn.Dropout(0.5), nn.Linear(flat, 4), nn.ReLU(),
                      nn.Identity(), nn.Linear(4, 3))
    m.train()   # the conversion and the check use evaluation mode, and leave the mode alone
    net = nncc.network(m, input_shape=shape)
    assert m.training
    X = np.random.default_rng(1).uniform(-1, 1, (6, int(np.prod(shape))))
    m.eval()
    with torch.no_grad():
        want = m(torch.tensor(X.reshape(6, *shape), dtype=torch.float32)).numpy()
    assert np.allclose(net.forward(X), want, atol=1e-4)


def test_a_model_proto_is_read_as_it_is(tmp_path):
    import onnx
    from conftest import EXAMPLES
    proto = onnx.load(str(EXAMPLES / "xor_net.onnx"))
    net = nncc.network(proto)
    file_net = nncc.network(str(EXAMPLES / "xor_net.onnx"))
    X = np.array([[0, 0], [1, 0], [0.3, 0.8]], float)
    assert np.allclose(net.forward(X), file_net.forward(X))
    saved = tmp_path / "copy.onnx"
    nncc.network(proto, onnx_path=str(saved))
    assert saved.is_file() and onnx.load(str(saved)).graph.node


@pytest.mark.parametrize("make, fragment", [
    (lambda: __import__("sklearn.neural_network").neural_network.MLPClassifier(), "not fitted"),
    (lambda: object(), "cannot read a network from a builtins object"),
    (lambda: np.zeros(3), "cannot read a network from a numpy ndarray"),
])
def test_objects_that_are_not_networks_are_refused(make, fragment):
    with pytest.raises(InputError, match=fragment):
        nncc.network(make())


@pytest.mark.parametrize("layers, kw, fragment", [
    ("conv_first", {}, "needs input_shape"),
    ("linear_after_conv", {"input_shape": (1, 4, 4)}, "put a Flatten before it"),
    ("batchnorm", {}, "BatchNorm1d"),
    ("ends_4d", {"input_shape": (1, 4, 4)}, "end with a Flatten"),
    ("wrong_width", {}, "takes 5 features"),
])
def test_torch_sequentials_nncc_cannot_read_are_refused_in_one_line(layers, kw, fragment):
    torch = _torch()
    from torch import nn
    m = {"conv_first": nn.Sequential(nn.Conv2d(1, 1, 2), nn.Flatten(), nn.Linear(9, 2)),
         "linear_after_conv": nn.Sequential(nn.Conv2d(1, 1, 2), nn.Linear(3, 2)),
         "batchnorm": nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)),
         "ends_4d": nn.Sequential(nn.Conv2d(1, 1, 2), nn.ReLU()),
         "wrong_width": nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))}[layers]
    del torch
    with pytest.raises(InputError, match=fragment) as e:
        nncc.network(m, **kw)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ properties

def test_box_property_checks_its_shapes():
    p = nncc.box_property([0, 0], [1, 1], np.array([[1.0, -1.0]]), [0.0])
    assert (p.n_inputs, p.n_outputs, len(p.disjuncts)) == (2, 2, 1)
    u = nncc.box_property([0, 0], [1, 1], [np.array([[1.0, -1.0]]), np.array([[-1.0, 1.0]])],
                          [[0.0], [0.0]])
    assert len(u.disjuncts) == 2
    for args, fragment in [(([0], [1, 1], [[1.0]], [0]), "lo has 1 values and hi 2"),
                           (([0], [1], [[1.0, 2.0]], [0, 1]), "C has shape"),
                           (([0], [1], [np.ones((1, 2)), np.ones((1, 3))], [[0], [0]]),
                            "have 3 columns, not 2"),
                           (([np.nan], [1], [[1.0]], [0]), "NaN")]:
        with pytest.raises(InputError, match=fragment):
            nncc.box_property(*args)


def test_robustness_property_rows_say_another_class_reaches_the_label():
    p = nncc.robustness_property([0.5, 0.5], 0.1, 1, 3, lo=0.45, hi=1)
    assert len(p.disjuncts) == 2
    d = p.disjuncts[0]
    assert np.allclose(d.lo, [0.45, 0.45]) and np.allclose(d.hi, [0.6, 0.6])
    assert np.allclose(d.C, [[1, -1, 0]]) and np.allclose(d.d, [0])
    with pytest.raises(InputError, match="label 3"):
        nncc.robustness_property([0.5], 0.1, 3, 3)


# ------------------------------------------------------------------ verify

def test_verify_a_classifier_robust_near_a_sample_and_not_far(iris_clf):
    clf, X, y = iris_clf
    i = int(np.flatnonzero(clf.predict(X) == y)[0])
    label = int(clf.predict(X[i:i + 1])[0])
    v = nncc.verify(clf, nncc.robustness_property(X[i], 0.01, label, 3, 0, 1), time_limit=120)
    assert v.status == "unsat", (v.how, v.message)
    v = nncc.verify(clf, nncc.robustness_property(X[i], 0.5, label, 3, 0, 1), time_limit=120)
    assert v.status == "sat", (v.how, v.message)
    x = v.answer.arrays["input"]
    assert np.abs(x - X[i]).max() <= 0.5 + 1e-12 and x.min() >= 0 and x.max() <= 1
    P = clf.predict_proba(x[None])[0]   # the object's own answer: another class reaches it
    assert P.max() - P[label] >= 0 and (np.delete(P, label) >= P[label] - 1e-9).any()
    assert any("checked on the scikit-learn MLPClassifier itself" in n for n in v.notes)


def test_verify_takes_vnnlib_text_and_a_numpy_tuple(xor_clf):
    text = ("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
            "(declare-const Y_1 Real)\n(assert (>= X_0 0.0))\n(assert (<= X_0 0.1))\n"
            "(assert (>= X_1 0.9))\n(assert (<= X_1 1.0))\n(assert (>= Y_0 Y_1))\n")
    v = nncc.verify(xor_clf, text, time_limit=60)
    assert v.status == "unsat", v.message
    v = nncc.verify(xor_clf, (np.array([0.0, 0.9]), np.array([0.1, 1.0]),
                              np.array([[1.0, -1.0]]), np.array([0.0])), time_limit=60)
    assert v.status == "unsat", v.message
    with pytest.raises(InputError, match="not a int"):
        nncc.verify(xor_clf, 3)


def test_verify_a_torch_conv_net_and_check_the_counterexample_in_torch():
    torch = _torch()
    m = _conv_net(torch)
    x0 = np.random.default_rng(0).uniform(0, 1, (1, 6, 6))
    label = int(np.argmax(_torch_out(m, x0, (1, 6, 6))))
    v = nncc.verify(m, nncc.robustness_property(x0, 0.01, label, 3, 0, 1), input_shape=(1, 6, 6),
                    time_limit=120)
    assert v.status == "unsat", v.message
    v = nncc.verify(m, nncc.robustness_property(x0, 0.3, label, 3, 0, 1), input_shape=(1, 6, 6),
                    time_limit=120)
    assert v.status == "sat", v.message
    out = _torch_out(m, v.answer.arrays["input"], (1, 6, 6))
    assert (np.delete(out, label) >= out[label]).any()


def test_an_object_changed_after_it_was_read_fails_the_answers_check():
    """The check on the object can fail: weights changed after nncc read the network."""
    torch = _torch()
    m = _conv_net(torch)
    net = nncc.network(m, input_shape=(1, 6, 6))
    x0 = np.random.default_rng(0).uniform(0, 1, 36)
    label = int(np.argmax(net.forward(x0[None])[0]))
    with torch.no_grad():
        m[-1].bias.add_(1.0)
    v = nncc.verify(None, nncc.robustness_property(x0, 0.3, label, 3, 0, 1), net=net,
                    time_limit=120)
    assert v.status == "unknown" and v.check_failed
    assert any("computes other outputs than it" in n for n in v.notes)


# ------------------------------------------------------------------ the other queries

def test_adversarial_on_a_classifier_is_another_class_for_the_classifier(xor_clf):
    a = nncc.adversarial(xor_clf, [0, 1], lo=0, hi=1, norm="linf", time_limit=60)
    assert a.status == "solution", a.notes
    x = a.arrays["input"]
    assert xor_clf.predict(x[None])[0] == 0   # the object's own class moved
    assert 0 <= x.min() and x.max() <= 1


def test_adversarial_on_a_torch_net_moves_torch_s_class():
    torch = _torch()
    m = _conv_net(torch)
    x0 = np.random.default_rng(0).uniform(0, 1, (1, 6, 6))
    label = int(np.argmax(_torch_out(m, x0, (1, 6, 6))))
    a = nncc.adversarial(m, x0, input_shape=(1, 6, 6), lo=0, hi=1, norm="linf", time_limit=120)
    assert a.status == "solution", a.notes
    out = _torch_out(m, a.arrays["input"], (1, 6, 6))
    assert np.argmax(out) != label


def test_maximize_and_evaluate_a_regressor():
    from sklearn.neural_network import MLPRegressor
    r = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", random_state=0, max_iter=3000)
    r.fit(XOR_X, np.array(XOR_Y, float))
    e = nncc.evaluate(r, XOR_X[:4], time_limit=60)
    assert e.status == "solution"
    assert np.allclose(e.arrays["output"].ravel(), r.predict(XOR_X[:4]), atol=1e-6)
    m = nncc.maximize(r, 0, 0, 1, time_limit=60)
    assert m.status == "solution"
    best = float(r.predict(m.arrays["input"][None])[0])
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41)), -1).reshape(-1, 2)
    assert best >= r.predict(grid).max() - 1e-6   # no grid point beats the optimum


def test_bad_arguments_are_one_line_errors(xor_clf):
    for call, fragment in [
        (lambda: nncc.adversarial(xor_clf, [0, 1, 2], lo=0, hi=1), "x0 has 3 values"),
        (lambda: nncc.adversarial(xor_clf, [0, 1]), "needs an input box"),
        (lambda: nncc.adversarial(xor_clf, [0, 2], lo=0, hi=1), "outside the input box"),
        (lambda: nncc.adversarial(xor_clf, [0, 1], lo=0, hi=1, norm="l2"), "norm must be"),
        (lambda: nncc.maximize(xor_clf, 2, 0, 1), "not one of the 2 outputs"),
        (lambda: nncc.maximize(xor_clf, 0, 1, 0), "empty at input 0"),
        (lambda: nncc.evaluate(xor_clf, [[0, np.inf]]), "not finite"),
    ]:
        with pytest.raises(InputError, match=fragment):
            call()
