"""The README's quick unit-test command parses as typed (setup.cfg's xdist options apply to it)."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_pytest_lines() -> list[str]:
    """Each `python -m pytest ...` command of the README, without its comment."""
    lines = re.findall(r"^(python -m pytest[^#\n]*)", README.read_text(encoding="utf-8"), re.M)
    return [line.strip() for line in lines]


def test_the_unit_command_collects_in_a_fresh_process():
    (unit,) = [line for line in readme_pytest_lines() if "tests/unit" in line]
    args = unit.split()[3:]  # after "python -m pytest"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--collect-only", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=README.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"^\d{2,} tests collected", done.stdout, re.M), done.stdout[-500:]
