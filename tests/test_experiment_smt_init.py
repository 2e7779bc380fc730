"""examples/smt_init.py: solver-found weights as the start of SGD (a seconds-long run)."""
import csv
import os

import numpy as np
import pytest
from conftest import load_example

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def exp():
    return load_example("smt_init")


@pytest.fixture(scope="module")
def quick_run(exp, tmp_path_factory):
    out = tmp_path_factory.mktemp("smt_init")
    assert exp.main(["--quick", "--out", str(out)]) == 0
    with open(out / "smt_init.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return out, rows


def forward_logit(coefs, intercepts, X):
    """An independent forward pass of a scikit-learn ReLU MLP: the logit of class 1."""
    h = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        h = np.maximum(h @ W + b, 0.0)
    return (h @ coefs[-1] + intercepts[-1])[:, 0]


def test_quick_run_writes_files_and_expected_cells(quick_run, exp):
    out, rows = quick_run
    for name in ("smt_init.csv", "smt_init.png", "smt_init.md", "smt_init_curves.csv",
                 "smt_init_curves.png"):
        assert (out / name).stat().st_size > 0
    for name in ("smt_init.png", "smt_init_curves.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]
    assert list(rows[0]) == exp.CSV_FIELDS
    keys = sorted((r["hidden"], r["n_smt"], r["init"], r["seed"]) for r in rows)
    assert keys == sorted([("10", "", "random", "0"), ("10", "", "glorot", "0"),
                           ("10,10", "", "random", "0"), ("10,10", "", "glorot", "0"),
                           ("10", "40", "smt", "0"), ("10,10", "40", "smt", "0"),
                           ("10,10", "40", "smt-lifted", "0")])
    for r in rows:
        assert r["data"] == "digits" and r["classes"] == "4v9"
        for k in ("acc_init", "acc_val", "acc_train", "acc_smt_init"):
            if r[k] != "":
                assert 0.0 <= float(r[k]) <= 1.0, (k, r)
        if r["init"] in ("random", "glorot"):
            assert r["acc_val"] != "" and r["acc_smt_init"] == ""
    smt10 = next(r for r in rows if r["init"] == "smt" and r["hidden"] == "10")
    assert smt10["solver"] == "highs" and smt10["solver_status"] == "solution"
    assert float(smt10["solver_seconds"]) > 0
    # the start classified every one of its solver images, through the sklearn model
    assert float(smt10["acc_smt_init"]) == 1.0
    lifted = next(r for r in rows if r["init"] == "smt-lifted")
    assert float(lifted["acc_smt_init"]) == 1.0
    # a lifted start computes the same function: the same validation accuracy before SGD
    assert lifted["acc_init"] == smt10["acc_init"]
    # 10-10 by decomposition: the h=10 first layer fixed, the rest the solver's answer,
    # the whole network checked against the joint query
    two = next(r for r in rows if r["init"] == "smt" and r["hidden"] == "10,10")
    assert two["solver"] == "highs, layer-wise" and two["solver_status"] == "solution"
    assert float(two["acc_smt_init"]) == 1.0 and "layer-wise" in two["note"]
    assert float(two["solver_seconds"]) >= float(smt10["solver_seconds"])
    for r in rows:
        if r["acc_val"] != "":
            for k in ("loss_init", "loss_train", "loss_val"):
                assert 0.0 <= float(r[k]) < 50, (k, r)
    md = (out / "smt_init.md").read_text()
    assert "| 10,10 | 40 | smt-lifted |" in md and "| MILP, layer-wise |" in md
    with open(out / "smt_init_curves.csv", newline="") as f:
        curves = list(csv.DictReader(f))
    epochs = int(rows[0]["epochs"])
    trained = [r for r in rows if r["acc_val"] != ""]
    assert len(curves) == len(trained) * (epochs + 1)
    for r in trained:   # the curve ends where the row's accuracy and losses are
        cur = [c for c in curves if (c["hidden"], c["n_smt"], c["init"], c["seed"])
               == (r["hidden"], r["n_smt"], r["init"], r["seed"])]
        assert [int(c["epoch"]) for c in cur] == list(range(epochs + 1))
        assert float(cur[-1]["acc_val"]) == pytest.approx(float(r["acc_val"]), abs=1e-4)
        assert float(cur[0]["acc_val"]) == pytest.approx(float(r["acc_init"]), abs=1e-4)
        assert float(cur[-1]["loss_val"]) == pytest.approx(float(r["loss_val"]), abs=1e-4)


@pytest.fixture(scope="module")
def small_answer(exp):
    Xtr, ytr, Xva, yva, _ = exp.load_data("digits", (4, 9), None)
    sub = np.sort(np.random.default_rng(3).choice(len(ytr), 30, replace=False))
    params, status, _ = exp.run_solver(64, (10,), Xtr[sub], ytr[sub], (4, 9), "highs", 30.0)
    assert status == "solution" and params is not None
    return Xtr, ytr, Xva, yva, sub, params


@pytest.mark.parametrize("hidden", [(10,), (10, 10), (50,)])
def test_converted_start_classifies_its_solver_images(exp, small_answer, hidden):
    Xtr, ytr, Xva, yva, sub, params = small_answer
    if hidden != (10,):
        params = exp.lift(params, 64, hidden, Xtr[sub], ytr[sub], (4, 9), 0)
    mlp = exp.make_mlp(hidden, params, Xtr, ytr, 0, 3, 0.01, 32)
    # the nncc answer's decisions through the sklearn model: every solver image right
    assert np.array_equal(mlp.predict(Xtr[sub]), ytr[sub])
    # and the sklearn model computes nncc's y1 - y0 everywhere (not only the sign)
    X = np.vstack([Xtr, Xva])
    z_nncc = exp.nncc_logit(64, hidden, params, X)
    z_skl = forward_logit(mlp.coefs_, mlp.intercepts_, X)
    assert np.allclose(z_skl, z_nncc, atol=1e-10)
    assert np.array_equal(mlp.predict(X), (z_nncc > 0).astype(int))
    p = mlp.predict_proba(X)[:, 1]
    assert np.allclose(p, 1 / (1 + np.exp(-z_nncc)), atol=1e-9)
    assert mlp.n_iter_ == 0 and mlp.max_iter == 3 and mlp.batch_size == 32
    before = [W.copy() for W in mlp.coefs_]
    curve = exp.sgd(mlp, Xtr, ytr, Xva, yva, 3, 0)
    assert [c[0] for c in curve] == [0, 1, 2, 3]
    # epoch 0 is the start itself; the last point is the model as it ends
    assert curve[0][3] == pytest.approx(float(np.mean((z_nncc[len(Xtr):] > 0) == yva)))
    assert curve[-1][3] == mlp.score(Xva, yva)
    assert all(np.isfinite(c[1]) and np.isfinite(c[2]) and c[1] >= 0 for c in curve)
    assert mlp.t_ == 3 * len(ytr) and any(not np.array_equal(a, b) for a, b in zip(before, mlp.coefs_))


def test_conversion_uses_y1_minus_y0(exp):
    rng = np.random.default_rng(0)
    params = exp.random_params(5, (3,), rng, "glorot")
    params["y.weight"] = rng.uniform(-1, 1, (2, 3))
    params["y.bias"] = rng.uniform(-1, 1, 2)
    X = rng.uniform(0, 1, (50, 5))
    out = exp.nncc_network(5, (3,)).forward(params, X)
    coefs, ints = exp.to_sklearn(params, (3,))
    assert np.allclose(forward_logit(coefs, ints, X), out[:, 1] - out[:, 0])


def test_random_starts_stay_in_their_boxes(exp):
    rng = np.random.default_rng(1)
    u = exp.random_params(64, (10, 10), rng, "uniform")
    g = exp.random_params(64, (10, 10), rng, "glorot")
    assert max(np.abs(v).max() for v in u.values()) <= 1.0
    assert np.abs(g["h0.weight"]).max() <= np.sqrt(6 / (64 + 10))
    assert np.abs(u["h0.weight"]).max() > np.sqrt(6 / (64 + 10))  # the two starts differ in scale


def _write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(head + arr.tobytes())


def test_idx_files_give_train_and_validation(exp, tmp_path):
    rng = np.random.default_rng(0)
    for part, n in (("train", 30), ("t10k", 12)):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte", rng.integers(0, 256, (n, 4, 4)))
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte", np.arange(n) % 10)
    Xtr, ytr, Xva, yva, _what = exp.load_data("idx", (4, 9), str(tmp_path))
    assert Xtr.shape == (6, 16) and Xva.shape == (2, 16)
    assert list(ytr) == [0, 1, 0, 1, 0, 1] and list(yva) == [0, 1]
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
