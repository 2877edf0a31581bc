"""Runs survive: SIGKILL then --resume continues the same MLflow run to the same result."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

ARGS = ["run", "sentiment", "--arch", "lstm", "--units", "16", "--epochs", "8"]
ARGS += ["--max-samples", "400", "--patience", "0", "--checkpoint-interval", "0", "-q"]


def seqapps_command(python_exe):
    return [str(Path(python_exe).with_name("seqapps"))]


def runs_of(client, experiment):
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def saved_epoch(state_root: Path) -> int:
    """The last epoch saved in the (only) run state under ``state_root``; 0 if none yet."""
    for state in state_root.glob("*/state.json"):
        try:
            return json.loads(state.read_text())["epoch"]
        except (ValueError, KeyError):
            return 0  # caught between writes
    return 0


def wait_for(condition, what: str, process=None, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.mark.slow
def test_kill_resume_elsewhere_interrupt_resume_matches_an_uninterrupted_run(
    python_exe, tracking_uri, workdir
):
    """SIGKILL, resume from another folder (a second --resume meanwhile is refused: the
    first is alive), SIGTERM, resume from a third folder: the same run, every epoch logged
    once, the same metrics as an uninterrupted run, no state left behind."""
    command = [*seqapps_command(python_exe), *ARGS, "--tracking-uri", tracking_uri]
    state_root = workdir / "state"
    env = {**os.environ, "SEQAPPS_STATE_DIR": str(state_root)}
    folders = {name: workdir / name for name in ("a", "b", "c")}
    for folder in folders.values():
        folder.mkdir()
    reference = subprocess.run(
        [*command, "--experiment", "reference"], cwd=workdir, capture_output=True, text=True
    )
    assert reference.returncode == 0, reference.stderr

    victim = subprocess.Popen(
        [*command, "--experiment", "victim"],
        cwd=folders["a"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: saved_epoch(state_root) >= 2, "the run saved epoch 2", victim)
    os.kill(victim.pid, signal.SIGKILL)  # no handler runs: the run stays RUNNING
    victim.wait()
    client = MlflowClient(tracking_uri)
    (killed,) = runs_of(client, "victim")
    assert killed.info.status == "RUNNING"
    run_id = killed.info.run_id
    resume = [*seqapps_command(python_exe), "run", "sentiment", "--resume", run_id, "-q"]
    resume += ["--tracking-uri", tracking_uri]

    first = subprocess.Popen(
        resume, cwd=folders["b"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    owned = lambda: client.get_run(run_id).data.tags.get("seqapps.pid") == str(first.pid)  # noqa: E731
    wait_for(owned, "the first resume owns the run", first)
    resumed_at = int(client.get_run(run_id).data.tags["seqapps.resumed_at_epoch"])
    wait_for(lambda: saved_epoch(state_root) >= resumed_at + 1, "an epoch more", first)
    # Paused (alive, mid-training) while a second resume asks, then SIGTERM (what a
    # scheduler sends; Ctrl-C takes the same path), delivered as it continues: on a loaded
    # machine it could otherwise finish before the second had even started.
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = subprocess.run(resume, cwd=folders["c"], env=env, capture_output=True, text=True)
        first.send_signal(signal.SIGTERM)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    assert f"--resume {run_id}: the run is still alive (pid {first.pid} on this host)" in (
        second.stderr
    )
    _, err = first.communicate(timeout=120)
    assert first.returncode == 143, err.decode()[-2000:]
    interrupted_after = saved_epoch(state_root)
    # SIGTERM marks the run as Ctrl-C does: KILLED, the reason, how to resume, its epochs.
    stopped = client.get_run(run_id)
    assert stopped.info.status == "KILLED"
    assert stopped.data.tags["seqapps.failure"] == "stopped by SIGTERM"
    assert f"Resume with: seqapps run sentiment --resume {run_id}" in err.decode()
    assert "Traceback" not in err.decode()
    logged = {m.step for m in client.get_metric_history(run_id, "val_loss")}
    assert set(range(1, interrupted_after + 1)) <= logged

    last = subprocess.run(resume, cwd=folders["c"], env=env, capture_output=True, text=True)
    assert last.returncode == 0, last.stderr
    # No epoch replayed beyond the last saved one: it goes on right after it.
    assert f"resuming at epoch {interrupted_after + 1} of 8" in last.stdout

    (after,) = runs_of(client, "victim")  # the same run, not a second one
    assert after.info.run_id == run_id and after.info.status == "FINISHED"
    assert "seqapps.failure" not in after.data.tags
    (expected,) = runs_of(client, "reference")
    for key in ("train_loss", "val_loss", "train_accuracy"):
        steps = [m.step for m in client.get_metric_history(run_id, key)]
        assert sorted(steps) == list(range(1, 9)), (key, steps)  # none lost, none twice
        ours = sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)
        theirs = sorted(client.get_metric_history(expected.info.run_id, key), key=lambda m: m.step)
        # Same seed, CPU determinism, the interrupted epoch replayed with its own data order:
        # the curves agree to float precision (tolerance 1e-6).
        for a, b in zip(ours, theirs):
            assert a.value == pytest.approx(b.value, abs=1e-6), (key, a.step)
    for key in ("test_loss", "test_accuracy", "best_epoch", "epochs_trained"):
        assert after.data.metrics[key] == pytest.approx(expected.data.metrics[key], abs=1e-6)
    # Finished and logged: no state folder left, wherever the run was resumed from.
    assert not any(state_root.iterdir())
    for folder in folders.values():
        assert not (folder / ".seqapps").exists()


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
