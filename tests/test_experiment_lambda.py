"""examples/lambda_vs_n.py: the batched numpy trainer, the slope fit and the --quick run."""
import csv
import math

import numpy as np
import pytest
from conftest import load_example

from nncc.problem.datasets_generated import gaussian_clouds, gaussian_clouds_bayes_error


@pytest.fixture(scope="module")
def exp():
    return load_example("lambda_vs_n")


def test_quick_run_writes_csv_and_png(exp, tmp_path, capsys):
    assert exp.main(["--quick", "--no-check", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Slopes of log10 lambda*" in out
    assert "L2 init x1" in out and "L1 init x1" in out
    png = tmp_path / "lambda_vs_n.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "lambda_vs_n.csv") as f:
        rows = list(csv.DictReader(f))
    # 2 settings x 22 lambdas (0, the paper's 14, 7 beyond its grid) x 2 N x 2 seeds
    assert len(rows) == 2 * 22 * 2 * 2
    lams = sorted({float(r["lambda"]) for r in rows})
    assert lams[0] == 0.0 and lams[1] == 1e-5 and 0.02 in lams and lams[-1] == 2.56
    assert {r["reg"] for r in rows} == {"l1", "l2"}
    assert {int(r["N"]) for r in rows} == {100, 200}
    assert all(0.0 <= float(r["val_err"]) <= 1.0 and float(r["val_ce"]) > 0 for r in rows)
    assert not list(tmp_path.glob(".tmp-*"))


def test_unregularised_training_near_bayes_on_separated_clouds(exp):
    # well separated clouds (Bayes error 2.3%), many patterns: lambda = 0 must get close to it
    distance, std = 4.0, 1.0
    X, y = gaussian_clouds(10, 500, distance, std, seed=1)
    Xv, yv = gaussian_clouds(10, 5000, distance, std, seed=2)
    p = exp.init_weights(1, 1, [1.0], seed=0)
    exp.train(X[None], y[None], [0.0], [0.0], p, 300)
    err, _ce = exp.evaluate(p, Xv, yv)
    bayes = gaussian_clouds_bayes_error(distance, std)
    assert bayes == pytest.approx(0.02275, abs=1e-4)
    assert err[0, 0] < bayes + 0.02
    tr_err, _ = exp.evaluate(p, X, y)
    assert tr_err[0, 0] < 0.05


def test_l2_and_l1_shrink_weights(exp):
    X, y = gaussian_clouds(10, 100, 13.86, 8.0, seed=3)
    lams = [0.0, 1e-3, 10.0]
    p = exp.init_weights(1, 3, [1.0] * 3, seed=0)
    exp.train(X[None], y[None], lams, [0.0] * 3, p, 300)
    norm = (p[0][0] ** 2).sum(axis=(0, 2)) + (p[2][0] ** 2).sum(axis=1)
    assert norm[0] > norm[1] > norm[2]
    assert norm[2] < 1e-3 * norm[0]
    q = exp.init_weights(1, 2, [1.0] * 2, seed=0)
    exp.train(X[None], y[None], [0.0] * 2, [0.0, 1.0], q, 300)
    l1 = np.abs(q[0][0]).sum(axis=(0, 2)) + np.abs(q[2][0]).sum(axis=1)
    assert l1[1] < 0.05 * l1[0]


def test_batched_networks_are_independent(exp):
    # a network trained alone equals the same network trained inside a batch
    X, y = gaussian_clouds(10, 60, 13.86, 8.0, seed=4)
    lams = [1e-4, 1e-2, 0.0]
    scales = [1.0, 0.1, 10.0]
    big = exp.init_weights(1, 3, scales, seed=5, dtype=np.float64)
    exp.train(X[None], y[None], lams, [0.0, 0.0, 1e-3], big, 50)
    one = exp.init_weights(1, 1, [0.1], seed=5, dtype=np.float64)
    exp.train(X[None], y[None], [1e-2], [0.0], one, 50)
    assert np.allclose(one[0][0, :, 0], big[0][0, :, 1], atol=1e-12)
    assert np.allclose(one[2][0, 0], big[2][0, 1], atol=1e-12)


def test_agrees_with_sklearn_mlpclassifier(exp):
    chk = exp.sklearn_check(n=200, lam=1e-3, epochs=200, val=4000)
    assert chk["alpha"] == pytest.approx(0.4)
    # the same full-batch Adam from the same start: same weights up to rounding
    assert chk["adam_weight_diff"] < 1e-8
    assert chk["adam_val_diff"] < 1e-12
    # our default optimiser against L-BFGS to convergence: close validation errors
    assert chk["lbfgs_val_diff"] < 0.03


def test_fit_slope_recovers_known_slope(exp):
    rng = np.random.default_rng(0)
    x = np.repeat(np.log10([100, 200, 400, 800, 1600, 3200]), 5)
    y = 1.5 - 0.8 * x + 0.05 * rng.standard_normal(x.size)
    b, se, a = exp.fit_slope(x, y)
    assert abs(b + 0.8) < 3 * se and se < 0.05
    assert a == pytest.approx(1.5, abs=0.2)
    b, se, a = exp.fit_slope([0, 1, 2], [1, -1, -3])
    assert b == pytest.approx(-2.0) and se == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(exp.fit_slope([0, 1], [0, 1])[1])


def test_pick_takes_smallest_lambda_on_ties(exp):
    assert exp.pick(np.array([1e-3, 1e-2, 1e-1]), np.array([0.3, 0.2, 0.2])) == 1e-2


def test_a_quick_run_never_replaces_the_committed_results(exp, tmp_path, monkeypatch):
    from conftest import ROOT
    committed = ROOT / "docs" / "experiments"
    before = {p.name: p.stat().st_mtime_ns for p in committed.glob("lambda_vs_n*")}
    monkeypatch.chdir(tmp_path)
    assert exp.main(["--quick", "--no-check"]) == 0
    assert (tmp_path / "lambda_vs_n_quick" / "lambda_vs_n.csv").exists()
    assert {p.name: p.stat().st_mtime_ns for p in committed.glob("lambda_vs_n*")} == before


def test_the_papers_optimiser_is_plain_gradient_descent_with_half_l2(exp):
    """One step of --optimiser gd: W_lambda - W_0 = -lr * lambda * W_init exactly (the
    gradient of 1/2 lambda sum W^2 is lambda W), for every weight of both layers."""
    X, y = gaussian_clouds(10, 20, 13.86, 8.0, seed=3)
    lam = 0.3
    runs = []
    for l2 in (0.0, lam):
        p = exp.init_weights(1, 1, [1.0], seed=5, dtype=np.float64)
        start = [a.copy() for a in p]
        exp.train(X[None], y[None], [l2], [0.0], p, 1, 0.1, "constant", optimiser="gd",
                  l2_factor=0.5)
        runs.append(p)
    np.testing.assert_allclose(runs[1][0] - runs[0][0], -0.1 * lam * start[0], atol=1e-12)
    np.testing.assert_allclose(runs[1][2] - runs[0][2], -0.1 * lam * start[2], atol=1e-12)
    np.testing.assert_allclose(runs[1][1], runs[0][1], atol=1e-12)   # biases: no penalty


def test_quick_run_of_both_optimisers(exp, tmp_path, capsys):
    assert exp.main(["--quick", "--no-check", "--optimiser", "both", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gradient descent, lr 0.1 constant (the paper's)" in out and "both optimisers" in out
    with open(tmp_path / "lambda_vs_n_gd.csv") as f:
        rows = list(csv.DictReader(f))
    assert {int(r["N"]) for r in rows} == {8, 16, 32}     # the paper's N start at 8
    assert (tmp_path / "lambda_vs_n.csv").exists() and (tmp_path / "lambda_vs_n_gd.png").exists()
