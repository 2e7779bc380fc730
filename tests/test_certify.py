"""--certify: exact re-checking of MILP answers in rational arithmetic."""
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import nncc
from conftest import EXAMPLES, run_nncc
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
from nncc.problem.query import AdversarialQuery, MaximizeQuery
from nncc.pipeline.certify import activation_pattern, exact_forward

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def test_exact_forward_agrees_with_numpy():
    rng = np.random.default_rng(0)
    net = FixedNetwork("n", (3,), (2,), [Affine("a", np.round(rng.normal(size=(4, 3)), 3), np.zeros(4)),
                                         Relu("r", 4), Affine("b", np.round(rng.normal(size=(2, 4)), 3),
                                                              np.array([0.5, -0.25]))])
    x = [Fraction(1, 3), Fraction(-2, 7), Fraction(5, 4)]
    y = exact_forward(net, x)
    assert np.allclose([float(v) for v in y], net.forward(np.array([[float(v) for v in x]]))[0])
    assert set(activation_pattern(net, np.array([1 / 3, -2 / 7, 5 / 4]))) == {1}


@pytest.mark.parametrize("certifier", ["cvc5", "z3"])
def test_certified_maximum_is_exact(certifier):
    net = FixedNetwork("n", (1,), (1,), [Affine("a", np.array([[1.0], [-1.0]]), np.zeros(2)),
                                         Relu("r", 2), Affine("b", np.array([[1.0, 5.0]]), np.zeros(1))])
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-10.0], [10.0]), "highs", certify=certifier)
    assert ans.status == "solution" and ans.certificate.ok
    assert abs(ans.certificate.value - 50) <= Fraction(50, 10**6) + Fraction(1, 10**9)  # the slack


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures is absent (fresh clone)")
@pytest.mark.parametrize("norm", ["linf", "l1"])
def test_mipverify_answers_certified(norm):
    from nncc.problem.onnx_import import load_onnx
    d = FIXTURES / "mipverify_mfc"
    net = load_onnx(str(d / "mfc_net.onnx"))
    x0 = np.array(json.loads((d / "mfc_net.json").read_text())["input_flattened_C_order"])
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=0, margin=1e-5, norm=norm)
    ans = nncc.solve(q, "highs", certify="cvc5")
    assert ans.status == "solution" and ans.certificate.ok, ans.certificate.problems
    assert float(ans.certificate.value) == pytest.approx(ans.check.value, rel=2e-6)  # the slack
    if norm == "linf":
        assert float(ans.certificate.value) == pytest.approx(0.08112308, rel=5e-5)
    xs = ans.certificate.input
    y = exact_forward(net, xs)
    assert all(y[0] - y[k] >= Fraction(1, 10**5) for k in (1, 2, 3))  # exactly, no tolerance


def test_certify_through_the_command():
    r = run_nncc("solve", EXAMPLES / "xor_questions.nn", "--query", "flip_origin", "--certify",
                 "--json")
    assert r.returncode == 0, r.stderr
    cert = json.loads(r.stdout)["certificate"]
    assert cert["ok"] and Fraction(cert["value"]) > 0
