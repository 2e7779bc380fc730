"""``nncc batch --cluster ray``: the instances run by Ray actors, on one machine or many.

Each of the batch's workers is a Ray actor (:class:`RayWorker` on the driver's
side): a process that imports nncc once and runs ``nncc verify`` instance after
instance, as :mod:`nncc.cli.batch_worker` does locally. The driver keeps what
the local batch keeps -- the instance list, the results CSV (written by it
alone, one row as each instance ends) and resume -- and puts each network
file into Ray's object store once; an actor writes it to a folder of its own
the first time it sees it, and gets each property's text with its task. The
counterexample comes back with the answer and is written by the driver, so the
workers need no shared file system. An actor whose instance overruns its
time-out (by :data:`~nncc.pipeline.batch.GRACE`) is killed, with its solver
(which dies with its parent), and one that dies loses only its instance; the
next instance gets a new actor.

Without ``--address`` Ray starts a local cluster of ``-j`` CPUs; with one it
joins that cluster, and ``-j`` defaults to the cluster's CPUs.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from ..errors import EXIT_UNKNOWN, InputError

_started: list[bool] = []


def start(address: str | None, workers: int | None) -> int:
    """Start (or join) the Ray cluster; the number of workers to run."""
    try:
        import ray
    except ImportError:
        raise InputError("--cluster ray needs Ray: pip install '.[cluster]'") from None
    if not ray.is_initialized():
        kw = {"address": address} if address else {"num_cpus": workers or os.cpu_count() or 1}
        try:
            ray.init(include_dashboard=False, logging_level="ERROR", log_to_driver=False, **kw)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise InputError(f"cannot start or join the Ray cluster"
                             f"{' at ' + address if address else ''}: "
                             f"{str(e).strip().splitlines()[0] if str(e).strip() else e}") from None
        _started.append(True)
    return workers or max(1, int(ray.cluster_resources().get("CPU", 1)))


def stop() -> None:
    """Shut down the Ray this process started."""
    if _started:
        import ray
        ray.shutdown()
        _started.clear()


class _VerifyActor:
    """The actor's side: ``nncc verify`` in this process, its files in a folder of its own."""

    def __init__(self):
        import tempfile
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        self.dir = tempfile.mkdtemp(prefix="nncc-ray-")
        self.networks: dict[str, str] = {}   # digest -> the file written here
        from ..problem.property import keep_loaded_networks
        keep_loaded_networks()   # and the networks read from them

    def run(self, rest: list[str], digest: str, suffix: str, network: bytes, prop: bytes,
            prop_suffix: str):
        import importlib
        # the actor is another process's entry point, as `python -m nncc.cli.batch_worker`
        # is the local worker's: the command line is loaded by name there
        run_argv = importlib.import_module("nncc.cli.batch_worker").run_argv
        path = self.networks.get(digest)
        if path is None:
            path = os.path.join(self.dir, digest + suffix)
            with open(path, "wb") as f:
                f.write(network)
            self.networks[digest] = path
        prop_path = os.path.join(self.dir, "property" + prop_suffix)
        with open(prop_path, "wb") as f:
            f.write(prop)
        cex = os.path.join(self.dir, "counterexample.txt")
        if os.path.exists(cex):
            os.remove(cex)
        code, out, err = run_argv(["verify", path, prop_path,
                                   *[cex if a == _CEX else a for a in rest]])
        text = open(cex).read() if os.path.exists(cex) else None
        return code, out, err, text


_CEX = "<counterexample>"
_put_lock = threading.Lock()
_refs: dict[str, tuple[str, object]] = {}   # network path -> (digest, object ref)
_actor_class: list = []


def _actor():
    import ray
    if not _actor_class:
        _actor_class.append(ray.remote(num_cpus=1)(_VerifyActor))
    return _actor_class[0].remote()


def _network(path: str) -> tuple[str, object]:
    """The network file in the object store: put once per path, by its contents' digest."""
    import ray
    with _put_lock:
        if path not in _refs:
            data = Path(path).read_bytes()
            _refs[path] = (hashlib.sha256(data).hexdigest()[:20], ray.put(data))
        return _refs[path]


def _suffix(path: str) -> str:
    name = Path(path).name.lower()
    for s in (".vnnlib.gz", ".vnnlib", ".onnx", ".nnet"):
        if name.endswith(s):
            return s
    return Path(path).suffix


class RayWorker:
    """One actor, as :class:`nncc.pipeline.batch.Worker` is one local process: ``run``
    takes ``nncc verify NET PROP ... -o CEX`` and gives (exit code, stdout, stderr)."""

    def __init__(self):
        self.actor = None
        self.runs = 0

    def run(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError
        argv = [str(a) for a in argv]
        net, prop = argv[1], argv[2]
        rest = argv[3:]
        cex = None
        if "-o" in rest:
            at = rest.index("-o") + 1
            cex, rest[at] = rest[at], _CEX
        try:
            digest, ref = _network(net)
            prop_bytes = Path(prop).read_bytes()
        except OSError as e:   # the verify run would say so: let it, with the driver's path
            return 2, "", f"nncc: error: cannot read '{e.filename}': {e.strerror}"
        if self.actor is None:
            self.actor = _actor()
            self.runs = 0
        task = self.actor.run.remote(rest, digest, _suffix(net), ref, prop_bytes, _suffix(prop))
        try:
            code, out, err, text = ray.get(task, timeout=timeout)
        except GetTimeoutError:
            self.kill()
            return EXIT_UNKNOWN, "", "killed past the time-out"
        except (RayActorError, RayTaskError) as e:
            self.actor = None
            why = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            return -1, "", f"the batch worker died ({why})"
        if text is not None and cex is not None:
            from ..atomic import atomic_output
            with atomic_output(cex) as f:
                f.write(text.encode())
        self.runs += 1
        return int(code), out, err

    def kill(self) -> None:
        if self.actor is not None:
            import ray
            ray.kill(self.actor, no_restart=True)
            self.actor = None

    def close(self) -> None:
        self.kill()
