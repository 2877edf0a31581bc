"""Pipeline files: validated before anything trains; smoke.yaml runs every installed task."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from seqapps import registry
from tests.conftest import runs_in

SMOKE = Path(__file__).resolve().parents[2] / "pipelines" / "smoke.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("task: sentiment\ngrid: {arch: [lstm, bilstn]}\n", "unknown arch 'bilstn'; available:"),
        ("task: sentiment\ngrid: {}\n", "grid is empty"),
        ("task: sentiment\ngrid: {arch: []}\n", "grid key 'arch' has no values"),
        ("task: sentiment\nsweep: {arch: [lstm]}\n", "unknown key 'sweep'; allowed:"),
        ("task: sentiment\nparams: {colour: red}\n", "--set colour: task 'sentiment'"),
        ("task: sentimental\n", "unknown task 'sentimental'"),
        (
            "task: sentiment\ngrid: {arch: [seq2seq]}\n",
            "arch=seq2seq: --arch seq2seq: cannot serve",
        ),
        ("task: sentiment\nparams: [1, 2\n", "invalid YAML at line"),
    ],
)
def test_bad_pipeline_is_refused_before_anything_trains(
    runner, seqapps_cli, tracking_uri, workdir, text, message
):
    (workdir / "bad.yaml").write_text(text)
    result = runner.invoke(
        seqapps_cli, ["pipeline", "run", "bad.yaml", "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "pipeline bad.yaml:" in result.stderr and message in result.stderr
    assert runs_in(tracking_uri) == []


def test_dry_run_lists_every_combination(runner, seqapps_cli, workdir):
    (workdir / "p.yaml").write_text(
        "task: sentiment\ngrid: {arch: [lstm, gru], seed: [1, 2]}\n"
        "variations: [{units: 8}, {arch: esn, spectral_radius: 0.5}]\n"
    )
    result = runner.invoke(
        seqapps_cli, ["pipeline", "run", "p.yaml", "--dry-run", "--set", "epochs=2"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "pipeline p: 8 runs in experiment 'pipeline-p'"
    assert lines[1] == "[1/8] arch=lstm seed=1 units=8"
    assert lines[2] == "[2/8] arch=esn seed=1 spectral_radius=0.5"
    assert len(lines) == 9
    # Run names fit the MLflow runs table's name column and tell the children apart.
    from seqapps import sweeps

    names = [child.config.run_name for child in sweeps.load(workdir / "p.yaml").children]
    assert names[:3] == ["lstm s1 u8", "esn s1 sr0.5", "lstm s2 u8"]
    assert len(set(names)) == 8 and max(map(len, names)) <= 24, names


@pytest.mark.parametrize("path", sorted(SMOKE.parent.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_pipeline_is_valid_and_names_its_children_apart(path):
    from seqapps import sweeps

    loaded = sweeps.load(path)
    if loaded.study is not None:  # a search: one study, its space checked at every corner
        assert loaded.study.trials and loaded.study.space and not loaded.children
        return
    children = loaded.children
    names = [child.config.run_name for child in children]
    assert children and len(set(names)) == len(names) and max(map(len, names)) <= 24, names


def test_child_names_cut_to_the_limit_stay_distinct(workdir):
    from seqapps import sweeps

    (workdir / "p.yaml").write_text(
        "tasks: [sentiment, pos]\nvariations: [{arch: bilstm, test_fraction: 0.12341},"
        " {arch: bilstm, test_fraction: 0.12342}, {arch: gru, validation_fraction: 0.2}]\n"
    )
    names = [child.config.run_name for child in sweeps.load(workdir / "p.yaml").children]
    assert names == [
        "sentiment bilstm tf0.123",
        "sentiment bilstm tf0. #2",
        "sentiment gru vf0.2",
        "pos bilstm tf0.12341",
        "pos bilstm tf0.12342",
        "pos gru vf0.2",
    ]


#: TensorFlow's own log lines (C++ "E0000 ..."/"W0000 ...", Python "WARNING:tensorflow").
TF_NOISE = re.compile(r"^([EW]\d{4} |WARNING:tensorflow|WARNING: All log messages)")


@pytest.mark.slow
def test_smoke_pipeline_runs_every_installed_task(python_exe, tracking_uri, workdir):
    """As the README types it, in a fresh process; stderr is free of TensorFlow's noise."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [str(Path(python_exe).with_name("seqapps")), "pipeline", "run", str(SMOKE)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    noise = [line for line in done.stderr.splitlines() if TF_NOISE.match(line)]
    assert not noise, noise[:5]
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("smoke")
    runs = client.search_runs([experiment.experiment_id])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    installed = {record.name for record in registry.task_records()}
    assert {r.data.tags["task"] for r in children} == installed
    assert sorted(r.info.run_name for r in children) == sorted(installed)  # named by task
    assert all(r.info.status == "FINISHED" for r in runs)
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    logged = {a.path for a in client.list_artifacts(parent.info.run_id, "compare")}
    assert "compare/sentiment-leaderboard.png" in logged
    assert f"parent run {parent.info.run_id}" in done.stdout
