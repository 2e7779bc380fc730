"""The import graph of the nncc package: arrows, cycles, layers, private names.

    python benchmarks/import_graph.py            # figures and the arrows that break the layering
    python benchmarks/import_graph.py --arrows   # every arrow, module -> module

Every `import` and `from ... import` inside the package counts, at module level
or inside a function (a function-level import hides a cycle but is still one).
An arrow is "private" when a module imports a name starting with `_` that
another module defines; a function-level import "saves nothing" when the
module already loads its target at module level. The layer of a module is the length of the longest
import chain below it (cycles collapsed). tests/test_layering.py uses `graph()`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nncc"


@dataclass
class Arrow:
    source: str
    target: str
    names: tuple[str, ...]
    function_level: bool
    line: int


@dataclass
class Graph:
    modules: list[str]
    arrows: list[Arrow] = field(default_factory=list)

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {m: set() for m in self.modules}
        for a in self.arrows:
            if a.source != a.target:
                out[a.source].add(a.target)
        return out

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan)."""
        edges = self.edges()
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on: set[str] = set()
        found: list[list[str]] = []
        counter = [0]
        sys.setrecursionlimit(10_000)

        def visit(v: str) -> None:
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in sorted(edges[v]):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))

        for m in self.modules:
            if m not in index:
                visit(m)
        return found

    def layers(self) -> dict[str, int]:
        edges = self.edges()
        depth: dict[str, int] = {}

        def d(m: str, seen: frozenset) -> int:
            if m in depth:
                return depth[m]
            below = [d(t, seen | {m}) for t in edges[m] if t not in seen and t != m]
            depth[m] = 1 + max(below, default=0)
            return depth[m]

        for m in self.modules:
            d(m, frozenset())
        return depth

    def needless_lazy(self) -> list[Arrow]:
        """Function-level imports that save nothing at start-up: the importing module
        already loads the target at module level (directly or through its imports)."""
        top: dict[str, set[str]] = {m: set() for m in self.modules}
        for a in self.arrows:
            if not a.function_level and a.source != a.target:
                top[a.source].add(a.target)
        loaded: dict[str, set[str]] = {}

        def closure(m: str) -> set[str]:
            if m not in loaded:
                loaded[m] = set()     # a cycle stops here
                seen: set[str] = set()
                for t in top[m]:
                    seen |= {t} | closure(t)
                loaded[m] = seen
            return loaded[m]
        return [a for a in self.arrows if a.function_level and a.source != a.target
                and a.target in closure(a.source)]

    def private(self) -> list[Arrow]:
        return [a for a in self.arrows if a.source != a.target
                and any(n.startswith("_") and not n.startswith("__") for n in a.names)]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(source: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = source.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def graph(package: Path = PACKAGE) -> Graph:
    files = sorted(package.rglob("*.py"))
    modules = [module_name(f) for f in files]
    known = set(modules)
    g = Graph(modules)
    for f in files:
        source = module_name(f)
        tree = ast.parse(f.read_text(), str(f))
        function_lines: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        function_lines.add(id(inner))
        for node in ast.walk(tree):
            inner = id(node) in function_lines
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known:
                        g.arrows.append(Arrow(source, alias.name, (), inner, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(source, f.name == "__init__.py", node.level, node.module)
                if not (target == "nncc" or target.startswith("nncc.")):
                    continue
                plain = []
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in known:           # from package import module
                        g.arrows.append(Arrow(source, sub, (), inner, node.lineno))
                    else:
                        plain.append(alias.name)
                if plain and target in known:
                    g.arrows.append(Arrow(source, target, tuple(plain), inner, node.lineno))
    return g


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arrows", action="store_true", help="print every arrow")
    args = ap.parse_args(argv)
    g = graph()
    edges = g.edges()
    own_function = [a for a in g.arrows if a.function_level and a.source != a.target]
    layers = g.layers()
    print(f"modules: {len(g.modules)}")
    print(f"arrows between modules: {sum(len(v) for v in edges.values())}")
    print(f"function-level imports of nncc's own modules: {len(own_function)}")
    needless = g.needless_lazy()
    print(f"  of them saving nothing (the target is loaded at module level anyway): {len(needless)}")
    for a in needless:
        print(f"    {a.source} line {a.line} -> {a.target}")
    print(f"layers (longest import chain): {max(layers.values())}")
    cycles = g.cycles()
    print(f"import cycles: {len(cycles)}")
    for c in cycles:
        print("  cycle: " + ", ".join(c))
    private = g.private()
    print(f"private names imported across modules: {len(private)}")
    for a in private:
        names = ", ".join(n for n in a.names if n.startswith("_"))
        print(f"  {a.source} -> {a.target}: {names}")
    if args.arrows:
        for m in sorted(edges):
            for t in sorted(edges[m]):
                print(f"{m} -> {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
