"""Broken plugins, installed the way pip installs them: named with file and line, exit 2, and
the other tasks keep working (`seqapps tasks`, `seqapps run`, `tasks: all` pipelines)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEQAPPS = str(Path(sys.executable).with_name("seqapps"))
SOUND = "from seqapps.api import Task\n"
MODULES = {
    # fails while importing, on line 3
    "fails_import": "SETTINGS = {'size': 3}\n\nSIZE = SETTINGS['sise']\n",
    # a Task class missing every abstract method
    "incomplete": SOUND
    + "\n\nclass Incomplete(Task):\n    name = 'incomplete'\n    summary = 's'\n"
    + "    kind = 'classify'\n    default_arch = 'gru'\n",
    # made for a plugin API this seqapps does not have
    "future": SOUND
    + "from seqapps_sentiment.task import SentimentTask\n\n\nclass Future(SentimentTask):\n"
    + "    name = 'future'\n    api_version = '>=3'\n",
}
ENTRY_POINTS = {
    "fails": "fails_import:Task",
    "incomplete": "incomplete:Incomplete",
    "future": "future:Future",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder laid out as pip lays out an install: modules and a .dist-info."""
    root = tmp_path_factory.mktemp("broken-site")
    for module, source in MODULES.items():
        (root / f"{module}.py").write_text(source)
    info = root / "broken_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugins\nVersion: 1.0\n")
    lines = [f"{name} = {target}" for name, target in ENTRY_POINTS.items()]
    (info / "entry_points.txt").write_text("[seqapps.tasks]\n" + "\n".join(lines) + "\n")
    return root


def seqapps(site, *args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [SEQAPPS, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_tasks_lists_each_broken_plugin_with_file_and_line(site):
    done = seqapps(site, "tasks")
    assert done.returncode == 0
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if not line[0].isspace()}
    assert f"KeyError: 'sise' (at {site / 'fails_import.py'}:3)" in rows["fails"]
    assert "BROKEN (broken-plugins 1.0)" in rows["fails"]
    assert (
        "Incomplete does not implement build_model, export_model, load_data, "
        f"loss_and_metrics, predict (at {site / 'incomplete.py'}:4)" in rows["incomplete"]
    )
    assert "it needs the seqapps plugin API >=3, this seqapps has 2.0" in rows["future"]
    assert "BROKEN" not in rows["sentiment"]  # the others keep working


def test_debug_prints_the_traceback(site):
    done = seqapps(site, "tasks", "--debug")
    assert "Traceback (most recent call last)" in done.stderr
    assert "SIZE = SETTINGS['sise']" in done.stderr


@pytest.mark.parametrize("task", ["fails", "incomplete", "future"])
def test_running_a_broken_task_is_one_line_and_exit_2(site, task, tmp_path):
    done = seqapps(site, "run", task, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"plugin {task!r} from broken-plugins failed to load" in lines[0]
    assert not (tmp_path / "mlflow.db").exists()  # nothing started, nothing half-written


def test_a_pipeline_of_all_tasks_skips_broken_ones_with_a_warning(site, tmp_path):
    (tmp_path / "all.yaml").write_text("tasks: all\nparams: {epochs: 1}\n")
    done = seqapps(site, "pipeline", "run", "all.yaml", "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning: tasks: all skips 'fails': plugin 'fails' from broken-plugins" in done.stderr
    assert "skips 'incomplete'" in done.stderr and "skips 'future'" in done.stderr
    assert "sentiment" in done.stdout and "ner" in done.stdout
