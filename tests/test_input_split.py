"""Input splitting (nncc.analysis.input_split): sound bounds over many boxes at once, verdicts
equal to the MILP's on random networks, ACAS Xu properties decided by splitting."""
from pathlib import Path

import numpy as np
import pytest

from conftest import relu_net, sampled_threshold
from nncc.frontend.vnnlib import parse_vnnlib
from nncc.analysis import input_split
from nncc.checks.counterexample import check_counterexample
from nncc.pipeline.verify import verify

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
needs_acas = pytest.mark.skipif(not (FIXTURES / "nnet").exists()
                                or not (FIXTURES / "vnncomp2021_test").exists(),
                                reason="../shared/fixtures (the ACAS Xu networks) is absent")


@pytest.mark.parametrize("seed", range(6))
def test_box_bounds_hold_at_every_point_of_every_box(seed):
    rng = np.random.default_rng(seed)
    net = relu_net(rng, 3, [12, 10, 8], 4)
    nt = input_split.DenseNet(net)
    C = rng.normal(size=(3, 4))
    lo = rng.uniform(-1, 0.5, size=(40, 3))
    hi = lo + rng.uniform(0, 0.8, size=(40, 3))
    up, A = input_split.box_bounds(nt, C, lo, hi)
    t = rng.uniform(size=(40, 200, 3))
    x = lo[:, None, :] + t * (hi - lo)[:, None, :]
    y = net.forward(x.reshape(-1, 3)).reshape(40, 200, -1) @ C.T   # (boxes, points, rows)
    assert np.all(y.max(axis=1) <= up), (y.max(axis=1) - up).max()
    _, outs = net.forward(x.reshape(-1, 3), return_all=True)
    for k, (l, u) in input_split.relu_bounds(nt, lo, hi).items():   # k: a Relu's index
        z = outs[k - 1].reshape(40, 200, -1)                          # that Relu's input
        assert np.all(z.min(axis=1) >= l) and np.all(z.max(axis=1) <= u)


def test_looseness_shares_are_nonnegative_and_none_where_every_relu_is_stable():
    rng = np.random.default_rng(3)
    net = relu_net(rng, 3, [12, 10, 8], 4)
    nt = input_split.DenseNet(net)
    C = rng.normal(size=(2, 4))
    # boxes so small that every Relu is stable: no chord, no share
    lo = rng.uniform(-1, 1, size=(5, 3))
    up, A, R = input_split.box_bounds(nt, C, lo, lo + 1e-9, relax=True)
    assert R.shape == (5, 2, 3) and np.all(R == 0)
    # wide boxes: shares are >= 0 and some are positive
    lo = rng.uniform(-1, 0, size=(20, 3))
    hi = lo + rng.uniform(0.5, 1.0, size=(20, 3))
    up, A, R = input_split.box_bounds(nt, C, lo, hi, relax=True)
    assert np.all(R >= 0) and R.sum() > 0
    up2, A2 = input_split.box_bounds(nt, C, lo, hi)       # the same bounds (summed apart)
    np.testing.assert_allclose(up, up2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A, A2, rtol=1e-12, atol=1e-12)


def test_conjunction_rows_add_every_subset_sum():
    C = np.eye(3)
    d = np.array([1.0, 2.0, 3.0])
    C2, d2 = input_split.conjunction_rows(C, d)
    assert C2.shape == (7, 3) and len(d2) == 7          # 3 rows + 3 pairs + 1 triple
    assert any(np.array_equal(r, [1, 1, 1]) for r in C2) and 6.0 in d2
    # every point meeting the rows meets the sums
    y = np.array([1.5, 2.0, 3.5])
    assert np.all(C2 @ y >= d2)
    # sums float64 would round are not added
    C3, d3 = input_split.conjunction_rows(C, np.array([0.1, 0.2, 0.3]))
    assert C3.shape == (3, 3)
    C4, _ = input_split.conjunction_rows(np.array([[1.0, -0.3], [0.5, 1.0]]), np.zeros(2))
    assert C4.shape == (2, 2)


def _prop(n_in, n_out, lo, hi, rows):
    head = "".join(f"(declare-const X_{i} Real)" for i in range(n_in)) + \
        "".join(f"(declare-const Y_{j} Real)" for j in range(n_out))
    box = "".join(f"(assert (>= X_{i} {lo!r}))(assert (<= X_{i} {hi!r}))" for i in range(n_in))
    return parse_vnnlib(head + box + "(assert (and " + " ".join(rows) + "))", "p.vnnlib")


@pytest.mark.parametrize("seed", range(8))
def test_splitting_and_the_milp_give_the_same_verdict(seed):
    # rows y_0 >= y_j + t around the sampled best, both sides of it: splitting alone
    # (no falsification, no solver) must agree with the MILP alone, and sat points check
    rng = np.random.default_rng(100 + seed)
    net = relu_net(rng, 2, [10, 10], 3)
    t = sampled_threshold(net, 2, rng, 4000, above=bool(seed % 2))
    prop = _prop(2, 3, -1.0, 1.0, [f"(>= Y_0 (+ Y_1 {t!r}))", f"(>= Y_0 (+ Y_2 {t!r}))"])
    by_split = verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                      falsify_budget=0.0, split_budget=30.0)
    by_milp = verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                     falsify_budget=0.0, split_budget=0.0)
    assert by_split.how in ("input splitting", "bounds"), by_split.report()
    assert by_milp.status in ("sat", "unsat"), by_milp.report()
    assert by_split.status == by_milp.status, (by_split.report(), by_milp.report())
    if by_split.status == "sat":
        assert check_counterexample(net, prop, by_split.check.x).ok
    elif seed % 2 == 0:
        raise AssertionError("a threshold below a sampled point must be sat")


def test_a_box_that_shrinks_to_a_point_is_unknown_not_sat():
    # y = x on [0, 1]; y > 1 holds nowhere, but y >= 1 holds at x = 1: the boxes shrink onto
    # the corner and splitting must say unknown (or unsat), never sat
    from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
    net = FixedNetwork("id", (1,), (1,), [Affine("a", np.array([[1.0]]), np.zeros(1)),
                                          Relu("r", 1), Affine("b", np.array([[1.0]]),
                                                               np.zeros(1))])
    prop = parse_vnnlib("(declare-const X_0 Real)(declare-const Y_0 Real)"
                        "(assert (>= X_0 0))(assert (<= X_0 1))(assert (> Y_0 1))", "p.vnnlib")
    d = prop.disjuncts[0]
    r = input_split.split_verify(net, [(d.C, d.d, d.c_strict)], d.lo, d.hi,
                                 check=lambda x: check_counterexample(net, prop, x).ok,
                                 time_limit=10)
    assert r.status in ("unknown", "unsat")


def _acas_prop(normalised: bool, k: int) -> str:
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from acasxu_properties import vnnlib_text
    return vnnlib_text(k, normalised)


@needs_acas
@pytest.mark.parametrize("net_file,normalised,k,verdict", [
    ("nnet/TestNetwork.nnet", False, 1, "unsat"),        # N1,1, raw units
    ("nnet/TestNetwork.nnet", False, 3, "unsat"),
    ("vnncomp2021_test/test_unsat.onnx", True, 4, "unsat"),   # N1,6
    ("vnncomp2021_test/test_sat.onnx", True, 4, "sat"),       # N1,7
])
def test_acas_xu_properties_by_splitting(net_file, normalised, k, verdict):
    from nncc.problem.property import load_network
    net = load_network(str(FIXTURES / net_file))
    prop = parse_vnnlib(_acas_prop(normalised, k), f"prop_{k}.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=120,
               falsify_budget=0.0)
    assert v.status == verdict, v.report()
    assert v.how == "input splitting" and v.milp_runs == 0, v.report()
    if verdict == "sat":
        assert check_counterexample(net, prop, v.check.x).ok


@needs_acas
def test_the_relaxation_aware_rule_needs_fewer_boxes_than_the_slope_rule():
    # ACAS Xu property 2 / N1,7 holds; with the Relu chords' share in the choice of the
    # input to bisect it is proven in 369 boxes, by width x slope alone in 1,477
    from nncc.problem.property import load_network
    net = load_network(str(FIXTURES / "vnncomp2021_test/test_sat.onnx"))
    prop = parse_vnnlib(_acas_prop(True, 2), "prop_2.vnnlib")
    runs = {rule: verify(None, None, net=net, prop=prop, solver="highs", time_limit=120,
                         falsify_budget=0.0, split_rule=rule) for rule in ("relax", "slope")}
    for v in runs.values():
        assert v.status == "unsat" and v.how == "input splitting", v.report()
    assert 2 * runs["relax"].split_boxes < runs["slope"].split_boxes, \
        (runs["relax"].split_boxes, runs["slope"].split_boxes)


@needs_acas
def test_cli_split_time_zero_leaves_it_to_the_solver(tmp_path):
    from conftest import run_nncc
    p = tmp_path / "prop_1.vnnlib"
    p.write_text(_acas_prop(True, 1))
    r = run_nncc("verify", FIXTURES / "vnncomp2021_test/test_sat.onnx", p, "--json",
                 "--time-limit", "60")
    assert r.returncode == 1 and '"how": "input splitting"' in r.stdout, r.stdout + r.stderr
    r = run_nncc("verify", FIXTURES / "vnncomp2021_test/test_sat.onnx", p, "--json",
                 "--time-limit", "3", "--split-time", "0")
    assert '"split_boxes": 0' in r.stdout, r.stdout + r.stderr


@needs_acas
def test_lp_bounds_wait_for_the_disjuncts_that_reach_the_solver():
    from nncc.problem.property import load_network
    net = load_network(str(FIXTURES / "vnncomp2021_test/test_unsat.onnx"))
    prop = parse_vnnlib(_acas_prop(True, 1), "prop_1.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=120, bounds="lp",
               falsify_budget=0.0)
    assert v.status == "unsat" and v.how == "input splitting", v.report()
    assert "tighten" not in v.seconds, v.report()     # symbolic only: no LP tightening
    # without splitting the LP bounds are computed and the MILP decides
    v = verify(None, None, net=net, prop=parse_vnnlib(_acas_prop(True, 4), "p4.vnnlib"),
               solver="highs", time_limit=120, bounds="lp", falsify_budget=0.0, split_budget=0.0)
    assert v.status == "unsat", v.report()
    assert "split" not in v.seconds and "tighten" not in v.seconds, v.report()  # LP at once


# ------------------------------------------------------------------ on several processes

@pytest.mark.parametrize("seed, t, verdict", [(0, 6, "unsat"), (1, 6, "unsat"),
                                               (0, 10, "unsat"), (2, 10, "sat"), (3, 16, "sat")])
def test_splitting_on_two_workers_agrees_with_one_and_bounds_the_same_boxes(seed, t, verdict):
    """The parts are the frontier of the same search, so a proof bounds exactly the boxes
    one process bounds; a counterexample passes the full check."""
    rng = np.random.default_rng(200 + seed)
    net = relu_net(rng, 3, [24, 24], 3)
    prop = _prop(3, 3, -1.0, 1.0, [f"(>= Y_0 (+ Y_1 {t!r}))", f"(>= Y_0 (+ Y_2 {t!r}))"])
    one, two = (verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                       falsify_budget=0.0, split_budget=30.0, split_workers=w) for w in (1, 2))
    assert one.status == two.status == verdict, (one.report(), two.report())
    assert one.how == two.how == "input splitting"
    if verdict == "unsat":
        assert one.split_boxes == two.split_boxes > 16   # more than the parts handed out
        assert two.budgets["split"]["workers"] == 2
    else:
        assert check_counterexample(net, prop, two.check.x).ok


@needs_acas
def test_a_hard_acas_xu_proof_on_two_workers_uses_both_and_runs_out_honestly():
    """Property 6 on N1,7 needs 25,764 boxes: two workers bound them all (the same proof),
    with the CPU of two processes; with too small a budget the verdict is unknown."""
    from nncc.problem.property import load_network
    net = load_network(str(FIXTURES / "vnncomp2021_test/test_sat.onnx"))
    prop = parse_vnnlib(_acas_prop(True, 6), "prop_6.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=300,
               falsify_budget=0.0, split_workers=2)
    assert v.status == "unsat" and v.how == "input splitting", v.report()
    assert v.split_boxes == 25_764
    assert v.budgets["split"]["workers"] == 2 and v.budgets["split"]["budget"] > 0
    from nncc.analysis.parallel_split import split_verify_parallel
    d = prop.disjuncts[0]
    rows = [(dj.C, dj.d, dj.c_strict) for dj in prop.disjuncts]
    short = split_verify_parallel(net, rows, d.lo, d.hi, check=lambda x: False,
                                  numpy_check=lambda x: False, workers=2, time_limit=1.0)
    assert short.status == "unknown" and "parts left open" in short.reason, short


def test_cli_split_workers_must_not_be_negative(tmp_path):
    from conftest import run_nncc
    r = run_nncc("verify", "x.onnx", "p.vnnlib", "--split-workers", "-1")
    assert r.returncode == 2 and "--split-workers must be 0" in r.stderr
