"""nncc plot (nncc.pipeline.batch_report): the summary table and the cactus plot of batch
results, from a real batch of nncc verify runs; the PNG is read back."""
import csv

import numpy as np
import pytest

from conftest import relu_net, run_nncc, save_relu_onnx, write
from nncc.errors import EXIT_BAD_INPUT

plt = pytest.importorskip("matplotlib.pyplot")


def _property(path, top: float, bump: float):
    """Y_0 - Y_1 >= top + bump over [-1, 1]^2: unsat for a bump above the network's
    range (when the bounds or the splitting prove it), sat for a negative one."""
    return write(path, "\n".join([
        "(declare-const X_0 Real)", "(declare-const X_1 Real)",
        "(declare-const Y_0 Real)", "(declare-const Y_1 Real)",
        "(assert (>= X_0 -1))", "(assert (<= X_0 1))", "(assert (>= X_1 -1))",
        "(assert (<= X_1 1))", f"(assert (>= (- Y_0 Y_1) {top + bump}))", ""]))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Two results files of the same three instances (two unsat, one sat)."""
    tmp = tmp_path_factory.mktemp("batch")
    rng = np.random.default_rng(5)
    net = relu_net(rng, 2, [10], 2, name="p")
    save_relu_onnx(net, tmp / "p.onnx")
    ys = net.forward(rng.uniform(-1, 1, size=(20000, 2)))
    top = float((ys[:, 0] - ys[:, 1]).max())
    props = [_property(tmp / "a.vnnlib", top, 5.0), _property(tmp / "b.vnnlib", top, 0.5),
             _property(tmp / "c.vnnlib", top, -0.5)]
    inst = write(tmp / "instances.csv", "".join(f"p.onnx,{p.name},30\n" for p in props))
    out = []
    for name in ("first", "second"):
        res = tmp / f"{name}.results.csv"
        r = run_nncc("batch", inst, "-o", res, "-j", "1")
        assert r.returncode == 0, r.stderr
        out.append(res)
    return tmp, out


def test_batch_results_name_the_step_that_decided(batch):
    _, (res, _) = batch
    rows = list(csv.DictReader(open(res)))
    assert sorted(r["verdict"] for r in rows) == ["sat", "unsat", "unsat"]
    assert all(r["how"] for r in rows), rows


def test_plot_prints_the_summary_and_draws_one_line_per_file(batch):
    tmp, results = batch
    png = tmp / "cactus.png"
    r = run_nncc("plot", *results, "-o", png, "--title", "two runs")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines[0].split()
    for label in ("first", "second"):
        row = [ln for ln in lines if ln.startswith(label)][0].split()
        counts = dict(zip(head[1:7], row[1:7]))   # instances, sat, unsat, unknown, ...
        assert counts == {"instances": "3", "sat": "1", "unsat": "2", "unknown": "0",
                          "timeout": "0", "error": "0"}, lines
    assert f"wrote:     {png}" in r.stdout
    img = plt.imread(str(png))
    assert img.shape[:2] == (450, 700)
    # not blank: the lines and the text make far more than one colour
    assert img[..., :3].std() > 0.05
    assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 20


def test_plot_reads_results_written_before_the_how_column(tmp_path, batch):
    _, (res, _) = batch
    rows = list(csv.DictReader(open(res)))
    old = tmp_path / "old.csv"
    fields = ["instance", "network", "property", "verdict", "seconds", "counterexample",
              "message"]
    with open(old, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    r = run_nncc("plot", old)
    assert r.returncode == 0, r.stderr
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("old")][0]
    assert row.rstrip().endswith("-")    # no step recorded, none shown
    # a batch appending to such a file keeps its columns
    from nncc.pipeline.batch import _header
    assert _header(str(old)) == fields


def test_plot_refuses_what_is_not_a_results_file(tmp_path):
    bad = write(tmp_path / "x.csv", "a,b\n1,2\n")
    r = run_nncc("plot", bad)
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stderr.strip().count("\n") == 0 and f"{bad}:1:1:" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_nncc("plot", tmp_path / "missing.csv")
    assert r.returncode == EXIT_BAD_INPUT and "no such file" in r.stderr
    bad = write(tmp_path / "y.csv", "instance,verdict,seconds\n1,sat,fast\n")
    r = run_nncc("plot", bad, "-o", tmp_path / "y.png")
    assert r.returncode == EXIT_BAD_INPUT and f"{bad}:2:1:" in r.stderr
    assert not (tmp_path / "y.png").exists()


def test_a_second_batch_on_a_results_file_in_use_is_refused(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    inst = write(tmp_path / "i.csv", "net.onnx,p.vnnlib,10\n")
    res = tmp_path / "r.csv"
    res.write_text("instance,network,property,verdict,seconds,counterexample,message,how\n")
    before = res.read_bytes()
    with open(res, "a") as held:            # what a running batch holds
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run_nncc("batch", inst, "-o", res)
    assert r.returncode == EXIT_BAD_INPUT
    assert "in use by another nncc batch" in r.stderr and "Traceback" not in r.stderr
    assert res.read_bytes() == before
    assert not (tmp_path / "r_counterexamples").exists()
