"""How highs solves a training MILP's root LP (``solve --root-lp``): the option reaches
the real solver, and either method gives a checked answer."""
import numpy as np
import pytest
from conftest import EXAMPLES, run_nncc

import nncc
from nncc.pipeline.solve import ROOT_LP, _focus
from nncc.problem.dataset import Dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery
from nncc.solvers.highs import focus_args
from nncc.solvers.registry import load_registry


def train_query():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (30, 6))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    dom = ParamDomain("real", -1, 1)
    net = Network("n", "x", 6, [DenseLayer("h", 4, "relu", dom, dom),
                                DenseLayer("y", 2, "identity", dom, dom)])
    return TrainQuery("t", net, Dataset("d", X, y, [0, 1]), margin=0.01)


def test_options_file_per_focus(tmp_path):
    argv = focus_args("root-ipm", str(tmp_path))
    assert argv[0] == "--options_file"
    assert open(argv[1]).read() == "mip_lp_solver = ipm\n"
    argv = focus_args("bound", str(tmp_path))
    assert "mip_heuristic_effort = 0\n" in open(argv[1]).read()
    assert focus_args("something else", str(tmp_path)) == []


class _Comp:
    def __init__(self, target):
        self.target = target


class _Query:
    def __init__(self, kind):
        self.kind = kind


@pytest.mark.parametrize("kind, target, start, root_lp, focus", [
    ("train", "mps", None, "auto", "root-ipm"),
    ("train", "mps", None, "simplex", None),
    ("adversarial", "mps", None, "auto", None),
    ("adversarial", "mps", None, "ipm", "root-ipm"),
    ("adversarial", "mps", object(), "ipm", "bound"),   # a known answer: prove the bound
    ("train", "smtlib", None, "ipm", None),
])
def test_focus_by_query_and_option(kind, target, start, root_lp, focus):
    assert _focus(_Query(kind), _Comp(target), start, root_lp) == focus


def test_bad_root_lp_is_refused():
    with pytest.raises(ValueError, match="root_lp must be one of auto, ipm, simplex"):
        nncc.solve(train_query(), "highs", root_lp="barrier")
    assert ROOT_LP == ("auto", "ipm", "simplex")


@pytest.mark.parametrize("solver", ["highs", "highspy"])
@pytest.mark.parametrize("root_lp, told", [("auto", True), ("ipm", True), ("simplex", False)])
def test_real_highs_gets_the_method_and_answers(solver, root_lp, told):
    if not load_registry().get(solver).available():
        pytest.skip(f"{solver} is not installed")
    q = train_query()
    ans = nncc.solve(q, solver, time_limit=60, root_lp=root_lp)
    assert ans.status == "solution" and ans.check.ok and ans.check.accuracy == 1.0
    assert ans.check.min_margin >= q.margin - ans.check.tolerance
    said = "mip_lp_solver" in ans.result.stdout
    assert said == told, ans.result.stdout[:600]


def test_cli_takes_root_lp():
    r = run_nncc("solve", EXAMPLES / "xor.nn", "--solver", "highs", "--root-lp", "simplex")
    assert r.returncode == 0, r.stderr
    r = run_nncc("solve", EXAMPLES / "xor.nn", "--root-lp", "dual")
    assert r.returncode == 2 and "--root-lp" in r.stderr
