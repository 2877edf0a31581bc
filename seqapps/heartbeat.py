"""Telling a live run from a dead one: host, pid and a heartbeat on the MLflow run.

A process killed with SIGKILL (or a machine that lost power) cannot mark its run, so a
RUNNING run may be dead. While a run trains, a background thread refreshes the
``seqapps.heartbeat`` tag every ``INTERVAL`` seconds; ``alive`` reads the tags back: on the
same host the pid says it, elsewhere the heartbeat's age.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

#: Seconds between heartbeats; a run unseen for STALE_AFTER seconds counts as dead.
INTERVAL = 30.0
STALE_AFTER = 3 * INTERVAL


def owner_tags() -> dict[str, str]:
    """The tags that name this process as the run's owner, with a fresh heartbeat."""
    return {
        "seqapps.host": socket.gethostname(),
        "seqapps.pid": str(os.getpid()),
        "seqapps.heartbeat": f"{time.time():.0f}",
    }


@contextlib.contextmanager
def beating(tracker, run_id: str, interval: float = INTERVAL) -> Iterator[None]:
    """Refresh the run's heartbeat every ``interval`` seconds while the block runs."""
    stopped = threading.Event()

    def beat():
        while not stopped.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat is not worth a failed run
                tracker.set_tags(run_id, {"seqapps.heartbeat": f"{time.time():.0f}"})

    thread = threading.Thread(target=beat, name="seqapps-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=5)


def alive(run) -> str | None:
    """How the RUNNING ``run`` shows it is alive ("pid 123 on host h"), or None if it is not
    (finished, its process gone, or unseen for STALE_AFTER seconds on another host)."""
    if run.info.status != "RUNNING":
        return None
    tags = run.data.tags
    host, pid = tags.get("seqapps.host"), tags.get("seqapps.pid", "")
    if not host or not pid.isdigit():
        return None  # a run from before heartbeats: nothing says it is alive
    if host == socket.gethostname():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # it exists, owned by someone else
        return f"pid {pid} on this host"
    age = time.time() - float(tags.get("seqapps.heartbeat", "0") or 0)
    if age > STALE_AFTER:
        return None
    return f"pid {pid} on host {host}, last seen {age:.0f} s ago"
