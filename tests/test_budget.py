"""Budgets of nncc's own searches (nncc.budget): CPU seconds that end at a wall-clock
deadline, BLAS on one thread while the steps run, and the share used in the answer."""
import os
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

import nncc
from conftest import relu_net, run_nncc, save_relu_onnx, write
from nncc.analysis import relu_split
from nncc.budget import Budget, one_blas_thread, share_text, use_text
from nncc.problem.query import AdversarialQuery


def _spin(seconds: float) -> None:
    t = time.process_time()
    while time.process_time() - t < seconds:
        pass


def test_a_budget_counts_cpu_so_waiting_spends_none_of_it():
    b = Budget(0.05)
    time.sleep(0.2)            # wall time passes, no CPU is used
    assert not b.expired()
    assert b.cpu_left() > 0.04
    _spin(0.06)
    assert b.expired()
    assert b.cpu_left() == 0.0


def test_a_budget_ends_at_its_deadline_whatever_cpu_is_left():
    b = Budget(100.0, deadline=time.perf_counter() + 0.05)
    assert not b.expired()
    time.sleep(0.1)
    assert b.expired()
    assert b.left() == 0.0
    assert b.cpu_left() > 99       # the CPU limit was not what ended it


def test_a_part_takes_no_more_than_what_is_left_and_keeps_the_deadline():
    deadline = time.perf_counter() + 60
    whole = Budget(0.2, deadline)
    _spin(0.15)
    part = whole.part(10.0)
    assert part.cpu <= 0.05 + 1e-9
    assert part.deadline == deadline
    assert Budget(None).part(3.0).cpu == 3.0
    assert Budget.of(whole) is whole and Budget.of(None).cpu is None
    assert Budget.of(2).cpu == 2.0


def test_the_share_text_says_what_was_used_of_what():
    assert share_text(2.314, 10) == "2.31 CPU s of 10 (23%)"
    assert share_text(12.0, 10) == "12.00 CPU s of 10 (100%)"
    assert share_text(0.5, None) == "0.50 CPU s"
    assert use_text({"cpu": 1.0, "budget": 4.0, "wall": 3.0}) == "1.00 CPU s of 4 (25%)"


def test_one_blas_thread_limits_blas_inside_the_block_only():
    def threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    before = threads()
    with one_blas_thread():
        assert threads() <= {1}
    assert threads() == before


def test_the_command_runs_blas_on_one_thread_unless_told_otherwise():
    code = ("import os, nncc.cli.commands; "
            "print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert out.stdout.strip() == "2"


def test_relu_splitting_stops_when_its_cpu_budget_is_spent():
    # a search that cannot finish in a hundredth of a CPU second says so, with the
    # time limit as its reason; the same search with no limit gives a verdict
    rng = np.random.default_rng(3)
    net = relu_net(rng, 6, [40, 40], 3, name="b")
    C = np.array([[1.0, -1.0, 0.0]])
    y = net.forward(rng.uniform(-1, 1, size=(4000, 6))) @ C.T
    d = np.array([float(y.max()) * 0.999])        # reachable: a point exists near the top
    lo, hi = -np.ones(6), np.ones(6)
    r = relu_split.relu_split_verify(net, C, d, lo, hi, check=lambda x: True,
                                     time_limit=Budget(0.0))
    assert r.status == "unknown" and r.reason == "time limit"
    r = relu_split.relu_split_verify(net, C, d, lo, hi, check=lambda x: True)
    assert r.status == "sat"
    assert float(net.forward(r.x[None])[0] @ C[0]) >= d[0]


def _ball_query(eps: float):
    rng = np.random.default_rng(7)
    net = relu_net(rng, 8, [16, 16], 3, name="ball")
    x0 = rng.uniform(0.3, 0.7, size=8)
    label = int(net.forward(x0[None])[0].argmax())
    return AdversarialQuery("ball", net, x0, 0.0, 1.0, target=(label + 1) % 3, margin=0.01,
                            norm="l1", epsilon=eps)


def test_an_adversarial_answer_reports_the_split_budget_used():
    ans = nncc.solve(_ball_query(0.3), "highs", time_limit=60, split_budget=5.0)
    use = ans.budgets["split"]
    assert use["budget"] == 5.0
    assert 0 < use["cpu"] <= 5.0 + 0.5
    assert use["wall"] == ans.seconds["split"]
    assert ans.report()["budgets"]["split"]["cpu"] == use["cpu"]
    if ans.status == "solution":     # whoever decided, the answer is checked
        assert ans.check.ok


def test_no_split_step_no_budget_entry():
    ans = nncc.solve(_ball_query(0.3), "highs", time_limit=60, split_budget=0.0)
    assert "split" not in ans.budgets and "split" not in ans.seconds


def test_nncc_verify_prints_the_split_share(tmp_path):
    # a 2-input network: input splitting decides, and the diagnostics say how much of
    # its CPU budget it used
    rng = np.random.default_rng(1)
    net = relu_net(rng, 2, [8], 2, name="v")
    onnx_path = tmp_path / "v.onnx"
    save_relu_onnx(net, onnx_path)
    ys = net.forward(rng.uniform(-1, 1, size=(20000, 2)))
    top = float((ys[:, 0] - ys[:, 1]).max())
    prop = write(tmp_path / "p.vnnlib", "\n".join([
        "(declare-const X_0 Real)", "(declare-const X_1 Real)",
        "(declare-const Y_0 Real)", "(declare-const Y_1 Real)",
        "(assert (>= X_0 -1))", "(assert (<= X_0 1))", "(assert (>= X_1 -1))",
        "(assert (<= X_1 1))", f"(assert (>= (- Y_0 Y_1) {top + 1.0}))", ""]))
    out = run_nncc("verify", str(onnx_path), str(prop), "--split-time", "7",
                   "--falsify-time", "0")
    assert out.stdout.splitlines()[0] == "unsat", out.stderr
    assert "CPU s of 7 (" in out.stderr
