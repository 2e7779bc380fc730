"""CPU seconds the ``nncc`` command spends before it does any work.

    python3 benchmarks/startup.py [--repeat 5] [--top 8] [--keep-bytecode-setting]

Every figure is the best of ``--repeat`` fresh child processes, in CPU
seconds (user + system, all threads), not wall time, so that a busy machine
changes it little. The rows:

* ``python -c pass`` and ``import numpy`` (with the OpenBLAS setting the
  command makes): the floor under any nncc process;
* ``nncc --help``: the command's own start (argument parser, no work);
* ``nncc check examples/xor.nn``: the whole command (bar: 0.25 s);
* ``nncc verify`` up to the property read, on ACAS Xu networks (bar: 0.3 s):
  a child that imports ``nncc.cli.commands``, parses the command line, imports and
  loads what ``cmd_verify`` does before ``verify()`` (the solver registry,
  ``nncc.pipeline.verify``), reads the network with
  ``nncc.problem.property.load_network`` and the property with
  ``nncc.frontend.vnnlib.load_vnnlib``, then prints its ``time.process_time()``
  (CPU from the start of the process);
* the whole ``nncc verify`` run on the same files, for reference.

The ACAS Xu properties come from ``acasxu_properties.py`` (written to
``benchmarks/.cache/acasxu``); the networks are N1,6 as ONNX (VNN-COMP 2021)
and N1,1 as NNet, from ``../shared/fixtures``. After the table, the top
entries of ``python -X importtime`` (cumulative microseconds, wall) for each
row; an entry inside a third-party package already listed is left out.

Children run with the source tree first on ``PYTHONPATH`` and, unless
``--keep-bytecode-setting``, without ``PYTHONDONTWRITEBYTECODE``, so that
they read compiled modules as an installed nncc does; one unmeasured run of
each row comes first.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import acasxu_properties  # noqa: E402

UNTIL_PROPERTY = r"""
import sys, time
import nncc.cli.commands
args = nncc.cli.commands.build_parser().parse_args(["verify", sys.argv[1], sys.argv[2]])
from nncc.solvers.registry import load_registry  # what cmd_verify does before verify()
from nncc.pipeline.verify import verify
load_registry(args.solvers_config)
from nncc.problem.property import load_network
from nncc.frontend.vnnlib import load_vnnlib
net = load_network(args.paths[0], graph=True)   # as verify() loads it
prop = load_vnnlib(args.paths[1])
prop.check_network(net)
print(time.process_time())
"""


def child_env(keep_bytecode_setting: bool) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if not keep_bytecode_setting:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("NNCC_PROGRESS", None)
    return env


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cpu(argv: list[str], env: dict, in_process: bool) -> float:
    """CPU seconds of one child: its rusage, or the process_time it prints."""
    before = children_cpu()
    p = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    used = children_cpu() - before
    if in_process:
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:3])} failed:\n{p.stderr}")
        return float(p.stdout.strip().splitlines()[-1])
    return used


def best_cpu(argv, env, repeat: int, in_process: bool = False) -> float:
    run_cpu(argv, env, in_process)  # compiled modules written, files in the page cache
    return min(run_cpu(argv, env, in_process) for _ in range(repeat))


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_top(argv: list[str], env: dict, top: int) -> list[tuple[int, str]]:
    """The ``top`` costliest imports (cumulative microseconds) of ``python -X importtime``;
    an entry inside a third-party package already listed is left out."""
    p = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    rows = []
    for line in p.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    rows.sort(key=lambda r: -r[0])
    shown, packages = [], set()
    for cum, depth, name in rows:
        package = name.split(".")[0]
        if package in packages:
            continue
        if package not in ("nncc", "encodings", "site"):
            packages.add(package)
        shown.append((cum, "  " * depth + name))
        if len(shown) == top:
            break
    return shown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per row; the best counts")
    ap.add_argument("--top", type=int, default=8, help="import entries shown per row")
    ap.add_argument("--keep-bytecode-setting", action="store_true",
                    help="leave PYTHONDONTWRITEBYTECODE as it is in the environment")
    a = ap.parse_args()
    env = child_env(a.keep_bytecode_setting)
    py = sys.executable
    nets = {name: (path, norm) for name, path, norm in acasxu_properties.networks("nnet")}
    props = acasxu_properties.write()  # the instances CSV; the .vnnlib files beside it
    prop_dir = Path(props).parent
    acas = [("N1,6 ONNX", nets["N1,6"][0], prop_dir / "prop_3_norm.vnnlib"),
            ("N1,1 NNet", nets["N1,1"][0], prop_dir / "prop_3_raw.vnnlib")]
    numpy_env = dict(env)
    numpy_env.setdefault("OPENBLAS_THREAD_TIMEOUT", "24")  # as nncc.cli.commands sets it
    rows = [("python -c pass", [py, "-c", "pass"], env, None, False),
            ("import numpy", [py, "-c", "import numpy"], numpy_env, None, False),
            ("nncc --help", [py, "-m", "nncc", "--help"], env, None, False),
            ("nncc check examples/xor.nn", [py, "-m", "nncc", "check", "examples/xor.nn"], env,
             0.25, False)]
    for label, net, prop in acas:
        rows.append((f"nncc verify {label}, to the property read",
                     [py, "-c", UNTIL_PROPERTY, str(net), str(prop)], env, 0.30, True))
    for label, net, prop in acas:
        rows.append((f"nncc verify {label}, whole run (prop 3)",
                     [py, "-m", "nncc", "verify", str(net), str(prop)], env, None, False))
    results = []
    for label, argv, e, bar, in_process in rows:
        results.append((label, best_cpu(argv, e, a.repeat, in_process), bar, argv, e))
        print(f"  measured: {label}", file=sys.stderr)
    print(f"\nCPU seconds, best of {a.repeat} (user + system, all threads)\n")
    print(f"| {'what':<50} | CPU s | bar | met |")
    print(f"|{'-' * 52}|-------|-----|-----|")
    for label, cpu, bar, _, _ in results:
        met = "-" if bar is None else ("yes" if cpu < bar else "NO")
        print(f"| {label:<50} | {cpu:5.3f} | {'-' if bar is None else f'{bar:.2f}'} | {met:<3} |")
    for label, _, _, argv, e in results[2:]:
        print(f"\n{label}: python -X importtime, top entries (cumulative us)")
        for cum, name in import_top(argv, e, a.top):
            print(f"  {cum:>9,}  {name}")


if __name__ == "__main__":
    main()
