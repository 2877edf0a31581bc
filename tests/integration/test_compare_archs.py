"""The comparison script runs `seqapps run sentiment` per arch and tabulates the runs.

Three contrasting archs run here (no recurrence, recurrent, attention); that every
many-to-one arch builds and trains on sentiment is the conformance kit's check
(plugins/sentiment/tests), and each custom layer's round trip is test_models_outside_training's.
"""

import importlib.util
from pathlib import Path

import pytest
from mlflow import MlflowClient

from seqapps import registry

SCRIPT = Path(__file__).resolve().parents[2] / "pipelines" / "compare_archs.py"


def load_script():
    spec = importlib.util.spec_from_file_location("compare_archs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_archs_run_sentiment_and_are_tabulated_best_first(tracking_uri):
    script = load_script()
    expected = ["bow", "gru", "transformer"]
    rows = script.compare(
        "sentiment",
        archs=expected,
        epochs=1,
        max_samples=100,
        units=8,
        verbose=0,
        tracking_uri=tracking_uri,
        echo=lambda _line: None,
    )
    assert [row["arch"] for row in rows] == expected
    client = MlflowClient(tracking_uri)
    for row in rows:
        assert client.get_run(row["run_id"]).info.status == "FINISHED", row["arch"]
        assert 0.0 <= row["test_accuracy"] <= 1.0
    text = script.table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["arch", "test_accuracy", "test_macro_f1", "params"]
    assert {line.split()[0] for line in lines[1:]} == set(expected)
    accuracies = [float(line.split()[1]) for line in lines[1:]]
    assert accuracies == sorted(accuracies, reverse=True)


def test_without_archs_every_arch_of_the_tasks_kind_is_compared(monkeypatch):
    from seqapps.exceptions import TrainingError

    everything = registry.archs_for_kind("many-to-one")
    assert {"bilstm", "esn", "attention", "rbf", "conv1d", "transformer", "bow"} <= set(everything)
    script = load_script()
    seen = []

    def no_training(task_cls, config, echo):  # the arch list is what is checked here
        seen.append(config.arch)
        raise TrainingError("not trained in this test")

    monkeypatch.setattr(script.training, "run", no_training)
    rows = script.compare("sentiment", echo=lambda _line: None, epochs=1, verbose=0)
    assert seen == everything
    assert [row["arch"] for row in rows] == everything and all("failed" in row for row in rows)
