"""Shared helpers: run the real ``nncc`` command in a subprocess, find the fixtures."""
import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"


def run_nncc(*args, cwd=None, input=None, timeout=300, env=None):
    """``python -m nncc ARGS`` with the source tree importable; returns CompletedProcess."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("NNCC_PROGRESS", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "nncc", *map(str, args)], cwd=cwd, input=input,
                          capture_output=True, text=True, timeout=timeout, env=e)


def z3_argv() -> list[str]:
    """The z3 executable found the way nncc finds it (``solvers.toml``: the z3-solver
    wheel's binary beside this Python, on PATH or not): tests that pipe into z3 by
    hand start it so, as a user of a virtual environment that is not activated would."""
    from nncc.solvers.registry import load_registry
    argv = load_registry().get("z3").executable()
    if argv is None:
        pytest.fail("z3 not found: install nncc with its solvers (pip install '.[solvers]')")
    return list(argv)


@pytest.fixture
def nncc_cli():
    return run_nncc


def load_example(name: str):
    """The module ``examples/NAME.py``, imported (the examples are scripts, not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def nn_error(tmp_path: Path, text: str, name: str = "q.nn"):
    """The InputError that loading ``text`` (written as ``name``) raises."""
    from nncc.errors import InputError
    from nncc.frontend.semantics import load_document
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_document(str(path))
    return info.value


def assert_nn_error(tmp_path: Path, text: str, fragment: str, line: int, column: int):
    """The error mentions ``fragment`` and points at ``q.nn:line:column`` with the line and a caret."""
    err = nn_error(tmp_path, text)
    assert fragment in err.message, err.render()
    assert err.pos is not None, err.render()
    assert (err.pos.line, err.pos.column) == (line, column), err.render()
    rendered = err.render()
    assert rendered.startswith(f"{tmp_path / 'q.nn'}:{line}:{column}: ")
    assert rendered.splitlines()[-1] == "    " + " " * (column - 1) + "^"
    return err


def relu_net(rng, n, hidden, classes, bias_scale=0.5, name="n"):
    """A random ReLU network (FixedNetwork) of n inputs, the hidden sizes and classes."""
    from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
    layers, k = [], n
    for i, h in enumerate(hidden):
        layers += [Affine(f"a{i}", rng.normal(size=(h, k)), rng.normal(size=h) * bias_scale),
                   Relu(f"r{i}", h)]
        k = h
    layers.append(Affine("out", rng.normal(size=(classes, k)), rng.normal(size=classes)))
    return FixedNetwork(name, (n,), (classes,), layers)


def save_relu_onnx(net, path) -> None:
    """An Affine / Relu FixedNetwork as Gemm / Relu nodes (float64 weights, as read)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits, cur = [], [], "X"
    for i, layer in enumerate(net.layers):
        out = "Y" if i == len(net.layers) - 1 else f"t{i}"
        if hasattr(layer, "W"):
            inits += [numpy_helper.from_array(np.asarray(layer.W, np.float64), f"W{i}"),
                      numpy_helper.from_array(np.asarray(layer.b, np.float64), f"b{i}")]
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [out], transB=1))
        else:
            nodes.append(helper.make_node("Relu", [cur], [out]))
        cur = out
    x = helper.make_tensor_value_info("X", TensorProto.DOUBLE, [1, net.n_inputs])
    y = helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [1, net.n_outputs])
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))


def sampled_threshold(net, n: int, rng, points: int, above: bool, step: float = 0.05) -> float:
    """``t`` just above (no input reaches it, most likely) or just below (one does) the
    largest ``min(y_0 - y_1, y_0 - y_2)`` over random points of ``[-1, 1]^n``."""
    y = net.forward(rng.uniform(-1, 1, size=(points, n)))
    best = float(np.max(np.minimum(y[:, 0] - y[:, 1], y[:, 0] - y[:, 2])))
    return best + (step if above else -step)


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def interrupt_once_solver_runs(*args, wait: float = 60.0):
    """Run ``python -m nncc ARGS``, press Ctrl-C once it has started a solver process;
    assert exit 130 with an "interrupted" message, no traceback, and every solver
    process gone. Returns (stdout, stderr)."""
    import signal
    import time
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    # Ctrl-C as a terminal delivers it: a suite run in the background (``pytest &``, nohup,
    # some CI runners) ignores SIGINT, and its children would inherit that and never see it.
    p = subprocess.Popen([sys.executable, "-m", "nncc", *map(str, args)], env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline, kids = time.time() + wait, []
    try:
        # the solver's run, not a version query: a child that still runs a second later
        while time.time() < deadline and not kids:
            time.sleep(0.1)
            first = _children(p.pid)
            if first:
                time.sleep(1.0)
                kids = [k for k in first if k in _children(p.pid)]
        assert kids, "the solver never started"
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"nncc still runs 30 s after Ctrl-C (children {kids}, now "
                                 f"{_children(p.pid)})") from None
    finally:   # a failed test leaves no nncc or solver behind
        if p.poll() is None:
            for k in _children(p.pid):
                with contextlib.suppress(OSError):
                    os.killpg(k, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.kill(k, signal.SIGKILL)
            p.kill()
            p.communicate()
    assert p.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.2)
    for k in kids:
        assert not os.path.exists(f"/proc/{k}") or open(f"/proc/{k}/stat").read().split()[2] == "Z"
    return out, err
