"""Shared helpers: run the real ``nncc`` command in a subprocess, find the fixtures."""
import os
import subprocess
import sys
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
