"""Adversarial and minimal-correction queries: known distances, brute force, both back ends."""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncc
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
from nncc.problem.query import AdversarialQuery

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(),
                                    reason="../shared/fixtures is absent (fresh clone)")


def mipverify():
    from nncc.problem.onnx_import import load_onnx
    d = FIXTURES / "mipverify_mfc"
    net = load_onnx(str(d / "mfc_net.onnx"))
    x0 = np.array(json.loads((d / "mfc_net.json").read_text())["input_flattened_C_order"])
    return net, x0


@needs_fixtures
@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("epsilon,expected", [(None, 0.08112308), (0.08, None), (0.085, 0.08112308)])
def test_mipverify_minimal_linf_distances(solver, epsilon, expected):
    """MIPVerify.jl's known answers (relative tolerance 5e-5, as MIPVerify checks them).
    A margin of 1e-5 stands in for MIPVerify's margin 0: ties are not flips, and a
    smaller margin can tie under onnxruntime's float32 arithmetic."""
    net, x0 = mipverify()
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=0, margin=1e-5, norm="linf",
                         epsilon=epsilon)
    ans = nncc.solve(q, solver, time_limit=120)
    if expected is None:
        assert ans.status == "no_solution"
        return
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    assert ans.check.value == pytest.approx(expected, rel=5e-5)
    assert int(np.argmax(net.forward(ans.arrays["input"][None])[0])) == 0


@needs_fixtures
def test_mipverify_untargeted_l1_and_l0():
    net, x0 = mipverify()
    for norm in ("l1", "l0"):
        ans = nncc.solve(AdversarialQuery("a", net, x0, 0.0, 1.0, norm=norm), "highs", time_limit=120)
        assert ans.status == "solution" and ans.check.ok, ans.check.problems
        assert int(np.argmax(net.forward(ans.arrays["input"][None])[0])) != 2
    assert ans.check.value >= 1  # at least one pixel changed


def small_net(rng, hidden=4, classes=3):
    return FixedNetwork("small", (2,), (classes,), [
        Affine("a0", rng.normal(size=(hidden, 2)), rng.normal(size=hidden)), Relu("r0", hidden),
        Affine("a1", rng.normal(size=(classes, hidden)), rng.normal(size=classes))])


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["linf", "l1"]))
def test_brute_force_grid_agrees_with_milp_and_smt(seed, norm):
    rng = np.random.default_rng(seed)
    net = small_net(rng)
    x0 = rng.uniform(-1, 1, size=2)
    label = int(np.argmax(net.forward(x0[None])[0]))
    margin = 1e-3
    g = np.linspace(-3, 3, 601)
    G = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    Y = net.forward(G)
    # a target that wins somewhere in the box, so that most examples have an answer
    seen = [k for k in np.unique(Y.argmax(axis=1)) if k != label]
    target = int(seen[seed % len(seen)]) if seen else (label + 1) % 3
    ok = Y[:, target] - np.delete(Y, target, axis=1).max(axis=1) >= margin
    d = np.abs(G - x0).max(axis=1) if norm == "linf" else np.abs(G - x0).sum(axis=1)
    q = AdversarialQuery("a", net, x0, -3.0, 3.0, target=target, margin=margin, norm=norm)
    milp = nncc.solve(q, "highs", time_limit=60)
    smt = nncc.solve(q, "z3", time_limit=60)
    if not ok.any():
        # no grid point flips: the region is empty or thinner than the grid
        assert milp.status in ("no_solution", "solution")
        if milp.status == "solution":
            assert milp.check.ok
        return
    assert milp.status == "solution" and milp.check.ok, milp.check.problems
    best = d[ok].min()
    assert milp.check.value <= best + 1e-6  # a grid point is feasible: the optimum is no worse
    if smt.status == "solution":
        assert smt.check.ok
        assert smt.check.value == pytest.approx(milp.check.value, abs=1e-5)


def test_the_answer_names_the_step_that_decided_and_times_each_step():
    """solve's steps report their seconds under their names and the answer says which
    decided; ``verdict`` is the answer in verify's words."""
    net = small_net(np.random.default_rng(3))
    x0 = np.array([0.3, -0.2])
    ans = nncc.solve(AdversarialQuery("a", net, x0, -5.0, 5.0, norm="linf"), "highs",
                     time_limit=60)
    assert ans.status == "solution" and ans.check.ok and ans.verdict == "sat"
    label = int(np.argmax(net.forward(x0[None])[0]))
    assert int(np.argmax(net.forward(ans.arrays["input"][None])[0])) != label
    assert {"bounds", "start", "compile", "total"} <= set(ans.seconds)
    assert ans.how in ("start", "relu splitting", "highs") and ans.report()["how"] == ans.how
    # the solver's seconds only when a solver ran (not "0.00 s in the solver")
    if ans.how == "highs":
        assert {"write", "solve"} <= set(ans.seconds)
    elif ans.how == "relu splitting":
        assert "solve" not in ans.seconds and "write" not in ans.seconds
    tiny = nncc.solve(AdversarialQuery("a", net, x0, -5.0, 5.0, norm="linf", epsilon=1e-9),
                      "highs", time_limit=60)
    assert tiny.status == "no_solution" and tiny.verdict == "unsat" and tiny.how == "bounds"
    assert "bounds" in tiny.seconds and "start" not in tiny.seconds  # nothing ran after the proof


@needs_fixtures
def test_the_radius_the_bounds_prove_is_a_lower_bound_on_the_distance():
    # MIPVerify's network: the minimal L-infinity distance is 0.08112308; the bounds alone
    # must prove some radius, and never more than that
    from nncc.analysis.adversarial_bounds import proven_radius
    net, x0 = mipverify()
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=0, margin=1e-5, norm="linf")
    r = proven_radius(q, 0.5, budget=10.0)
    assert 0.01 < r <= 0.08112308
    # a solver stopped before its proof: the answer's lower bound is at least that radius
    # (HiGHS's own bound after 0.01 s may be higher or lower, depending on how far it got)
    ans = nncc.solve(q, "highs", time_limit=0.01)
    assert not ans.result.optimal and 0.01 < ans.result.bound <= 0.08112308, ans.notes
    floor = proven_radius(q, ans.check.value)
    assert ans.result.bound >= floor - 1e-12, ans.notes
    # where the solver proved less (here: nothing), the radius becomes the bound, with a note
    from nncc.pipeline.adversarial import distance_floor
    from nncc.progress import Progress
    from nncc.solvers.result import SolverResult
    stopped = SolverResult("unknown", solver="highs")
    note = distance_floor(q, stopped, None, Progress(False))
    assert stopped.bound == proven_radius(q, None) > 0.01 and note.startswith(
        "the bounds prove no input within linf distance"), note
    # small random networks, L1 and L-infinity: below the MILP's optimum, often well above 0
    rng = np.random.default_rng(5)
    positive = 0
    for _ in range(6):
        net = small_net(rng)
        x0 = rng.uniform(-1, 1, size=2)
        label = int(np.argmax(net.forward(x0[None])[0]))
        for norm in ("l1", "linf"):
            q = AdversarialQuery("a", net, x0, -3.0, 3.0, target=(label + 1) % 3, margin=1e-3,
                                 norm=norm)
            ans = nncc.solve(q, "highs", time_limit=60)
            r = proven_radius(q, 12.0, budget=10.0)
            if ans.status == "solution":
                assert ans.result.optimal and r <= ans.check.value + 1e-9, (r, ans.check.value)
            positive += r > 0
    assert positive >= 3


def test_minimal_correction_is_a_target_equal_to_the_label():
    rng = np.random.default_rng(5)
    net = small_net(rng)
    x0 = np.array([0.3, 0.7])
    given_class = int(np.argmax(net.forward(x0[None])[0]))
    true = (given_class + 2) % 3  # pretend the input is misclassified
    q = AdversarialQuery("fix", net, x0, 0.0, 1.0, target=true, label=true, norm="l1")
    ans = nncc.solve(q, "cbc", time_limit=60)
    if ans.status == "solution":
        assert ans.check.ok and int(np.argmax(net.forward(ans.arrays["input"][None])[0])) == true
    else:
        assert ans.status == "no_solution"


def test_ratio_and_bad_targets():
    from nncc.errors import InputError
    rng = np.random.default_rng(9)
    net = small_net(rng)
    x0 = np.array([0.5, 0.5])
    with pytest.raises(InputError, match="not an output"):
        nncc.lower(AdversarialQuery("a", net, x0, 0.0, 1.0, target=7), "mps")
    with pytest.raises(InputError, match="ratio needs a target"):
        nncc.lower(AdversarialQuery("a", net, x0, 0.0, 1.0, ratio=1.2), "mps")
    label = int(np.argmax(net.forward(x0[None])[0]))
    q = AdversarialQuery("a", net, x0, -5.0, 5.0, target=(label + 1) % 3, ratio=1.2, norm="linf")
    ans = nncc.solve(q, "highs", time_limit=60)
    if ans.status == "solution":
        y = net.forward(ans.arrays["input"][None])[0]
        t = (label + 1) % 3
        assert ans.check.ok and np.all(y[t] >= 1.2 * np.delete(y, t) - 1e-6)


@needs_fixtures
def test_tighter_bounds_give_the_same_answer_with_fewer_unstable_relus():
    net, x0 = mipverify()
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=0, margin=1e-5, norm="linf", epsilon=0.09)
    from nncc.pipeline.compile import encode_query
    binaries = {}
    for method in ("interval", "symbolic", "lp"):
        comp = nncc.lower(q, "mps", encoded=encode_query(q, bounds=method))
        assert comp.encoded.notes[0].startswith(f"{method} bounds")
        binaries[method] = comp.program.var_counts()["bool"]
    assert binaries["symbolic"] < binaries["interval"]
    assert binaries["lp"] <= binaries["symbolic"]
    answers = [nncc.solve(q, "highs", bounds=m, start=s) for m in ("interval", "symbolic", "lp")
               for s in (False, True)]
    assert all(a.status == "solution" and a.result.optimal for a in answers)
    for a in answers[1:]:
        # highs stops at a relative gap of 1e-4
        assert a.check.value == pytest.approx(answers[0].check.value, rel=1e-4)
