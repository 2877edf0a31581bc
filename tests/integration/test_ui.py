"""`seqapps ui` serves the MLflow UI for the same store `seqapps run` uses."""

import os
import socket
import subprocess
import sys
import time
import urllib.request


def test_ui_serves_the_store_on_loopback(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "seqapps", "ui", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and process.poll() is None:  # bounded wait
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                    status = reply.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200
        first_line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first_line or "does not exist yet" in first_line
        # A second UI on the same port: one line, exit 2, at once (before MLflow starts).
        taken = subprocess.run(
            [sys.executable, "-m", "seqapps", "ui", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == 2, taken.stderr
        assert taken.stderr.strip().splitlines() == [
            f"Error: --port {port}: 127.0.0.1:{port} is already in use; choose another --port"
        ]
    finally:
        process.terminate()
        process.wait(timeout=30)
