"""Shared helpers: run the real ``nncc`` command in a subprocess, find the fixtures."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


@pytest.fixture
def nncc_cli():
    return run_nncc


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def nn_error(tmp_path: Path, text: str, name: str = "q.nn"):
    """The InputError that loading ``text`` (written as ``name``) raises."""
    from nncc.errors import InputError
    from nncc.frontend.checker import load_document
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
