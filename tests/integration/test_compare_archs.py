"""Every many-to-one arch runs `seqapps run sentiment`; the comparison script tabulates them."""

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
def test_every_many_to_one_arch_runs_sentiment_and_is_tabulated(tracking_uri):
    script = load_script()
    rows = script.compare(
        "sentiment",
        epochs=1,
        max_samples=100,
        units=8,
        verbose=0,
        tracking_uri=tracking_uri,
        echo=lambda _line: None,
    )
    expected = registry.archs_for_kind("many-to-one")
    assert {"bilstm", "esn", "attention", "rbf", "conv1d", "transformer", "bow"} <= set(expected)
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
