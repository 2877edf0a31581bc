"""Stop a run on SIGTERM or SIGHUP exactly as on Ctrl-C: state saved, metrics flushed, KILLED.

Schedulers (Slurm, Kubernetes, `docker stop`) send SIGTERM, and a closed terminal sends
SIGHUP; by default either kills Python at once, leaving the run RUNNING with nothing saved.
Turning them into KeyboardInterrupt sends them down the one tested Ctrl-C path.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class SignalInterrupt(KeyboardInterrupt):
    """The KeyboardInterrupt a SIGTERM or SIGHUP raises; it carries the shell's exit code, so
    code far above the handler (a study's main loop) still exits 143 or 129."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


class StopSignal:
    """The signal that stopped the run, if any (None for Ctrl-C or no stop)."""

    def __init__(self) -> None:
        self.received: int | None = None

    @property
    def reason(self) -> str:
        """How the run was stopped, for its failure tag and message."""
        if self.received is None:
            return "interrupted by the user (Ctrl-C)"
        return f"stopped by {signal.Signals(self.received).name}"

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for Ctrl-C)."""
        return 128 + (self.received or signal.SIGINT)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[StopSignal]:
    """While the block runs, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread."""
    stop = StopSignal()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers can only be set from the main thread
        return

    def interrupt(signum, frame):
        stop.received = signum
        raise SignalInterrupt(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in _CAUGHT}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
