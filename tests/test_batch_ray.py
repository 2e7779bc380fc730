"""nncc batch --cluster ray on a local Ray cluster: the same verdicts as the local batch,
counterexamples written by the driver and checked, resume, and an actor past its time-out
killed and replaced."""
import csv
import os

import numpy as np
import pytest

from conftest import ROOT, relu_net, run_nncc, save_relu_onnx, write

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[cluster]')")


def _property(path, threshold: float):
    return write(path, "\n".join([
        "(declare-const X_0 Real)", "(declare-const X_1 Real)",
        "(declare-const Y_0 Real)", "(declare-const Y_1 Real)",
        "(assert (>= X_0 -1))", "(assert (<= X_0 1))", "(assert (>= X_1 -1))",
        "(assert (<= X_1 1))", f"(assert (>= (- Y_0 Y_1) {threshold}))", ""]))


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ray")
    rng = np.random.default_rng(5)
    net = relu_net(rng, 2, [10], 2, name="p")
    save_relu_onnx(net, tmp / "p.onnx")
    ys = net.forward(rng.uniform(-1, 1, size=(20000, 2)))
    top = float((ys[:, 0] - ys[:, 1]).max())
    props = [_property(tmp / "a.vnnlib", top + 5.0), _property(tmp / "b.vnnlib", top + 0.5),
             _property(tmp / "c.vnnlib", top - 0.5)]
    inst = write(tmp / "instances.csv", "".join(f"p.onnx,{p.name},30\n" for p in props))
    return tmp, net, inst


def test_a_ray_batch_gives_the_local_verdicts_and_resumes(instances):
    from nncc.checks.counterexample import check_counterexample, read_counterexample
    from nncc.frontend.vnnlib import load_vnnlib
    tmp, net, inst = instances
    verdicts = {}
    for mode in ("local", "ray"):
        res = tmp / f"{mode}.results.csv"
        r = run_nncc("batch", inst, "-o", res, "-j", "2", "--cluster", mode, timeout=600)
        assert r.returncode == 0, r.stderr
        rows = sorted(csv.DictReader(open(res)), key=lambda r: r["instance"])
        verdicts[mode] = [r["verdict"] for r in rows]
        for row in rows:
            if row["verdict"] == "sat":   # written by the driver, from the actor's answer
                prop = load_vnnlib(row["property"])
                x, _ = read_counterexample(row["counterexample"])
                assert check_counterexample(net, prop, x).ok
    assert verdicts["ray"] == verdicts["local"] == ["unsat", "unsat", "sat"]
    r = run_nncc("batch", inst, "-o", tmp / "ray.results.csv", "--cluster", "ray", "-j", "1",
                 timeout=600)
    assert r.returncode == 0 and "3 already in" in r.stderr and "nothing to run" in r.stdout


def test_a_ray_actor_past_its_time_out_is_killed_and_replaced(instances, monkeypatch):
    from nncc.cli import batch_ray
    from nncc.errors import EXIT_FOUND, EXIT_UNKNOWN
    tmp, _, _ = instances
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    assert batch_ray.start(None, 1) == 1
    try:
        w = batch_ray.RayWorker()
        argv = ["verify", tmp / "p.onnx", tmp / "c.vnnlib", "--json", "-o", tmp / "cex.txt"]
        # no actor starts and answers within a millisecond: killed past the time-out
        assert w.run(argv, 0.001) == (EXIT_UNKNOWN, "", "killed past the time-out")
        assert w.actor is None
        code, out, err = w.run(argv, 120)
        assert code == EXIT_FOUND and w.runs == 1, err
        assert (tmp / "cex.txt").read_text().startswith("sat")
    finally:
        batch_ray.stop()


def test_address_without_ray_is_refused(instances):
    _, _, inst = instances
    r = run_nncc("batch", inst, "--address", "auto")
    assert r.returncode == 2 and "--address is for --cluster ray" in r.stderr
