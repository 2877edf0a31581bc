"""On the embedded sample: BiLSTM beats LSTM, and character features help unknown words."""

import pytest
from mlflow import MlflowClient

SMALL = ["--set", "sample_sentences=500", "--epochs", "8", "-q"]  # measured: +0.08, +0.125


def test_metrics(runner, cli, uri, *args):
    result = runner.invoke(cli, ["run", "pos", *args, *SMALL, "--tracking-uri", uri])
    assert result.exit_code == 0, result.output
    run_id = next(x.split()[1] for x in result.output.splitlines() if x.startswith("run "))
    return MlflowClient(uri).get_run(run_id).data.metrics


test_metrics.__test__ = False  # a helper, not a test


@pytest.mark.slow
def test_bilstm_beats_lstm_and_char_features_help_unknown_words(runner, seqapps_cli, tracking_uri):
    words_only = ["--set", "char_features=false"]
    lstm = test_metrics(runner, seqapps_cli, tracking_uri, "--arch", "lstm", *words_only)
    bilstm = test_metrics(runner, seqapps_cli, tracking_uri, "--arch", "bilstm", *words_only)
    chars = test_metrics(runner, seqapps_cli, tracking_uri, "--arch", "bilstm")  # the default
    # Sentence-initial ambiguous words can only be tagged by looking ahead.
    assert bilstm["test_token_accuracy"] > lstm["test_token_accuracy"] + 0.015, (lstm, bilstm)
    # Made-up test words are unknown: their spelling is what characters add.
    assert chars["test_unknown_accuracy"] > bilstm["test_unknown_accuracy"] + 0.04, (bilstm, chars)
    assert bilstm["test_unknown_tokens"] == chars["test_unknown_tokens"] > 50
