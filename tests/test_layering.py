"""The package's layering: each folder is one stage and imports only the stages below it.

The order, lowest first, is ``LAYERS``; a module may import modules of its own
folder and of folders earlier in the list, at module level or inside a
function (a function-level import is still an arrow). No import cycle, and no
module imports another module's private (``_``) names: what two modules share
is public in one of them. benchmarks/import_graph.py prints the figures.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# lowest first; a folder's name, or a top-level module
LAYERS = [
    "nncc.errors", "nncc.progress", "nncc.atomic", "nncc.budget",
    "nncc.ir",
    "nncc.problem",
    "nncc.frontend",
    "nncc.passes",
    "nncc.writers",
    "nncc.solvers",
    "nncc.export",
    "nncc.checks",
    "nncc.analysis",
    "nncc.encodings",
    "nncc.pipeline",
    "nncc.api",
    "nncc.cli",
    "nncc.__main__",
    "nncc",  # the package's __init__: imports the facade lazily
]


def _tool(name: str = "import_graph"):
    """benchmarks/import_graph.py as a module (a fresh copy under ``name``)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _graph():
    return _tool().graph()


@pytest.fixture(scope="module")
def graph():
    return _graph()


def layer(module: str) -> int:
    best = None
    for i, name in enumerate(LAYERS):
        if module == name or module.startswith(name + ".") and name != "nncc":
            best = i
    if best is None and module == "nncc":
        best = LAYERS.index("nncc")
    if best is None:
        raise AssertionError(f"{module} is in no layer: add its folder to LAYERS")
    return best


def test_every_module_has_a_layer(graph):
    for m in graph.modules:
        layer(m)


def test_imports_point_down(graph):
    upward = [f"{a.source} -> {a.target} (line {a.line})" for a in graph.arrows
              if a.source != a.target and layer(a.target) > layer(a.source)]
    assert not upward, "imports that point up the layering:\n" + "\n".join(upward)


def test_no_import_cycles(graph):
    assert graph.cycles() == []


def test_no_private_names_across_modules(graph):
    private = [f"{a.source} -> {a.target}: {', '.join(n for n in a.names if n.startswith('_'))}"
               for a in graph.private()]
    assert not private, "private names imported from another module:\n" + "\n".join(private)


def test_function_level_imports_save_start_up_time(graph):
    """An import inside a function is there to keep start-up light (``nncc --help``
    and ``nncc check`` load little; benchmarks/startup.py measures it): one whose
    target the module loads at module level anyway belongs at the top."""
    needless = [f"{a.source} line {a.line} -> {a.target}" for a in graph.needless_lazy()]
    assert not needless, "function-level imports that save nothing:\n" + "\n".join(needless)


def test_the_graph_sees_function_level_imports_and_cycles(tmp_path):
    """The checker itself: a cycle hidden behind a function-level import is found."""
    mod = _tool("import_graph_copy")
    pkg = tmp_path / "nncc"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from ..high import g\n    return g._x\n")
    (pkg / "high.py").write_text("from .low.a import f\nfrom .low import a\n_x = 1\n")
    (pkg / "other.py").write_text("from .high import _x\n")
    (pkg / "mid.py").write_text("from . import high\ndef h():\n    from .low.a import f\n")
    mod.ROOT = tmp_path
    g = mod.graph(pkg)
    assert g.cycles() == [["nncc.high", "nncc.low.a"]]
    assert any(a.function_level and a.target == "nncc.high" for a in g.arrows)
    assert [(a.source, a.names) for a in g.private()] == [("nncc.other", ("_x",))]
    # mid loads low.a through high at module level: its import inside h saves nothing
    assert [(a.source, a.target) for a in g.needless_lazy()] == [("nncc.mid", "nncc.low.a")]
