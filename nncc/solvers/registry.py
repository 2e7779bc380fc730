"""Which solvers exist, where their executables are, and how to call them.

The table comes from ``solvers.toml`` files (format documented in the
packaged file itself): the packaged defaults, then the user's config file,
then ``$NNCC_SOLVERS``, then a file named on the command line, each
overriding the earlier ones key by key.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from nncc.errors import InputError, SolverError
from nncc.solvers.child_process import solver_popen_args

INSTALL_HINT = "pip install 'nncc[solvers]'"

# kind -> module with the output reader for that solver family
KINDS = {
    "z3": "nncc.solvers.z3",
    "cvc5": "nncc.solvers.cvc5",
    "cbc": "nncc.solvers.cbc",
    "highs": "nncc.solvers.highs",
}

_KEYS = {"kind", "command", "find", "args", "time_limit_args", "version_args", "formats",
         "logics", "optimises", "env", "grace_seconds"}

_FIND_HINTS = {
    "z3-solver": "pip install z3-solver",
    "cvc5-python": "pip install cvc5",
    "pulp-cbc": "pip install pulp (it bundles cbc), or apt install coinor-cbc",
    "highsbox": "pip install highsbox",
    "highspy": "pip install highspy",
}


@dataclass
class SolverSpec:
    """One solver entry of solvers.toml, resolved lazily to an executable."""

    name: str
    kind: str
    command: list[str] | None = None
    find: str | None = None
    args: list[str] = field(default_factory=lambda: ["{input}"])
    time_limit_args: list[str] = field(default_factory=list)
    version_args: list[str] = field(default_factory=lambda: ["--version"])
    formats: list[str] = field(default_factory=list)
    logics: list[str] = field(default_factory=list)
    optimises: bool = False
    env: dict[str, str] = field(default_factory=dict)
    grace_seconds: float = 5.0
    sources: dict[str, str] = field(default_factory=dict)  # key -> file that set it

    _resolved: tuple[list[str] | None, str, dict[str, str]] | None = field(
        default=None, repr=False, compare=False)
    _version: str | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------ location
    def _resolve(self) -> tuple[list[str] | None, str, dict[str, str]]:
        if self._resolved is None:
            self._resolved = _resolve(self)
        return self._resolved

    def executable(self) -> list[str] | None:
        """The argv prefix that starts the solver, or None when it is not found."""
        return self._resolve()[0]

    def available(self) -> bool:
        """True when the executable was found."""
        return self.executable() is not None

    @property
    def origin(self) -> str:
        """Where the executable came from, e.g. ``PyPI z3-solver (/venv/bin/z3)``."""
        return self._resolve()[1]

    def child_env(self) -> dict[str, str]:
        """The environment for the solver process: ours plus the entry's and the locator's."""
        env = dict(os.environ)
        for key, value in {**self._resolve()[2], **self.env}.items():
            if key in ("LD_LIBRARY_PATH", "PYTHONPATH", "PATH") and env.get(key):
                value = value + os.pathsep + env[key]  # prepend, keep the user's
            env[key] = value
        return env

    def hand_command(self) -> str:
        """A shell command line that runs this solver by hand as nncc runs it, with the
        environment it needs (a wheel's binary may need its own library folder on
        ``LD_LIBRARY_PATH``): ``FILE`` is the model, ``SOLUTION`` the solution file."""
        import shlex
        fmt = "smtlib" if "smtlib" in self.formats else "mps"
        model = "FILE.smt2" if fmt == "smtlib" else "FILE.mps"
        env = {**self._resolve()[2], **self.env}
        parts = [f"{k}={shlex.quote(v)}" + (f":${k}" if k in ("LD_LIBRARY_PATH", "PATH",
                                                               "PYTHONPATH") else "")
                 for k, v in env.items()]
        return " ".join(parts + [shlex.quote(a) for a in self.command_line(model, "SOLUTION")])

    def install_hint(self) -> str:
        """What to do when the solver is missing."""
        specific = _FIND_HINTS.get(self.find or "")
        if self.command and "/" in self.command[0]:
            return (f"{self.command[0]} does not exist or is not executable; fix 'command' "
                    f"in {self.sources.get('command', 'solvers.toml')}")
        return (f"install it with {specific}, or {INSTALL_HINT}" if specific
                else f"install {self.kind}, or name it with 'command' in solvers.toml")

    def require(self) -> list[str]:
        """The executable, or SolverError saying how to install it."""
        exe = self.executable()
        if exe is None:
            raise SolverError(f"solver {self.name!r} not found: {self.install_hint()}")
        return exe

    # ------------------------------------------------------------ calling
    @property
    def module(self) -> ModuleType:
        """The module that reads this solver's output (by ``kind``)."""
        return importlib.import_module(KINDS[self.kind])

    def command_line(self, input_path: str, solution_path: str = "",
                     time_limit: float | None = None) -> list[str]:
        """The full argv for one run (placeholders of args / time_limit_args filled)."""
        limit: list[str] = []
        if time_limit is not None:
            subst = {
                "seconds": _seconds_text(time_limit),
                "seconds_int": str(max(1, math.ceil(time_limit))),
                "milliseconds": str(max(1, int(round(time_limit * 1000)))),
            }
            limit = [a.format(**subst) for a in self.time_limit_args]
        out = list(self.require())
        if "{time_limit}" not in self.args:
            out += limit
        for a in self.args:
            if a == "{time_limit}":
                out += limit
            else:
                out.append(a.replace("{input}", input_path).replace("{solution}", solution_path))
        return out

    def version(self) -> str:
        """``"<kind> <version>"`` as the solver reports it (asked once, then cached)."""
        if self._version is None:
            self._version = self._ask_version()
        return self._version

    def _ask_version(self) -> str:
        exe = self.executable()
        if exe is None:
            return "not found"
        if not self.version_args:
            return f"{self.kind} (version not asked)"
        try:
            proc = subprocess.Popen(exe + self.version_args, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.child_env(), **solver_popen_args())
        except OSError as err:
            return f"{self.kind} (cannot run: {err})"
        try:
            text, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return f"{self.kind} (version query timed out)"
        text = text.decode(errors="replace")
        found = self.module.parse_version(text)
        return f"{self.kind} {found}" if found else f"{self.kind} (unknown version)"


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _seconds_text(t: float) -> str:
    text = f"{max(t, 0.001):.3f}".rstrip("0").rstrip(".")
    return text


# ---------------------------------------------------------------- locating

def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Scripts of packages installed next to this Python (a venv not on PATH).
    near = Path(sys.executable).parent / name
    return str(near) if near.is_file() and os.access(near, os.X_OK) else None


def _executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _find_z3() -> tuple[list[str], str, dict] | None:
    candidates = [Path(sys.prefix) / "bin" / "z3", Path(sys.executable).parent / "z3"]
    spec = importlib.util.find_spec("z3")
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / "bin" / "z3")
    for c in candidates:
        if _executable_file(c):
            return [str(c)], f"PyPI z3-solver ({c})", {}
    return None


def _find_cvc5() -> tuple[list[str], str, dict] | None:
    if importlib.util.find_spec("cvc5") is None:
        return None
    # The driver is run as a module: make sure the child can import nncc even
    # when nncc is used from a source tree that is not installed.
    nncc_parent = str(Path(__file__).resolve().parents[2])
    return ([sys.executable, "-m", "nncc.solvers.cvc5_driver"],
            "PyPI cvc5 (Python package, through nncc.solvers.cvc5_driver)",
            {"PYTHONPATH": nncc_parent})


def _find_pulp_cbc() -> tuple[list[str], str, dict] | None:
    spec = importlib.util.find_spec("pulp")
    if spec is None or not spec.origin:
        return None
    machine = platform.machine().lower()
    arch = "arm64" if machine in ("aarch64", "arm64") else "i64" if machine.endswith("64") else "i32"
    system = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform, sys.platform)
    exe = Path(spec.origin).parent / "solverdir" / "cbc" / system / arch / (
        "cbc.exe" if system == "win" else "cbc")
    if _executable_file(exe):
        return [str(exe)], f"PyPI pulp ({exe})", {}
    return None


def _find_highsbox() -> tuple[list[str], str, dict] | None:
    if importlib.util.find_spec("highsbox") is None:
        return None
    try:
        import highsbox

        exe = Path(highsbox.highs_bin_path())
        libdir = highsbox.highs_lib_dir()
    except Exception:  # a broken install: report as missing
        return None
    if not _executable_file(exe):
        return None
    # highsbox's RPATH points at ../lib64 but the library is in ../lib.
    return [str(exe)], f"PyPI highsbox ({exe})", {"LD_LIBRARY_PATH": str(libdir)}


def _find_highspy() -> tuple[list[str], str, dict] | None:
    if importlib.util.find_spec("highspy") is None:
        return None
    nncc_parent = str(Path(__file__).resolve().parents[2])   # as for cvc5's driver
    return ([sys.executable, "-m", "nncc.solvers.highs_driver"],
            f"PyPI highspy {_dist_version('highspy')} (Python package, through "
            "nncc.solvers.highs_driver)", {"PYTHONPATH": nncc_parent})


def _dist_version(dist: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


LOCATORS = {
    "z3-solver": _find_z3,
    "cvc5-python": _find_cvc5,
    "pulp-cbc": _find_pulp_cbc,
    "highsbox": _find_highsbox,
    "highspy": _find_highspy,
}


def _resolve(spec: SolverSpec) -> tuple[list[str] | None, str, dict[str, str]]:
    where = spec.sources.get("command", "solvers.toml")
    if spec.command:
        first = spec.command[0]
        if "/" in first:
            p = Path(first).expanduser()
            if _executable_file(p):
                return [str(p)] + spec.command[1:], f"{where}: {p}", {}
            return None, f"{where}: {first} (not found)", {}
        found = _which(first)
        if found:
            return [found] + spec.command[1:], f"{where}: {found}", {}
    if spec.find:
        got = LOCATORS[spec.find]()
        if got:
            return got[0], got[1], got[2]
    found = _which(spec.kind)
    if found:
        return [found], f"PATH ({found})", {}
    what = spec.command[0] if spec.command else spec.find or spec.kind
    return None, f"not found ({what})", {}


# ---------------------------------------------------------------- loading

def _packaged_file() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "solvers.toml"


def _user_config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nncc" / "solvers.toml"


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:
        raise InputError(f"cannot read solver table {path}: {err.strerror}") from None


def _check_entry(path: Path, name: str, table) -> None:
    if not isinstance(table, dict):
        raise InputError(f"{path}: [{name}] must be a table of settings")
    unknown = set(table) - _KEYS
    if unknown:
        raise InputError(f"{path}: [{name}] has unknown key(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(_KEYS))}")
    for key in ("args", "time_limit_args", "version_args", "formats", "logics"):
        if key in table and not (isinstance(table[key], list)
                                 and all(isinstance(a, str) for a in table[key])):
            raise InputError(f"{path}: [{name}] {key} must be a list of strings")
    if "command" in table and not (
            isinstance(table["command"], str)
            or (isinstance(table["command"], list) and table["command"]
                and all(isinstance(a, str) for a in table["command"]))):
        raise InputError(f"{path}: [{name}] command must be a string or a list of strings")
    if "find" in table and table["find"] not in LOCATORS:
        raise InputError(f"{path}: [{name}] find = {table['find']!r}; known locators: "
                         f"{', '.join(LOCATORS)}")
    if "env" in table and not (isinstance(table["env"], dict)
                               and all(isinstance(v, str) for v in table["env"].values())):
        raise InputError(f"{path}: [{name}] env must be a table of strings")


class Registry:
    """The solvers named in solvers.toml, in the order they were defined."""

    def __init__(self, specs: dict[str, SolverSpec], files: list[str]):
        self._specs = specs
        self.files = files  # the solvers.toml files read, in order

    def names(self) -> list[str]:
        """Solver names, packaged ones first."""
        return list(self._specs)

    def get(self, name: str) -> SolverSpec:
        """The entry for ``name``; InputError listing the known names otherwise."""
        try:
            return self._specs[name]
        except KeyError:
            raise InputError(f"unknown solver {name!r}; known: {', '.join(self._specs)}") from None

    def specs(self) -> list[SolverSpec]:
        """All entries, in order."""
        return list(self._specs.values())

    def handles(self, spec: SolverSpec, target_formats: list[str], logic: str,
                milp_ok: bool) -> bool:
        """True when ``spec`` reads one of the formats and takes the logic."""
        if not set(spec.formats) & set(target_formats):
            return False
        if "MILP" in spec.logics:
            return milp_ok or logic == "MILP"
        return logic in spec.logics or ("ALL" in spec.logics and logic != "MILP")

    def auto(self, target_formats: list[str], logic: str, milp_ok: bool,
             prefer: list[str] | None = None) -> SolverSpec:
        """The first available solver that handles the problem.

        Candidates are tried in ``prefer`` order, then in table order. Raises
        SolverError naming the suitable solvers that are missing and how to
        install them.
        """
        order = [n for n in (prefer or []) if n in self._specs]
        order += [n for n in self._specs if n not in order]
        suitable = [self._specs[n] for n in order
                    if self.handles(self._specs[n], target_formats, logic, milp_ok)]
        for spec in suitable:
            if spec.available():
                return spec
        if not suitable:
            raise SolverError(
                f"no solver in solvers.toml reads {' or '.join(target_formats)} "
                f"for logic {logic}; add one to solvers.toml")
        missing = "; ".join(f"{s.name}: {s.install_hint()}" for s in suitable)
        raise SolverError(f"no solver for {logic} ({'/'.join(target_formats)}) is installed "
                          f"({missing}); {INSTALL_HINT} installs them all")


def load_registry(user_file: str | None = None) -> Registry:
    """Read the packaged solvers.toml, then the user config, $NNCC_SOLVERS and ``user_file``."""
    paths: list[tuple[Path, bool]] = [(_packaged_file(), True), (_user_config_file(), False)]
    if os.environ.get("NNCC_SOLVERS"):
        paths.append((Path(os.environ["NNCC_SOLVERS"]).expanduser(), True))
    if user_file:
        paths.append((Path(user_file).expanduser(), True))
    merged: dict[str, dict] = {}
    sources: dict[str, dict[str, str]] = {}
    files: list[str] = []
    for path, required in paths:
        if not path.exists() and not required:
            continue
        data = _read_toml(path)
        files.append(str(path))
        for name, table in data.items():
            _check_entry(path, name, table)
            entry = merged.setdefault(name, {})
            for key, value in table.items():
                if key == "env":
                    entry["env"] = {**entry.get("env", {}), **value}
                else:
                    entry[key] = value
                sources.setdefault(name, {})[key] = str(path)
    specs: dict[str, SolverSpec] = {}
    for name, entry in merged.items():
        kind = entry.get("kind", name)
        if kind not in KINDS:
            raise InputError(f"{sources[name].get('kind', files[-1])}: [{name}] kind = {kind!r}; "
                             f"known kinds: {', '.join(KINDS)} (set kind for a new solver name)")
        command = entry.get("command")
        if isinstance(command, str):
            command = shlex.split(command)
        specs[name] = SolverSpec(
            name=name, kind=kind, command=command, find=entry.get("find"),
            args=list(entry.get("args", ["{input}"])),
            time_limit_args=list(entry.get("time_limit_args", [])),
            version_args=list(entry.get("version_args", ["--version"])),
            formats=list(entry.get("formats", [])), logics=list(entry.get("logics", [])),
            optimises=bool(entry.get("optimises", False)), env=dict(entry.get("env", {})),
            grace_seconds=float(entry.get("grace_seconds", 5.0)), sources=sources[name])
    return Registry(specs, files)
