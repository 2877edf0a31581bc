"""Shared fixtures: a real MLflow sqlite store in a temp dir, a CLI runner, tiny data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

# Keep TensorFlow quiet. One thread per TensorFlow pool, in the workers and in every process
# a test starts: the workers already use every core, and two pools of two threads per process
# on two cores only spin (measured: 6% less CPU and wall time for the same tests).
THREAD_CAP = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
for _name, _value in THREAD_CAP.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("MLFLOW_TRACKING_URI", None)


#: Test files whose module-scoped fixtures train models: their tests stay on one worker, so
#: the models are trained once. Every other test is scheduled on its own.
TESTS = Path(__file__).resolve().parent
TOGETHER = {
    path.relative_to(TESTS.parent).as_posix()
    for path in TESTS.rglob("test_*.py")
    if 'scope="module"' in path.read_text(encoding="utf-8")
}


def pytest_xdist_auto_num_workers(config):
    """One worker per core (at most 4): each holds TensorFlow, whose thread pools spin; a
    third worker on two cores cost about a sixth more CPU time for the same tests."""
    return min(4, os.cpu_count() or 1)


def pytest_xdist_make_scheduler(config, log):
    """Spread tests one by one over the workers (a file of many quick tests no longer holds
    one worker while the other idles), except the files in TOGETHER."""
    from xdist.scheduler import LoadScopeScheduling

    class OneByOneExceptSharedFixtures(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return path if path in TOGETHER else nodeid

    return OneByOneExceptSharedFixtures(config, log)


def pytest_collection_modifyitems(items):
    """Slow tests first: started early, a long test does not end the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def state_root(tmp_path_factory):
    """Runs without --output-dir keep their resumable state here, never in ~."""
    folder = tmp_path_factory.mktemp("run-state")
    os.environ["SEQAPPS_STATE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory):
    """Parsed-data caches (music scores) in one temp folder for the session, never in ~.

    Parallel workers (pytest -n) share it: entries are written atomically, and the
    chorales are parsed once instead of once per worker.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the folder all workers' temp folders live in
    folder = base / "seqapps-cache"
    folder.mkdir(exist_ok=True)
    previous = os.environ.get("SEQAPPS_CACHE")
    os.environ["SEQAPPS_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SEQAPPS_CACHE", None)
    else:
        os.environ["SEQAPPS_CACHE"] = previous


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in a fresh folder so mlflow.db and mlruns/ land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory):
    """An empty MLflow sqlite store, created by MLflow once per test process.

    Creating a store runs MLflow's schema migrations (seconds); a copy of this file is the
    same store, made in milliseconds. Tests of store creation itself use their own file.
    """
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "empty.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def tracking_uri(workdir, empty_store):
    """A real MLflow sqlite store for one test (a copy of a freshly created empty one)."""
    import shutil

    shutil.copyfile(empty_store, workdir / "mlflow.db")
    return f"sqlite:///{workdir / 'mlflow.db'}"


@pytest.fixture
def runner():
    """Click's test runner with stderr kept apart from stdout."""
    return CliRunner()


@pytest.fixture
def seqapps_cli():
    """The click group, imported lazily so import errors show as test failures."""
    from seqapps.cli import cli

    return cli


def runs_in(tracking_uri: str):
    """Every run in every experiment of a store."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments) if experiments else []


@pytest.fixture
def python_exe():
    """The interpreter running the tests (its bin/ holds the seqapps script)."""
    return sys.executable
