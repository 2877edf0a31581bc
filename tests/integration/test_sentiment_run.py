"""`seqapps run sentiment` end to end on real TensorFlow, Keras and an MLflow sqlite store."""

import json
import math
from pathlib import Path

import pytest
from mlflow import MlflowClient

from seqapps.config import FIELD_NAMES
from tests.conftest import runs_in

QUICK = ["--max-samples", "400", "--epochs", "2", "--units", "8", "--batch-size", "32", "-q"]


def train(runner, cli, tracking_uri, *args):
    result = runner.invoke(cli, ["run", "sentiment", *args, "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    run_id = next(line.split()[1] for line in result.output.splitlines() if line.startswith("run "))
    return run_id, result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small bilstm run shared by the checks below."""
    from click.testing import CliRunner

    from seqapps.cli import cli

    folder = tmp_path_factory.mktemp("sentiment")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        run_id, output = train(CliRunner(), cli, uri, *QUICK, "--arch", "bilstm")
    return uri, run_id, output, folder


def test_run_is_finished_with_every_param(trained):
    uri, run_id, output, _ = trained
    run = MlflowClient(uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    for name in FIELD_NAMES:
        if name != "options":
            assert name in params, name
    assert params["arch"] == "bilstm" and params["epochs"] == "2" and params["max_samples"] == "400"
    assert params["option.max_tokens"] == "20000"
    assert params["data.source"] == "sample" and len(params["data.fingerprint"]) == 16
    for package in ("seqapps", "tensorflow", "keras"):
        assert params[f"version.{package}"]
    assert "mlflow ui --backend-store-uri " + uri in output
    assert run.data.tags["task"] == "sentiment"


def test_per_epoch_and_test_metrics(trained):
    uri, run_id, _, _ = trained
    client = MlflowClient(uri)
    metrics = client.get_run(run_id).data.metrics
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and 0.0 <= metrics["test_macro_f1"] <= 1.0
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        steps = [m.step for m in client.get_metric_history(run_id, name)]
        assert steps == list(range(1, int(metrics["epochs_trained"]) + 1)), name


def test_artifacts_figures_config_and_model(trained):
    uri, run_id, _, folder = trained
    client = MlflowClient(uri)
    paths = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "figures", "samples.json"} <= paths
    figures = {a.path for a in client.list_artifacts(run_id, "figures")}
    assert figures == {"figures/learning_curves.png", "figures/confusion_matrix.png"}
    local = client.download_artifacts(run_id, "", str(folder / "download"))
    import yaml

    logged = yaml.safe_load(Path(local, "config.yaml").read_text())
    assert logged["arch"] == "bilstm" and logged["options"]["embedding_dim"] == 64
    from seqapps.models import model_folder
    from seqapps.tracking import Tracker

    model = model_folder(Tracker(uri).download_model(f"runs:/{run_id}/model", folder / "mlmodel"))
    metadata = json.loads(Path(model, "seqapps.json").read_text())
    assert metadata["classes"] == ["negative", "positive"] and metadata["task"] == "sentiment"


def test_logged_model_loads_and_takes_raw_strings(trained):
    import keras
    import numpy as np
    import tensorflow as tf

    uri, run_id, _, folder = trained
    from seqapps.models import model_folder
    from seqapps.tracking import Tracker

    local = model_folder(Tracker(uri).download_model(f"runs:/{run_id}/model", folder / "check"))
    model = keras.saving.load_model(f"{local}/model.keras")
    probabilities = model.predict(
        tf.constant([["the film was great"], ["the plot was dull"]]), verbose=0
    )
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_predict_matches_the_training_model(trained, runner, seqapps_cli):
    uri, run_id, _, folder = trained
    local = MlflowClient(uri).download_artifacts(run_id, "samples.json", str(folder / "samples"))
    samples = json.loads(Path(local).read_text())
    texts = [s["text"] for s in samples]
    result = runner.invoke(
        seqapps_cli, ["predict", run_id, *texts, "--json", "--tracking-uri", uri]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == texts
    for sample, row in zip(samples, rows):
        assert row["label"] == sample["label"]
        assert math.isclose(row["probability"], sample["probability"], abs_tol=1e-5)


def test_a_generation_flag_on_a_classifier_is_named_as_typed(trained, runner, seqapps_cli):
    uri, run_id, _, _ = trained
    args = ["predict", run_id, "a film", "--top-k", "5", "--tracking-uri", uri]
    result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: --top-k: predictions of task 'sentiment' have no such option")
    assert result.stdout == ""


def test_same_seed_reproduces_the_same_metrics(trained, runner, seqapps_cli):
    uri, run_id, _, _ = trained
    # A named run must not differ from an unnamed one: MLflow draws random run names.
    again, _ = train(runner, seqapps_cli, uri, *QUICK, "--arch", "bilstm", "--run-name", "named")
    first = MlflowClient(uri).get_run(run_id).data.metrics
    second = MlflowClient(uri).get_run(again).data.metrics
    for name in ("test_accuracy", "test_loss", "val_loss", "train_loss"):
        assert math.isclose(first[name], second[name], rel_tol=1e-6, abs_tol=1e-7), name


def test_csv_with_three_string_classes(runner, seqapps_cli, tracking_uri, workdir):
    rows = ["text;label"]
    words = {"joy": "happy", "rage": "angry", "calm": "neutral"}
    for i in range(90):
        word = list(words)[i % 3]
        rows.append(f"{word} day number {i}\t{words[word]}")
    (workdir / "moods.tsv").write_text("text\tlabel\n" + "\n".join(rows[1:]) + "\n")
    run_id, output = train(
        runner,
        seqapps_cli,
        tracking_uri,
        "--data",
        "moods.tsv",
        "--arch",
        "gru",
        "--epochs",
        "1",
        "--units",
        "8",
        "--learning-rate",
        "1e-6",  # it cannot learn in one epoch at a crawl ...
        "-q",
        "--output-dir",
        "out",
    )
    # ... while one word decides each label: the bag-of-words baseline wins, and the run says so.
    line = next(x for x in output.splitlines() if x.startswith("baselines (test accuracy)"))
    assert "bag-of-words naive Bayes 1.0000" in line
    assert line.endswith("does NOT beat bag-of-words naive Bayes"), line
    metadata = json.loads((workdir / "out" / run_id / "model" / "seqapps.json").read_text())
    assert metadata["classes"] == ["angry", "happy", "neutral"]
    run = MlflowClient(tracking_uri).get_run(run_id)
    assert run.data.params["data.train_size"] == "72"
    assert run.data.params["data.source"].endswith("moods.tsv")


def test_failure_inside_training_marks_run_failed(runner, seqapps_cli, tracking_uri):
    # Adam steps of ~1e38 overflow float32 weights within two batches: the loss turns NaN.
    result = runner.invoke(
        seqapps_cli,
        [
            "run",
            "sentiment",
            "--arch",
            "rnn",
            "--learning-rate",
            "1e38",
            "--clip-norm",
            "0",
            "--max-samples",
            "200",
            "--epochs",
            "3",
            "-q",
            "--tracking-uri",
            tracking_uri,
        ],
    )
    (run,) = runs_in(tracking_uri)
    assert result.exit_code == 1, result.output
    assert "NaN" in result.stderr
    assert run.info.status == "FAILED"
    assert "NaN" in run.data.tags["seqapps.failure"]


def test_test_accuracy_has_a_bootstrap_interval_a_plain_bootstrap_reproduces(trained):
    import csv
    import random

    uri, run_id, output, folder = trained
    client = MlflowClient(uri)
    metrics = client.get_run(run_id).data.metrics
    path = client.download_artifacts(run_id, "test_predictions.csv", str(folder / "predictions"))
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    right = [row["true"] == row["predicted"] for row in rows]
    assert sum(right) / len(right) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    # An independent bootstrap (Python's own random, 2000 resamples) of the logged predictions.
    draw = random.Random(7)
    means = sorted(sum(draw.choices(right, k=len(right))) / len(right) for _ in range(2000))
    assert metrics["test_accuracy_ci_low"] == pytest.approx(means[49], abs=0.01)
    assert metrics["test_accuracy_ci_high"] == pytest.approx(means[1949], abs=0.01)
    assert metrics["test_accuracy_ci_low"] <= metrics["test_accuracy"]
    assert metrics["test_accuracy"] <= metrics["test_accuracy_ci_high"]
    assert f"95% intervals (bootstrap over {len(rows)} test texts): accuracy" in output


def test_every_run_reports_its_baselines(trained):
    uri, run_id, output, _ = trained
    metrics = MlflowClient(uri).get_run(run_id).data.metrics
    for name in ("majority", "bow"):
        assert 0 <= metrics[f"test_baseline_{name}_accuracy"] <= 1, name
    assert metrics["test_baseline_majority_accuracy"] <= 0.5 + 0.05  # the sample is balanced
    assert "baselines (test accuracy): majority " in output


def test_a_test_file_with_labels_training_lacks_is_scored_not_refused(
    runner, seqapps_cli, tracking_uri, workdir
):
    from seqapps.exceptions import DataWarning

    train_rows = [
        f"{w} film number {i}\t{'pos' if w == 'great' else 'neg'}"
        for i in range(40)
        for w in ("great", "awful")
    ][:80]
    (workdir / "train.tsv").write_text("text\tlabel\n" + "\n".join(train_rows) + "\n")
    # Another domain's test file: two texts carry a label the training file never shows.
    test_rows = ["great book\tpos", "awful book\tneg", "a book\tmixed", "so-so book\tmixed"]
    (workdir / "test.tsv").write_text("text\tlabel\n" + "\n".join(test_rows) + "\n")
    args = ["--data", "train.tsv", "--set", "test_file=test.tsv", "--arch", "gru"]
    args += ["--epochs", "1", "--units", "8", "-q", "--output-dir", "out"]
    with pytest.warns(DataWarning) as warned:
        run_id, output = train(runner, seqapps_cli, tracking_uri, *args)
    (message,) = [str(w.message) for w in warned if "never in training" in str(w.message)]
    assert message == (
        "--set test_file=test.tsv: labels 'mixed' (2) occur in the test split but never in "
        "training; those 2 texts count as errors"
    )
    assert "labels ['mixed'] are unknown to the model: 2 test texts count as errors" in output
    client = MlflowClient(tracking_uri)
    metrics = client.get_run(run_id).data.metrics
    assert metrics["test_unseen_label_texts"] == 2
    assert metrics["test_accuracy"] <= 0.5  # the two 'mixed' texts can never be right
    assert client.get_run(run_id).data.params["data.test_size"] == "2"  # in the Keras loss
    folder = Path(client.download_artifacts(run_id, "", str(workdir / "artifacts")))
    record = json.loads(next(folder.rglob("unseen_labels.json")).read_text())
    assert record == {"test": {"labels": {"mixed": 2}, "texts": "scored as errors"}}
    predictions = next(folder.rglob("test_predictions.csv")).read_text().splitlines()
    assert len(predictions) == 5 and predictions[3].startswith("a book,mixed,")


def test_validation_labels_training_lacks_are_left_out_with_a_warning(workdir):
    from seqapps.config import resolve
    from seqapps.exceptions import DataWarning
    from seqapps_sentiment.task import SentimentTask

    rows = [
        f"{w} film {i}\t{'pos' if w == 'great' else 'neg'}"
        for i in range(10)
        for w in ("great", "awful")
    ]
    # One 'odd' text: with this validation share its only example lands in validation.
    (workdir / "reviews.tsv").write_text("text\tlabel\n" + "\n".join([*rows, "hm\todd"]) + "\n")
    settings = {"data": "reviews.tsv"}
    values = {"validation_fraction": 0.6, "test_fraction": 0.2}
    task = SentimentTask()
    with pytest.warns(DataWarning, match="that text is left out of the validation split"):
        bundle = task.load_data(resolve(SentimentTask, settings, set_values=values))
    assert task.unseen_labels == {"validation": {"odd": 1}}
    assert bundle.sizes["validation"] == 12  # 6 of each class, the odd one gone
    assert bundle.spec.classes == ["neg", "pos"]
