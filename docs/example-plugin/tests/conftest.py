"""Install the example plugin for this test session, as its users would (pip), in a scratch
folder put on sys.path: the suite's own environment keeps only the built-in plugins."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def example_plugin_installed(tmp_path_factory):
    # Shared by the xdist workers of this session: the first one installs, the others reuse.
    site = tmp_path_factory.getbasetemp().parent / "example-plugin-site"
    if not (site / "seqapps_majority").is_dir():
        scratch = site.with_name(f"{site.name}-{os.getpid()}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--target",
                str(scratch),
                str(PLUGIN),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        with contextlib.suppress(OSError):  # another worker finished first
            scratch.rename(site)
    sys.path.insert(0, str(site))
    yield
    sys.path.remove(str(site))
