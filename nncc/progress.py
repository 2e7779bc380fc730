"""Progress on standard error while compiling and solving, only when it is a terminal.

In pipes, files and CI (``CI`` set, or stderr not a TTY) it stays silent;
``NNCC_PROGRESS=1`` forces it on, ``NNCC_PROGRESS=0`` off.
"""
from __future__ import annotations

import os
import sys
import time

_IMPORTED = time.monotonic()


def process_seconds() -> float:
    """Seconds since this process started (interpreter start-up, imports, reading the
    file, its datasets and networks included): from ``/proc`` on Linux, else since
    nncc was first imported."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime
        if 0 <= uptime - started < 10 ** 7:
            return uptime - started
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return time.monotonic() - _IMPORTED


class Progress:
    """Stage lines (``compile: encode 0.12 s``) and a live solver line
    (``highs 3.5 s  incumbent 2.0, gap 40%``) redrawn in place."""

    def __init__(self, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        if enabled is None:
            forced = os.environ.get("NNCC_PROGRESS")
            if forced in ("0", "1"):
                enabled = forced == "1"
            else:
                enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self._live = False

    def stage(self, text: str) -> None:
        """A finished or starting stage, with the time since the start."""
        if not self.enabled:
            return
        self._end_live()
        self.stream.write(f"nncc: {time.perf_counter() - self.t0:7.2f} s  {text}\n")
        self.stream.flush()

    def solver(self, name: str):
        """A callback ``(elapsed_seconds, incumbent_text)`` for the solver runner."""
        def tick(elapsed: float, incumbent: str | None) -> None:
            if not self.enabled:
                return
            line = f"nncc: {name} running {elapsed:6.1f} s" + (f"  {incumbent}" if incumbent else "")
            self.stream.write("\r" + line[:110].ljust(110))
            self.stream.flush()
            self._live = True
        return tick

    def _end_live(self) -> None:
        if self._live:
            self.stream.write("\n")
            self._live = False

    def done(self) -> None:
        self._end_live()
