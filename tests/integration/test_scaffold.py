"""`seqapps new task|arch NAME`: the package installs with pip, passes its own tests untouched,
and the new task trains, each step in a fresh process as a plugin author types it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def shell(*args, cwd, env=None):
    done = subprocess.run(
        [*args], capture_output=True, text=True, cwd=cwd, env=env or os.environ, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.mark.slow
def test_new_task_and_arch_install_pass_their_tests_and_train(tmp_path):
    shell(str(BIN / "seqapps"), "new", "task", "demo", cwd=tmp_path)
    shell(str(BIN / "seqapps"), "new", "arch", "convgru", cwd=tmp_path)
    # pip install into a folder of its own: the suite's environment stays as it was.
    shell(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
          "--target", "site", "./demo", "./convgru", cwd=tmp_path)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    tested = shell(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "demo",
                   "convgru", cwd=tmp_path, env=env)  # fmt: skip
    assert "6 passed" in tested.stdout
    run = shell(str(BIN / "seqapps"), "run", "demo", "--arch", "convgru", "--epochs", "2",
                cwd=tmp_path, env=env)  # fmt: skip
    assert "FINISHED" in run.stdout and "test_accuracy" in run.stdout
    listed = shell(str(BIN / "seqapps"), "archs", cwd=tmp_path, env=env)
    assert any(line.startswith("convgru") for line in listed.stdout.splitlines())


def test_a_bad_name_or_a_taken_folder_is_one_line(tmp_path):
    bad = subprocess.run(
        [str(BIN / "seqapps"), "new", "task", "Bad-Name"], capture_output=True, text=True,
        cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: NAME 'Bad-Name': use lowercase letters, digits and underscores, starting with "
        "a letter"
    ]
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "keep.txt").write_text("mine")
    taken = subprocess.run(
        [str(BIN / "seqapps"), "new", "task", "demo"], capture_output=True, text=True, cwd=tmp_path
    )
    assert taken.returncode == 2 and "exists and is not empty" in taken.stderr
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["keep.txt"]
