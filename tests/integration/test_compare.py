"""`seqapps compare` on a store with known runs: values, ordering, formats."""

import csv
import io
import json
import math

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

KNOWN = [  # arch, seed, test_accuracy, test_loss
    ("lstm", 1, 0.90, 0.30),
    ("lstm", 2, 0.80, 0.40),
    ("gru", 1, 0.95, 0.20),
    ("gru", 2, 0.93, 0.22),
    ("bow", 1, 0.60, 0.70),
]


@pytest.fixture
def store(tracking_uri):
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("sentiment")
    parent = client.create_run(experiment, run_name="sweep").info.run_id
    ids = {}
    for arch, seed, accuracy, loss in KNOWN:
        run = client.create_run(
            experiment, tags={"task": "sentiment", "mlflow.parentRunId": parent}
        )
        params = {"arch": arch, "seed": str(seed), "units": "8", "run_name": f"{arch}-{seed}"}
        client.log_batch(
            run.info.run_id,
            params=[Param(k, v) for k, v in params.items()],
            metrics=[Metric("test_accuracy", accuracy, 0, 0), Metric("test_loss", loss, 0, 0)]
            + [Metric("val_loss", loss + 0.1 * (3 - e), 0, e) for e in (1, 2, 3)],
            tags=[RunTag("arch", arch)],
        )
        client.set_terminated(run.info.run_id, "FINISHED")
        ids.setdefault(arch, []).append(run.info.run_id)
    failed = client.create_run(experiment, tags={"task": "sentiment", "mlflow.parentRunId": parent})
    client.log_batch(
        failed.info.run_id,
        params=[Param("arch", "rnn")],
        metrics=[Metric("test_accuracy", 0.99, 0, 0)],
    )
    client.set_terminated(failed.info.run_id, "FAILED")  # never ranked
    client.set_terminated(parent, "FINISHED")
    return tracking_uri, parent, ids


def test_table_groups_seeds_with_mean_and_std_best_first(runner, seqapps_cli, store):
    uri, _, ids = store
    result = runner.invoke(seqapps_cli, ["compare", "sentiment", "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:6] == ["rank", "arch", "test_accuracy", "mean", "std", "runs"]
    rows = [line.split() for line in lines[1:-1]]
    assert [row[1] for row in rows] == ["gru", "lstm", "bow"]  # rnn FAILED: not ranked
    assert lines[-1] == "ranked by test_accuracy, higher is better"
    assert rows[0][2:5] == ["0.9400", f"{math.sqrt(2) * 0.01:.4f}", "2"]
    assert rows[1][2:5] == ["0.8500", f"{math.sqrt(2) * 0.05:.4f}", "2"]
    assert rows[2][2:5] == ["0.6000", "0.0000", "1"]
    assert set(rows[0][5:]) == set(ids["gru"])


def test_lower_is_better_metrics_rank_ascending(runner, seqapps_cli, store):
    uri, _, _ = store
    result = runner.invoke(
        seqapps_cli, ["compare", "sentiment", "--metric", "test_loss", "--tracking-uri", uri]
    )
    lines = result.output.splitlines()
    assert [line.split()[1] for line in lines[1:-1]] == ["gru", "lstm", "bow"]
    assert lines[-1] == "ranked by test_loss, lower is better"


def test_csv_and_json_formats(runner, seqapps_cli, store):
    uri, parent, _ = store
    as_csv = runner.invoke(
        seqapps_cli, ["compare", "--parent", parent, "--format", "csv", "--tracking-uri", uri]
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["arch"], r["test_accuracy mean"]) for r in rows] == [
        ("gru", "0.9400"),
        ("lstm", "0.8500"),
        ("bow", "0.6000"),
    ]
    as_json = runner.invoke(
        seqapps_cli, ["compare", "--parent", parent, "--format", "json", "--tracking-uri", uri]
    )
    entries = json.loads(as_json.stdout)
    assert entries[1]["arch"] == "lstm" and entries[1]["mean"] == pytest.approx(0.85)
    assert entries[1]["std"] == pytest.approx(0.0707107, rel=1e-5) and entries[1]["runs"] == 2


def test_parent_gets_the_figures(runner, seqapps_cli, store, workdir):
    uri, parent, _ = store
    result = runner.invoke(
        seqapps_cli, ["compare", "--parent", parent, "--output-dir", "figs", "--tracking-uri", uri]
    )
    assert result.exit_code == 0, result.output
    assert (workdir / "figs" / "leaderboard.png").stat().st_size > 1000
    assert (workdir / "figs" / "learning_curves.png").stat().st_size > 1000
    logged = {a.path for a in MlflowClient(uri).list_artifacts(parent, "compare")}
    assert logged == {"compare/leaderboard.png", "compare/learning_curves.png"}


def test_unknown_experiment_lists_the_existing_ones(runner, seqapps_cli, store):
    uri, _, _ = store
    result = runner.invoke(seqapps_cli, ["compare", "stocks", "--tracking-uri", uri])
    assert result.exit_code == 2
    assert (
        "no experiment 'stocks' in the tracking store; experiments: Default, sentiment"
        in result.stderr
    )


SPEECH = [  # mode, arch, metric, value (CTC runs have no test_accuracy)
    ("words", "lstm", "test_accuracy", 0.90),
    ("words", "gru", "test_accuracy", 0.95),
    ("ctc", "lstm", "test_cer", 0.30),
    ("ctc", "gru", "test_cer", 0.10),
    ("ctc", "bilstm", "test_cer", 0.20),
]


@pytest.fixture
def speech_store(tracking_uri):
    """Runs as `seqapps run speech` records them: the headline metric and its goal as tags."""
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("speech")
    for mode, arch, metric, value in SPEECH:
        goal = "min" if metric == "test_cer" else "max"
        run = client.create_run(
            experiment,
            tags={
                "task": "speech",
                "seqapps.headline_metric": metric,
                "seqapps.headline_goal": goal,
            },
        )
        # test_wer ranks the other way round from test_cer, and its name says nothing.
        metrics = [Metric(metric, value, 0, 0), Metric("test_wer", 1 - value, 0, 0)]
        client.log_batch(
            run.info.run_id,
            params=[Param("arch", arch), Param("option.mode", mode), Param("seed", "1")],
            metrics=metrics,
        )
        client.set_terminated(run.info.run_id, "FINISHED")
    return tracking_uri


def ranked(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [line.split()[1] for line in result.output.splitlines()[1:-1]]


def test_ranks_by_the_headline_each_run_recorded_in_its_direction(
    runner, seqapps_cli, speech_store
):
    uri = speech_store
    ctc = runner.invoke(
        seqapps_cli, ["compare", "speech", "--set", "mode=ctc", "--tracking-uri", uri]
    )
    assert ranked(ctc) == ["gru", "bilstm", "lstm"]  # lowest character error first
    assert ctc.output.splitlines()[-1] == "ranked by test_cer, lower is better"
    words = runner.invoke(
        seqapps_cli, ["compare", "speech", "--set", "mode=words", "--tracking-uri", uri]
    )
    assert ranked(words) == ["gru", "lstm"]
    assert words.output.splitlines()[-1] == "ranked by test_accuracy, higher is better"


def test_another_metric_takes_the_direction_the_task_declares(runner, seqapps_cli, speech_store):
    result = runner.invoke(
        seqapps_cli,
        [
            "compare",
            "speech",
            "--set",
            "mode=ctc",
            "--metric",
            "test_wer",
            "--format",
            "json",
            "--tracking-uri",
            speech_store,
        ],
    )
    entries = json.loads(result.stdout)
    # speech declares wer as "min": the lowest word error rate (lstm's 0.7) comes first
    assert next((e["arch"], e["metric"], e["goal"]) for e in entries) == ("lstm", "test_wer", "min")
    assert [e["mean"] for e in entries] == pytest.approx([0.7, 0.8, 0.9])


def test_a_filter_no_run_matches_is_one_line(runner, seqapps_cli, speech_store):
    result = runner.invoke(
        seqapps_cli, ["compare", "speech", "--set", "mode=x", "--tracking-uri", speech_store]
    )
    assert result.exit_code == 2
    assert "no finished runs to compare for task 'speech' with mode=x" in result.output


def test_a_single_runs_bootstrap_interval_shows_beside_its_score(runner, seqapps_cli, store):
    uri, _, ids = store
    client = MlflowClient(uri)
    (bow,) = ids["bow"]
    client.log_batch(
        bow,
        metrics=[
            Metric("test_accuracy_ci_low", 0.55, 0, 0),
            Metric("test_accuracy_ci_high", 0.65, 0, 0),
        ],
    )
    result = runner.invoke(seqapps_cli, ["compare", "sentiment", "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:8] == [
        "rank",
        "arch",
        "test_accuracy",
        "mean",
        "std",
        "95%",
        "CI",
        "runs",
    ]
    rows = [line.split() for line in lines[1:-1]]
    assert rows[2][1:6] == ["bow", "0.6000", "0.0000", "0.5500-0.6500", "1"]
    assert rows[0][4] == "2"  # groups of seeds show their spread, not an interval
    result = runner.invoke(
        seqapps_cli, ["compare", "sentiment", "--tracking-uri", uri, "--format", "json"]
    )
    board = json.loads(result.output)
    assert board[2]["ci95"] == [0.55, 0.65] and "ci95" not in board[0]
