"""`seqapps tune`: trials as child runs, the test split kept for the end, several workers on
one study, and a worker killed mid-trial."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from seqapps import tuning
from seqapps.search_space import parse_pairs
from seqapps.tune_command import run_study
from tests.integration.toy_tasks import SoundTask

RESULTS = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


class GuardedTestSplit(SoundTask):
    """The toy task, whose test split raises if it is read before the study has all its
    trials: the objective must never see it."""

    name = "guarded"
    storage = ""
    study_name = ""
    trials = 0
    reads: list[int] = []

    def load_data(self, config):
        import tensorflow as tf

        bundle = super().load_data(config)
        guard = type(self).check_study_ended

        def checked(steps, label):
            tf.py_function(guard, [], [])
            return steps, label

        bundle.test = bundle.test.map(checked)
        return bundle

    @classmethod
    def check_study_ended(cls):
        study = optuna.load_study(study_name=cls.study_name, storage=cls.storage)
        ended = len(study.get_trials(deepcopy=False, states=RESULTS))
        cls.reads.append(ended)
        if ended < cls.trials:
            raise RuntimeError(f"the test split was read with {ended} of {cls.trials} trials done")


def _children(client, experiment_id: str) -> list:
    runs = client.search_runs([experiment_id])
    return [r for r in runs if "seqapps.trial" in r.data.tags]


def _plan(tracking_uri, storage, trials, **given):
    flags = {"epochs": 2, "tracking_uri": tracking_uri, "patience": 0, **given}
    space = parse_pairs(["units=4..16:log", "learning_rate=1e-3..3e-2:log"])
    fixed = tuning.FixedSettings(flags)
    settings = tuning.StudySettings(trials=trials, storage=storage)
    return tuning.plan(GuardedTestSplit, fixed, space, settings)


@pytest.mark.slow
def test_trials_never_read_the_test_split_and_the_best_is_tested_once(tracking_uri, workdir):
    storage = f"sqlite:///{workdir / 'optuna.db'}"
    study = _plan(tracking_uri, storage, trials=3, units=8)
    GuardedTestSplit.storage, GuardedTestSplit.study_name = storage, study.name
    GuardedTestSplit.trials, GuardedTestSplit.reads = 3, []
    lines = []
    summary = run_study(study, lines.append)

    optuna_study = optuna.load_study(study_name=study.name, storage=storage)
    trials = optuna_study.get_trials()
    assert [t.state for t in trials if t.state not in RESULTS] == [], lines
    assert len(trials) == 3
    # Read at the end only (the evaluation and the exported examples), never by a trial.
    assert GuardedTestSplit.reads and set(GuardedTestSplit.reads) == {3}
    # Trial 0 runs the fixed settings (units 8, learning rate 0.001): the study can only
    # improve on them.
    assert trials[0].params == {"units": 8, "learning_rate": pytest.approx(1e-3)}

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("tune-guarded")
    children = _children(client, experiment.experiment_id)
    assert sorted(int(r.data.tags["seqapps.trial"]) for r in children) == [0, 1, 2]
    child_ids = {r.info.run_id for r in children}
    everything = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in everything if r.info.run_id not in child_ids]
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parent.info.run_id}
    for child in children:
        number = int(child.data.tags["seqapps.trial"])
        assert child.data.tags["seqapps.trial_state"] == trials[number].state.name
        assert child.info.status == "FINISHED"

    best = optuna_study.best_trial
    complete = [t.value for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert best.value == min(complete) <= trials[0].value
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["seqapps.best_trial"] == str(best.number)
    assert parent.data.tags["best.units"] == str(best.params["units"])
    assert parent.data.metrics["best_trial.val_loss"] == pytest.approx(best.value)
    tested = [r for r in children if any(k.startswith("test_") for k in r.data.metrics)]
    assert [r.info.run_id for r in tested] == [parent.data.tags["seqapps.best_run_id"]]
    assert parent.data.metrics["best_trial.test_accuracy"] == pytest.approx(
        tested[0].data.metrics["test_accuracy"]
    )
    # Restored to its best epoch: the validation loss the test run starts from is the trial's.
    best_run = tested[0]
    assert best_run.data.metrics["best_val_loss"] == pytest.approx(best.value)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert "figures/optimization_history.png" in artifacts
    assert summary[0].startswith(f"study {study.name} FINISHED")
    assert summary[3].startswith("again: seqapps run guarded --epochs 2")


def _seqapps(python_exe) -> str:
    return str(Path(python_exe).with_name("seqapps"))


class _Lines:
    """A process's output lines, read as they come."""

    def __init__(self, process):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, needle: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not any(needle in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {needle!r} in:\n" + "\n".join(self.lines)
            time.sleep(0.2)


@pytest.mark.slow
def test_workers_share_one_study_and_a_killed_one_loses_only_its_trial(
    tracking_uri, workdir, python_exe
):
    storage = f"sqlite:///{workdir / 'optuna.db'}"
    command = [
        _seqapps(python_exe), "tune", "stock", "--trials", "5", "--pruner", "median",
        "--search", "units=8..32:log", "--search", "dropout=0..0.3",
        "--epochs", "3", "--max-samples", "300", "--storage", storage,
        "--tracking-uri", tracking_uri, "--heartbeat", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start(*extra):
        return subprocess.Popen(
            [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=env, cwd=workdir,
        )  # fmt: skip

    first = start("--jobs", "2")  # the README's form: two processes on this machine
    first_lines = _Lines(first)
    # It creates the study and takes trial 0 (the fixed settings) before TensorFlow loads.
    first_lines.wait_for("starts (5 trial(s) to go", 120)
    doomed = start()
    doomed_lines = _Lines(doomed)
    doomed_lines.wait_for("epoch 1/3", 180)
    os.kill(doomed.pid, signal.SIGKILL)  # mid-trial, without a word
    doomed.wait(timeout=30)
    killed_trial = int(
        next(line for line in doomed_lines.lines if "epoch 1/3" in line).split()[1].rstrip(":")
    )
    again = start()  # a restarted worker joins (and continues) the same study
    again_lines = _Lines(again)
    again_lines.wait_for("continues (", 120)
    assert again.wait(timeout=400) == 0, "\n".join(again_lines.lines)
    assert first.wait(timeout=400) == 0, "\n".join(first_lines.lines)

    study = optuna.load_study(study_name=_study_name(again_lines.lines), storage=storage)
    trials = study.get_trials()
    assert sum(t.state in RESULTS for t in trials) == 5
    lost = trials[killed_trial]
    assert lost.state == optuna.trial.TrialState.FAIL
    client = MlflowClient(tracking_uri)
    lost_run = client.get_run(lost.user_attrs["mlflow_run_id"])
    assert lost_run.info.status == "KILLED"
    assert "worker stopped without a word" in lost_run.data.tags["seqapps.failure"]

    experiment = client.get_experiment_by_name("tune-stock")
    children = _children(client, experiment.experiment_id)
    numbers = [int(r.data.tags["seqapps.trial"]) for r in children]
    assert len(numbers) == len(set(numbers)), "a trial number ran twice"
    counted = [
        r for r in children if r.data.tags.get("seqapps.trial_state") in ("COMPLETE", "PRUNED")
    ]
    assert len(counted) == 5 and killed_trial not in {
        int(r.data.tags["seqapps.trial"]) for r in counted
    }
    parent = client.get_run(children[0].data.tags["mlflow.parentRunId"])
    assert parent.info.status == "FINISHED"
    assert float(parent.data.metrics["best_trial.val_loss"]) <= trials[0].value  # the defaults
    assert "best_trial.test_rmse" in parent.data.metrics


def _study_name(lines: list[str]) -> str:
    return next(line.split()[1] for line in lines if line.startswith("study "))
