"""nncc batch's worker processes (nncc.pipeline.batch.Worker, nncc.cli.batch_worker): one
process runs instance after instance; one killed past its time-out, or one that dies, takes
only its instance, with its solver, and the next instance gets a new process."""
import csv
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT, relu_net, run_nncc, save_relu_onnx, write
from nncc.errors import EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN
from nncc.pipeline.batch import Worker


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    # the worker is `python -m nncc.cli.batch_worker`: this source tree, installed or not
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _property(path, threshold: float):
    return write(path, "\n".join([
        "(declare-const X_0 Real)", "(declare-const X_1 Real)",
        "(declare-const Y_0 Real)", "(declare-const Y_1 Real)",
        "(assert (>= X_0 -1))", "(assert (<= X_0 1))", "(assert (>= X_1 -1))",
        "(assert (<= X_1 1))", f"(assert (>= (- Y_0 Y_1) {threshold}))", ""]))


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """A network and three properties: unsat, unsat, sat."""
    tmp = tmp_path_factory.mktemp("workers")
    rng = np.random.default_rng(5)
    net = relu_net(rng, 2, [10], 2, name="p")
    save_relu_onnx(net, tmp / "p.onnx")
    ys = net.forward(rng.uniform(-1, 1, size=(20000, 2)))
    top = float((ys[:, 0] - ys[:, 1]).max())
    props = [_property(tmp / "a.vnnlib", top + 5.0), _property(tmp / "b.vnnlib", top + 0.5),
             _property(tmp / "c.vnnlib", top - 0.5)]
    return tmp, props


def _hard(tmp_path):
    """A training query z3 works on for minutes: an instance that overruns."""
    return write(tmp_path / "hard.nn", (EXAMPLES / "digits.nn").read_text()
                 .replace("nonzero 10% seed 7", "normalise off"))


def _children(pid: int) -> list[int]:
    from conftest import _children as kids
    return kids(pid)


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_worker_runs_instance_after_instance_in_one_process(instances):
    tmp, props = instances
    w = Worker()
    try:
        codes, pids = [], []
        for p in (props[0], props[2]):
            code, out, err = w.run(["verify", str(tmp / "p.onnx"), str(p), "--json",
                                    "--time-limit", "30"], 60)
            codes.append(code)
            pids.append(w.proc.pid)
            rep = json.loads(out)   # the report, as `nncc verify --json` prints it
            assert rep["verdict"] == ("unsat" if p == props[0] else "sat"), err
        assert codes == [EXIT_NO_ANSWER, EXIT_FOUND]
        assert pids[0] == pids[1] and w.runs == 2   # one process, two instances
        code, out, err = w.run(["verify", str(tmp / "nothing.onnx"), str(props[0])], 60)
        assert code == 2 and "no such file" in err and w.runs == 3   # bad input: still alive
    finally:
        w.close()


def test_a_worker_past_its_time_out_is_killed_with_its_solver(tmp_path, instances):
    tmp, props = instances
    src = _hard(tmp_path)
    w = Worker()
    seen = []

    def watch():   # the solver the worker starts
        while not seen:
            if w.proc is not None:
                seen.extend(k for k in _children(w.proc.pid) if k != w.proc.pid)
            time.sleep(0.1)
    threading.Thread(target=watch, daemon=True).start()
    try:
        code, out, err = w.run(["solve", src, "--solver", "z3"], 4.0)
        assert code == EXIT_UNKNOWN and err == "killed past the time-out"
        assert seen and all(_gone(k) for k in seen), seen
        code, out, err = w.run(["verify", str(tmp / "p.onnx"), str(props[2]), "--json"], 60)
        assert code == EXIT_FOUND and w.runs == 1   # a new process for the next instance
    finally:
        w.close()


def test_a_worker_that_dies_loses_only_its_instance(tmp_path, instances):
    tmp, props = instances
    src = _hard(tmp_path)
    w = Worker()

    def crash():
        while w.proc is None or not _children(w.proc.pid):
            time.sleep(0.05)
        os.kill(w.proc.pid, signal.SIGKILL)
    threading.Thread(target=crash, daemon=True).start()
    try:
        code, out, err = w.run(["solve", src, "--solver", "z3"], 120)
        assert code == -1 and err == "the batch worker died (signal SIGKILL)"
        code, out, err = w.run(["verify", str(tmp / "p.onnx"), str(props[0]), "--json"], 60)
        assert code == EXIT_NO_ANSWER
    finally:
        w.close()


def test_batch_with_workers_and_with_a_process_per_instance_agree(instances):
    tmp, props = instances
    inst = write(tmp / "instances.csv", "".join(f"p.onnx,{p.name},30\n" for p in props))
    verdicts = []
    for name, flags in (("reuse", []), ("fresh", ["--process-per-instance"])):
        res = tmp / f"{name}.results.csv"
        r = run_nncc("batch", inst, "-o", res, "-j", "2", *flags)
        assert r.returncode == 0, r.stderr
        rows = sorted(csv.DictReader(open(res)), key=lambda r: r["instance"])
        verdicts.append([r["verdict"] for r in rows])
        for r in rows:
            if r["verdict"] == "sat":
                assert os.path.exists(r["counterexample"])
    assert verdicts[0] == verdicts[1] == ["unsat", "unsat", "sat"]


def test_batch_writes_its_results_in_the_working_folder_by_default(instances, tmp_path):
    """The instances' folder is often not writable (a benchmark checkout): nothing is
    written beside the instances, the results and counterexamples go to the working
    folder."""
    tmp, props = instances
    inst = write(tmp / "default.csv", f"p.onnx,{props[2].name},30\n")
    before = sorted(p.name for p in tmp.iterdir())
    r = run_nncc("batch", inst, "-j", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp.iterdir()) == before
    rows = list(csv.DictReader(open(tmp_path / "default.results.csv")))
    assert [r["verdict"] for r in rows] == ["sat"]
    assert rows[0]["counterexample"] and os.path.exists(tmp_path / rows[0]["counterexample"])
