"""`seqapps run ner` on the embedded sample: names never seen in training are found by a
bidirectional tagger with character features, and a left-to-right one falls clearly short."""

import warnings

import pytest
from mlflow import MlflowClient


def entity_f1(runner, cli, uri, arch):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # 6 epochs, not the default 10: measured 0.963 (bilstm) and 0.696 (lstm) entity F1.
        args = ["run", "ner", "--arch", arch, "--epochs", "6", "-q", "--tracking-uri", uri]
        result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    # The spans' integer start and end are outputs: MLflow's hint on integer inputs is noise.
    assert not [w for w in caught if "integer column" in str(w.message)]
    run_id = next(x.split()[1] for x in result.output.splitlines() if x.startswith("run "))
    run = MlflowClient(uri).get_run(run_id)
    assert run.data.tags["seqapps.headline_metric"] == "test_entity_f1"
    assert run.data.params["monitor"] == "val_entity_f1"
    assert run.data.params["version.seqapps-ner"] == "0.1.0"
    history = MlflowClient(uri).get_metric_history(run_id, "val_entity_f1")
    assert len(history) == run.data.metrics["epochs_trained"]  # computed after every epoch
    return run.data.metrics


@pytest.mark.slow
def test_bilstm_with_char_features_finds_unseen_names_and_lstm_falls_short(
    runner, seqapps_cli, tracking_uri
):
    bilstm = entity_f1(runner, seqapps_cli, tracking_uri, "bilstm")
    lstm = entity_f1(runner, seqapps_cli, tracking_uri, "lstm")
    assert bilstm["test_entity_f1"] >= 0.9, bilstm
    # A name that opens a sentence has its type only after it: left to right must guess.
    assert lstm["test_entity_f1"] <= bilstm["test_entity_f1"] - 0.15, (lstm, bilstm)
    compare = runner.invoke(seqapps_cli, ["compare", "ner", "--tracking-uri", tracking_uri])
    assert [line.split()[1] for line in compare.output.splitlines()[1:3]] == ["bilstm", "lstm"]
    assert compare.output.splitlines()[-1] == "ranked by test_entity_f1, higher is better"
