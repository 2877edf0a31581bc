"""`seqapps run --folds K` and `--repeats N`: children under one parent with mean ± std."""

import csv
import io
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

SEQAPPS = str(Path(sys.executable).with_name("seqapps"))


def write_reviews(path: Path, count: int) -> list[str]:
    """A CSV where one word decides the label, but a 1-epoch model is not always right."""
    rng = random.Random(3)
    words = {"great": "pos", "lovely": "pos", "fine": "pos", "awful": "neg", "dull": "neg"}
    rows, texts = ["text,label"], []
    for i in range(count):
        word = rng.choice(sorted(words))
        texts.append(f"{word} film {i} {rng.choice(['today', 'again', 'here'])}")
        rows.append(f"{texts[-1]},{words[word]}")
    path.write_text("\n".join(rows) + "\n")
    return texts


def children_of(client, parent):
    runs = client.search_runs([parent.info.experiment_id])
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def test_five_folds_in_a_fresh_process_test_every_text_once_and_log_mean_and_std(tmp_path):
    texts = write_reviews(tmp_path / "reviews.csv", 100)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [SEQAPPS, "run", "sentiment", "--data", "reviews.csv", "--folds", "5"]
    command += ["--arch", "gru", "--epochs", "1", "--units", "4", "--tracking-uri", uri]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "[5/5] gru fold5: FINISHED" in done.stdout
    client = MlflowClient(uri)
    (parent,) = [r for r in client.search_runs(["1"]) if "seqapps.estimate" in r.data.tags]
    assert parent.data.tags["seqapps.estimate"] == "5-fold cross-validation, 1 seed"
    children = children_of(client, parent)
    assert sorted(r.data.params["fold"] for r in children) == ["1", "2", "3", "4", "5"]
    accuracies = [r.data.metrics["test_accuracy"] for r in children]
    mean, std = statistics.mean(accuracies), statistics.stdev(accuracies)
    assert parent.data.metrics["test_accuracy_mean"] == pytest.approx(mean)
    assert parent.data.metrics["test_accuracy_std"] == pytest.approx(std)
    assert f"  test_accuracy {mean:.4f} ± {std:.4f} (mean ± std over 5;" in "\n".join(lines)
    # Every text is tested exactly once over the five folds.
    tested = []
    for child in children:
        path = client.download_artifacts(child.info.run_id, "test_predictions.csv", str(tmp_path))
        tested += [row["text"] for row in csv.DictReader(io.StringIO(Path(path).read_text()))]
    assert sorted(tested) == sorted(texts)

    # compare takes the folds as replicates of one setting: one row of 5 runs.
    board = [SEQAPPS, "compare", "--parent", parent.info.run_id, "--tracking-uri", uri]
    shown = subprocess.run(board, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert f"1     {mean:.4f}              {std:.4f}  5" in shown.stdout, shown.stdout


def test_repeats_train_seed_after_seed_and_the_same_command_skips_finished_runs(
    runner, seqapps_cli, tracking_uri, workdir
):
    write_reviews(workdir / "reviews.csv", 60)
    args = ["run", "sentiment", "--data", "reviews.csv", "--repeats", "2", "--seed", "5"]
    args += ["--arch", "gru", "--epochs", "1", "--units", "4", "--tracking-uri", tracking_uri]
    first = runner.invoke(seqapps_cli, args)
    assert first.exit_code == 0, first.output
    client = MlflowClient(tracking_uri)
    (parent,) = [r for r in client.search_runs(["1"]) if "seqapps.estimate" in r.data.tags]
    children = children_of(client, parent)
    assert sorted(r.data.params["seed"] for r in children) == ["5", "6"]
    losses = [r.data.metrics["test_loss"] for r in children]
    assert losses[0] != losses[1]  # two seeds, two models
    assert parent.data.metrics["test_loss_std"] == pytest.approx(statistics.stdev(losses))
    again = runner.invoke(seqapps_cli, args)
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped, already FINISHED") == 2
    assert len(client.search_runs(["1"])) == 3  # the same parent, no new children
