"""Starts for adversarial queries (greedy descent + LPs over activation regions) and
the bounds they allow: never below the proven optimum, always checked, exact L1-ball bounds."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncc
from conftest import relu_net
from nncc.encodings.adversarial import encode_adversarial
from nncc.problem.query import adversarial_box, query_label
from nncc.analysis.adversarial_start import find_start
from nncc.analysis.interval_bounds import interval_bounds, l1_ball_affine
from nncc.analysis.lp_bounds import lp_bounds
from nncc.problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu
from nncc.problem.query import AdversarialQuery
from nncc.checks.check_network import check_network_answer


def deep_net(rng, n=6, hidden=(8, 8), classes=4):
    return relu_net(rng, n, hidden, classes, 0.5, "deep")


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["l1", "linf", "l0"]), st.booleans())
def test_start_is_checked_and_never_beats_the_proven_optimum(seed, norm, targeted):
    rng = np.random.default_rng(seed)
    net = deep_net(rng)
    x0 = rng.uniform(0, 1, size=6)
    label = int(np.argmax(net.forward(x0[None])[0]))
    target = (label + 1 + seed % 3) % 4 if targeted else None
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=target, margin=1e-3, norm=norm)
    lo, hi = adversarial_box(q)
    start = find_start(q, lo, hi, query_label(q), time_budget=2.0)
    plain = nncc.solve(q, "highs", time_limit=60, start=False)
    if start is None:
        return
    # the start passes the same forward-pass check as any answer
    chk = check_network_answer(q, {"input": start.x, "output": net.forward(start.x[None])[0]})
    assert chk.ok, chk.problems
    assert chk.value == pytest.approx(start.distance)
    # the MILP without a start proves the optimum; the start can only be worse or equal
    assert plain.status == "solution" and plain.result.optimal
    assert start.distance >= plain.check.value - 1e-6 * (1 + plain.check.value)
    # with the start: the same optimum, proven
    both = nncc.solve(q, "highs", time_limit=60)
    assert both.check.ok
    assert both.check.value == pytest.approx(plain.check.value, rel=1e-4, abs=1e-6)


def test_start_through_maxpool_and_for_any_class():
    rng = np.random.default_rng(3)
    layers = [Affine("a0", rng.normal(size=(8, 5)), rng.normal(size=8)), Relu("r0", 8),
              MaxPool("p", 8, np.arange(8).reshape(4, 2)),
              Affine("out", rng.normal(size=(3, 4)), rng.normal(size=3))]
    net = FixedNetwork("pool", (5,), (3,), layers)
    x0 = rng.uniform(0, 1, size=5)
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, norm="l1")
    lo, hi = adversarial_box(q)
    start = find_start(q, lo, hi, query_label(q))
    assert start is not None
    assert int(np.argmax(net.forward(start.x[None])[0])) != query_label(q)
    ans = nncc.solve(q, "highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.value <= start.distance + 1e-9


def test_no_start_when_the_box_holds_no_adversarial():
    rng = np.random.default_rng(5)
    net = deep_net(rng)
    x0 = rng.uniform(0, 1, size=6)
    label = int(np.argmax(net.forward(x0[None])[0]))
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=(label + 1) % 4, norm="l1", epsilon=1e-6)
    lo, hi = adversarial_box(q)
    assert find_start(q, lo, hi, label) is None
    assert nncc.solve(q, "highs", time_limit=60).status == "no_solution"


@pytest.mark.parametrize("seed", range(6))
def test_l1_ball_bounds_are_exact_and_contain_the_ball(seed):
    """The knapsack bounds of a first layer over box and L1 ball are attained (they match
    an LP over the same set) and contain every sampled point of the set."""
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(7, 12)), rng.normal(size=7)
    lo, hi = np.zeros(12), np.ones(12)
    x0 = rng.uniform(0, 1, size=12)
    r = float(rng.uniform(0.1, 3.0))
    blo, bhi = l1_ball_affine(Affine("a", W, b), lo, hi, x0, r)
    from scipy.optimize import linprog
    # variables x (12), t (12): t >= |x - x0|, sum t <= r
    I = np.eye(12)
    A = np.block([[I, -I], [-I, -I], [np.zeros((1, 12)), np.ones((1, 12))]])
    ub = np.concatenate([x0, -x0, [r]])
    for i in range(7):
        for sign, got in ((1, blo[i]), (-1, bhi[i])):
            res = linprog(np.concatenate([sign * W[i], np.zeros(12)]), A_ub=A, b_ub=ub,
                          bounds=[(0, 1)] * 12 + [(0, None)] * 12, method="highs")
            assert res.status == 0
            assert got == pytest.approx(sign * res.fun + b[i], abs=1e-9)
    # sampled points of the set
    P = x0 + rng.normal(size=(2000, 12)) * rng.uniform(0, 1, size=(2000, 1))
    P = np.clip(P, lo, hi)
    d = np.abs(P - x0).sum(axis=1)
    P = x0 + (P - x0) * np.minimum(1.0, r / np.maximum(d, 1e-300))[:, None]
    Y = P @ W.T + b
    assert np.all(Y >= blo - 1e-12) and np.all(Y <= bhi + 1e-12)


def test_l1_ball_tightens_interval_and_lp_bounds_soundly():
    rng = np.random.default_rng(11)
    net = deep_net(rng, n=20, hidden=(16, 16))
    lo, hi = np.zeros(20), np.ones(20)
    x0 = rng.uniform(0, 1, size=20)
    r = 0.8
    box = interval_bounds(net, lo, hi)
    ball = interval_bounds(net, lo, hi, (x0, r))
    lp = lp_bounds(net, lo, hi, time_budget=20, l1_ball=(x0, r))
    for k in range(len(net.layers)):
        assert np.all(ball.lo[k] >= box.lo[k] - 1e-12) and np.all(ball.hi[k] <= box.hi[k] + 1e-12)
        assert np.all(lp.lo[k] >= ball.lo[k] - 1e-12) and np.all(lp.hi[k] <= ball.hi[k] + 1e-12)
    assert ball.stable_counts()["unstable"] <= box.stable_counts()["unstable"]
    assert np.sum(ball.hi[0] - ball.lo[0]) < np.sum(box.hi[0] - box.lo[0])  # it does tighten
    # every sampled input of the set lies in every bound
    P = np.clip(x0 + rng.normal(size=(3000, 20)) * 0.2, lo, hi)
    d = np.abs(P - x0).sum(axis=1)
    P = x0 + (P - x0) * np.minimum(1.0, r / np.maximum(d, 1e-300))[:, None]
    _, outs = net.forward(P, return_all=True)
    assert lp.contains(outs, tol=1e-9) and ball.contains(outs, tol=1e-9)


def test_cutoff_in_the_program_and_the_start_note():
    rng = np.random.default_rng(2)
    net = deep_net(rng)
    x0 = rng.uniform(0, 1, size=6)
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, norm="l1")
    lo, hi = adversarial_box(q)
    start = find_start(q, lo, hi, query_label(q))
    assert start is not None
    enc = encode_adversarial(q, start=start)
    assert any(b.name == "cutoff" for b in enc.program.blocks)
    assert any("start:" in n for n in enc.notes)
    ans = nncc.solve(q, "highs", time_limit=60)
    assert any("start:" in n for n in ans.notes)


def test_start_is_the_answer_when_the_solver_finds_nothing_closer():
    """A time limit too short for the MILP: the start comes back, checked, as an
    unproven answer (status unknown), with the solver's bound in a note."""
    rng = np.random.default_rng(0)
    net = deep_net(rng, n=100, hidden=(64, 64), classes=10)
    x0 = rng.uniform(0, 1, size=100)
    label = int(np.argmax(net.forward(x0[None])[0]))
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=(label + 1) % 10, norm="l1")
    ans = nncc.solve(q, "highs", time_limit=0.01)
    assert ans.status == "unknown", ans.status
    assert ans.check.ok and ans.arrays is not None
    assert int(np.argmax(net.forward(ans.arrays["input"][None])[0])) == (label + 1) % 10
    assert any("without anything closer than the start" in n for n in ans.notes), ans.notes


def test_an_unproven_checked_answer_is_written_with_exit_3(tmp_path, nncc_cli):
    """Through the command: a time limit too short to prove anything; the start is
    written (exit 3, 'not proven optimal') and the file holds a checked adversarial."""
    from nncc.export.onnx_export import write_onnx
    from nncc.problem.network import DenseLayer, IDENTITY, RELU, Network
    rng = np.random.default_rng(0)
    sizes = [100, 64, 64, 10]
    layers = [DenseLayer(name=f"d{i}", size=sizes[i + 1], activation=RELU if i < 2 else IDENTITY,
                         weight=rng.normal(size=(sizes[i + 1], sizes[i])), bias=rng.normal(size=sizes[i + 1]))
              for i in range(3)]
    write_onnx(str(tmp_path / "n.onnx"), Network(name="n", input_name="input", input_size=100,
                                                 layers=layers), params={})
    x0 = rng.uniform(0, 1, size=100)
    (tmp_path / "q.nn").write_text(
        'network n = onnx "n.onnx"\n'
        f"adversarial n near [{', '.join(f'{v:.6f}' for v in x0)}] "
        "{ any  minimize l1  input in [0, 1] }\n")
    r = nncc_cli("solve", str(tmp_path / "q.nn"), "--solver", "highs", "--time-limit", "0.01",
                 "-o", str(tmp_path / "adv.npz"), cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "not proven optimal" in r.stdout
    with np.load(tmp_path / "adv.npz") as d:
        x = d["input"]
    from nncc.problem.onnx_import import load_onnx
    net = load_onnx(str(tmp_path / "n.onnx"))
    x0r = np.round(x0, 6)
    assert int(np.argmax(net.forward(x[None])[0])) != int(np.argmax(net.forward(x0r[None])[0]))
    assert np.all((x >= 0) & (x <= 1))
