"""Run an MLflow server process (scoring server or UI) as a well-behaved child.

The port is checked before anything starts (a taken port is one line, exit 2); the address
is printed only once the server answers; SIGTERM, SIGHUP and Ctrl-C stop the whole process
group, so no worker is left holding the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from seqapps.exceptions import SeqappsError, UserInputError

HOST = "127.0.0.1"


class ServerError(SeqappsError):
    """The server process ended before it answered."""


def check_port_free(port: int) -> None:
    """One clear line if something already listens on ``port``."""
    if not 0 < port < 65536:
        raise UserInputError(f"--port {port}: expected 1..65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((HOST, port)) == 0:
            raise UserInputError(
                f"--port {port}: {HOST}:{port} is already in use; choose another --port"
            )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and every worker it started (they share its process group)."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_server(
    command: list[str],
    ready_url: str,
    announce: Callable[[], None],
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> int:
    """Start ``command``, call ``announce`` once ``ready_url`` answers, serve until stopped."""
    env = dict(os.environ if env is None else env)
    # MLflow starts `uvicorn` by name: find the one installed beside this Python.
    scripts = os.path.dirname(sys.executable)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    # MLflow 3's server also starts a job runner and its consumers (GenAI jobs seqapps never
    # submits): on two cores they held the first page back for most of a minute.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    process = subprocess.Popen(command, env=env, start_new_session=True)

    def stop_and_exit(signum, frame):
        _stop(process)
        sys.exit(128 + signum)

    previous = {sig: signal.signal(sig, stop_and_exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        deadline = time.monotonic() + timeout
        while not _answers(ready_url):
            if process.poll() is not None:
                raise ServerError(
                    f"the server stopped before answering (exit {process.returncode}); "
                    "its messages are above"
                )
            if time.monotonic() > deadline:
                raise ServerError(f"the server did not answer at {ready_url} in {timeout:.0f} s")
            time.sleep(0.5)
        announce()
        return process.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        _stop(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def model_uri(source: str) -> str:
    """An MLflow model URI for a run id, a runs:/ or models:/ URI, or a local folder."""
    from pathlib import Path

    from seqapps.model_uri import model_uri as uri_of

    path = Path(source).expanduser()
    if (path / "MLmodel").is_file():
        return str(path.resolve())
    return uri_of(source)
