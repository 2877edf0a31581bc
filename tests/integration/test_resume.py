"""Runs survive: SIGKILL then --resume continues the same MLflow run to the same result."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

ARGS = ["run", "sentiment", "--arch", "lstm", "--units", "16", "--epochs", "6"]
ARGS += ["--max-samples", "400", "--patience", "0", "--checkpoint-interval", "0", "-q"]


def seqapps_command(python_exe):
    return [str(Path(python_exe).with_name("seqapps"))]


def runs_of(client, experiment):
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(
    python_exe, tracking_uri, workdir
):
    command = [*seqapps_command(python_exe), *ARGS, "--tracking-uri", tracking_uri]
    reference = subprocess.run(
        [*command, "--experiment", "reference"], cwd=workdir, capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr

    victim = subprocess.Popen(
        [*command, "--experiment", "victim"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    state = None
    while time.monotonic() < deadline and victim.poll() is None:
        found = list((workdir / ".seqapps" / "runs").glob("*/state.json"))
        if found and json.loads(found[0].read_text())["epoch"] >= 3:
            state = found[0]
            break
        time.sleep(0.05)
    assert state is not None, "the run never saved its third epoch"
    os.kill(victim.pid, signal.SIGKILL)  # no handler runs: the run stays RUNNING
    victim.wait()

    client = MlflowClient(tracking_uri)
    (killed,) = runs_of(client, "victim")
    assert killed.info.status == "RUNNING"
    run_id = killed.info.run_id
    resumed = subprocess.run(
        [
            *seqapps_command(python_exe),
            "run",
            "sentiment",
            "--resume",
            run_id,
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at epoch" in resumed.stdout

    (after,) = runs_of(client, "victim")  # the same run, not a second one
    assert after.info.run_id == run_id and after.info.status == "FINISHED"
    (expected,) = runs_of(client, "reference")
    for key in ("train_loss", "val_loss", "train_accuracy"):
        steps = [m.step for m in client.get_metric_history(run_id, key)]
        assert sorted(steps) == [1, 2, 3, 4, 5, 6], (key, steps)  # none lost, none twice
        ours = sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)
        theirs = sorted(client.get_metric_history(expected.info.run_id, key), key=lambda m: m.step)
        # Same seed, CPU determinism, the interrupted epoch replayed with its own data order:
        # the curves agree to float precision (tolerance 1e-6).
        for a, b in zip(ours, theirs):
            assert a.value == pytest.approx(b.value, abs=1e-6), (key, a.step)
    for key in ("test_loss", "test_accuracy", "best_epoch", "epochs_trained"):
        assert after.data.metrics[key] == pytest.approx(expected.data.metrics[key], abs=1e-6)
    assert after.data.tags["seqapps.resumed_at_epoch"] == str(
        int(after.data.tags["seqapps.resumed_at_epoch"])
    )
    assert not state.parent.exists()  # finished and logged: the state is cleaned up


def test_resume_refuses_other_settings_and_finished_runs(
    runner, seqapps_cli, tracking_uri, workdir
):
    result = runner.invoke(
        seqapps_cli,
        ["run", "sentiment", "--resume", "0" * 32, "--epochs", "3", "--tracking-uri", tracking_uri],
    )
    assert result.exit_code == 2 and "leave out --epochs" in result.stderr
    result = runner.invoke(
        seqapps_cli, ["run", "sentiment", "--resume", "0" * 32, "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2 and "no run '000" in result.stderr
    done = runner.invoke(
        seqapps_cli,
        [
            "run",
            "sentiment",
            "--epochs",
            "1",
            "--max-samples",
            "100",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    assert done.exit_code == 0, done.output
    run_id = next(x.split()[1] for x in done.output.splitlines() if x.startswith("run "))
    result = runner.invoke(
        seqapps_cli, ["run", "sentiment", "--resume", run_id, "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2 and "already FINISHED" in result.stderr
    result = runner.invoke(
        seqapps_cli, ["run", "pos", "--resume", run_id, "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2 and "of task 'sentiment', not 'pos'" in result.stderr
