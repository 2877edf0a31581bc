"""Nothing is lost: NaN losses, Ctrl-C, processes racing on a fresh store, a tracking outage."""

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import keras
import pytest
from mlflow import MlflowClient

from seqapps.exceptions import TrainingError
from tests.conftest import runs_in

TINY = ["--arch", "lstm", "--units", "8", "--max-samples", "150", "--patience", "0"]


@keras.saving.register_keras_serializable(package="seqapps_tests")
class PoisonAfter(keras.layers.Layer):
    """Turns its input into NaN from training step ``after`` on: a loss that diverges
    mid-run, deterministically (the thing under test is the pipeline's reaction)."""

    def __init__(self, after: int, **kwargs):
        super().__init__(**kwargs)
        self.after = after

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

    def call(self, x, training=False):
        if not training:
            return x
        self.calls.assign_add(1.0)
        return x + keras.ops.where(self.calls > self.after, float("nan"), 0.0)


def test_a_nan_loss_fails_the_run_and_keeps_the_last_good_state(tracking_uri, workdir):
    from seqapps import registry, training
    from seqapps.config import resolve
    from seqapps_sentiment.task import SentimentTask

    class Diverging(SentimentTask):
        def build_model(self, spec, arch, config):
            model = super().build_model(spec, arch, config)
            steps = math.ceil(150 / config.batch_size)  # --max-samples 150: 150 for training
            poisoned = PoisonAfter(after=2 * steps)(model.outputs[0])  # epoch 3 goes NaN
            return keras.Model(model.inputs, poisoned)

    flags = {"epochs": 5, "units": 8, "max_samples": 150, "tracking_uri": tracking_uri}
    flags.update({"verbose": 0, "checkpoint_interval": 1e9})  # only the NaN stop saves
    config = resolve(Diverging, flags, load_arch=registry.load_arch)
    with pytest.raises(TrainingError, match="NaN or infinite in epoch 3"):
        training.run(Diverging, config, echo=lambda line: None)

    (run,) = runs_in(tracking_uri)
    assert run.info.status == "FAILED"
    assert "NaN or infinite" in run.data.tags["seqapps.failure"]
    client = MlflowClient(tracking_uri)
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert sorted(m.step for m in history) == [1, 2]  # the good epochs, no NaN stored
    assert all(math.isfinite(m.value) for m in history)
    state = json.loads(Path(run.data.tags["seqapps.state_dir"], "state.json").read_text())
    assert state["epoch"] == 2 and math.isfinite(state["best_loss"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "code", "reason"),
    # SIGTERM (what Slurm, Kubernetes, docker send) takes the same path: test_resume sends it
    # to a resumed run and checks the same marks before resuming it to the end.
    [(signal.SIGINT, 130, "interrupted by the user (Ctrl-C)")],
    ids=["ctrl-c"],
)
def test_ctrl_c_and_sigterm_mark_the_run_killed_save_state_and_say_how_to_resume(
    python_exe, tracking_uri, workdir, stop, code, reason
):
    script = str(Path(python_exe).with_name("seqapps"))
    # Epochs of this size take a fraction of a second: 30 leave the signal seconds to land
    # even when this process waits for a core (8 did not always, with both cores busy).
    command = [script, "run", "sentiment", *TINY, "--epochs", "30", "--checkpoint-interval", "1e9"]
    process = subprocess.Popen(
        [*command, "--tracking-uri", tracking_uri],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:  # per-epoch lines (stdout is not a terminal)
        if "val_loss" in line:
            break
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err[-2000:]
    (run,) = runs_in(tracking_uri)
    run_id = run.info.run_id
    assert run.info.status == "KILLED"
    assert run.data.tags["seqapps.failure"] == reason
    assert f"Resume with: seqapps run sentiment --resume {run_id}" in err
    assert "Traceback" not in err
    state = json.loads(Path(run.data.tags["seqapps.state_dir"], "state.json").read_text())
    assert state["epoch"] >= 1
    # Every epoch the saved state covers has its metrics in the store (buffer flushed).
    history = MlflowClient(tracking_uri).get_metric_history(run_id, "val_loss")
    assert sorted(m.step for m in history) == list(range(1, state["epoch"] + 1))

    resumed = subprocess.run(  # "last": the newest interrupted sentiment run
        [script, "run", "sentiment", "--resume", "last", "-q", "--tracking-uri", tracking_uri],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming run {run_id}" in resumed.stdout
    after = MlflowClient(tracking_uri).get_run(run_id)
    assert after.info.status == "FINISHED" and after.data.metrics["epochs_trained"] == 30
    assert "seqapps.failure" not in after.data.tags  # a finished run carries no stale reason


@pytest.mark.slow
def test_three_processes_on_a_fresh_store_each_land_in_their_experiment(python_exe, workdir):
    uri = f"sqlite:///{workdir / 'fresh.db'}"
    script = str(Path(python_exe).with_name("seqapps"))
    # Two create the same experiment at once, the third another: both races of a new store.
    experiments = ["alpha", "beta", "alpha"]
    processes = [
        subprocess.Popen(
            [
                script,
                "run",
                "sentiment",
                *TINY,
                "--epochs",
                "1",
                "-q",
                "--experiment",
                name,
                "--run-name",
                f"{name}-{i}",
                "--tracking-uri",
                uri,
            ],
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, name in enumerate(experiments)
    ]
    results = [p.communicate(timeout=600) for p in processes]
    for process, (_, err) in zip(processes, results):
        assert process.returncode == 0, err[-2000:]
    client = MlflowClient(uri)
    runs = runs_in(uri)
    assert len(runs) == 3 and all(r.info.status == "FINISHED" for r in runs)
    for run in runs:
        experiment = client.get_experiment(run.info.experiment_id).name
        assert run.info.run_name.startswith(experiment + "-"), (run.info.run_name, experiment)
    assert sorted(e.name for e in client.search_experiments()) == ["Default", "alpha", "beta"]


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python_exe, port, store, workdir):
    mlflow = str(Path(python_exe).with_name("mlflow"))
    server = subprocess.Popen(
        [
            mlflow,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{store}",
            "--default-artifact-root",
            str(workdir / "artifacts"),
            "--workers",
            "1",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # GenAI job runners: nothing here submits jobs, and they take a core while starting.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        start_new_session=True,
    )
    import urllib.request

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError("mlflow server did not start")


def stop_server(server):
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def start_training(python_exe, uri: str, workdir, epochs: int, env=None):
    """A `seqapps run` subprocess logging to ``uri``, returned once its first epoch ended."""
    script = str(Path(python_exe).with_name("seqapps"))
    run = subprocess.Popen(
        [script, "run", "sentiment", *TINY, "--epochs", str(epochs), "--tracking-uri", uri],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    for line in run.stdout:
        if "val_loss" in line:  # training is under way
            break
    return run


@pytest.mark.slow
def test_a_tracking_outage_mid_run_loses_nothing(python_exe, workdir):
    port = free_port()
    store = workdir / "server.db"
    server = start_server(python_exe, port, store, workdir)
    uri = f"http://127.0.0.1:{port}"
    run = start_training(python_exe, uri, workdir, epochs=12)
    try:
        stop_server(server)
        time.sleep(6)
        server = start_server(python_exe, port, store, workdir)
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-3000:]
        (logged,) = runs_in(uri)
        assert logged.info.status == "FINISHED"
        steps = [
            m.step for m in MlflowClient(uri).get_metric_history(logged.info.run_id, "val_loss")
        ]
        assert sorted(steps) == list(range(1, 13))  # every epoch, once
        assert "test_accuracy" in logged.data.metrics
    finally:
        run.kill()
        stop_server(server)


def test_an_unreachable_store_fails_before_training(runner, seqapps_cli, workdir):
    result = runner.invoke(
        seqapps_cli,
        ["run", "sentiment", "--epochs", "1", "--tracking-uri", f"http://127.0.0.1:{free_port()}"],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "model:" not in result.output


def test_an_unwritable_output_dir_is_a_clear_error(runner, seqapps_cli, tracking_uri, workdir):
    blocker = workdir / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "sentiment",
            "--epochs",
            "1",
            "--output-dir",
            str(blocker / "out"),
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert result.exit_code == 2, result.output
    assert "--output-dir" in result.stderr and "not a writable folder" in result.stderr
    assert not runs_in(tracking_uri)


@pytest.mark.slow
def test_a_full_disk_while_saving_state_is_a_clear_error_and_leaves_no_partial_file(
    python_exe, tracking_uri, workdir
):
    import resource

    from seqapps.tracking import Tracker

    Tracker(tracking_uri)  # create the store first: only the state write should hit the limit
    # Room for the run's params and tags in the store (itself ~1 MB), not for the ~5 MB
    # state of a 256-unit LSTM.
    limit = (workdir / "mlflow.db").stat().st_size + 150_000

    def small_disk():
        # Files may not grow past `limit` bytes: a write beyond it fails with EFBIG, as a
        # full disk fails with ENOSPC (SIGXFSZ ignored so the write fails instead of killing).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    script = str(Path(python_exe).with_name("seqapps"))
    result = subprocess.run(
        [
            script,
            "run",
            "sentiment",
            "--arch",
            "lstm",
            "--units",
            "256",
            "--max-samples",
            "300",
            "--epochs",
            "2",
            "--checkpoint-interval",
            "0",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        preexec_fn=small_disk,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "cannot save the run state in" in result.stderr
    assert "Traceback" not in result.stderr
    (run,) = runs_in(tracking_uri)
    assert run.info.status == "FAILED"
    state = Path(run.data.tags["seqapps.state_dir"])
    assert not list(state.glob(".*.tmp"))  # no half-written file left behind


@pytest.mark.slow
def test_a_store_lost_for_good_mid_run_exits_75_with_the_state_saved(python_exe, workdir):
    port = free_port()
    server = start_server(python_exe, port, workdir / "server.db", workdir)
    uri = f"http://127.0.0.1:{port}"
    # MLflow retries for minutes by default; a scheduler's job would wait that long too.
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "3"}
    run = start_training(python_exe, uri, workdir, epochs=6, env=quick)
    try:
        stop_server(server)  # and it does not come back
        _, err = run.communicate(timeout=600)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 75, err[-3000:]
    (line,) = [text for text in err.splitlines() if text.startswith("Error:")]
    assert f"lost the tracking store {uri}" in line and "--resume" in line
    assert "Traceback" not in err
    state = Path(line.split("the trained state is saved in ")[1].split(". Once")[0])
    assert (state / "state.json").is_file()
