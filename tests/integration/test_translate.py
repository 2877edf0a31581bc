"""`seqapps run translate` and `seqapps predict`, each in a fresh process as typed: decoding,
scores, the attention figure, the no-attention variant, and bad pair files."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

QUICK = ["--epochs", "1", "--batch-size", "32", "--set", "beam=3", "--set", "test_fraction=0.03"]


def seqapps(*args, cwd, check=True):
    command = [str(Path(sys.executable).with_name("seqapps")), *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def run_id_of(output: str) -> str:
    return re.search(r"^run ([0-9a-f]{32}) FINISHED", output, re.M).group(1)


@pytest.mark.slow
def test_numbers_translate_score_and_show_their_attention(tracking_uri, workdir):
    done = seqapps("run", "translate", *QUICK, "--tracking-uri", tracking_uri, cwd=workdir)
    run_id = run_id_of(done.stdout)
    client = MlflowClient(tracking_uri)
    run = client.get_run(run_id)
    metrics = run.data.metrics
    assert metrics["test_bleu"] > 50 > metrics["test_baseline_commonest_bleu"]
    assert metrics["test_exact_match"] > 0.2
    assert 0 <= metrics["test_greedy_exact_match"] <= 1
    assert "baselines (test BLEU): commonest translation" in done.stdout
    assert re.search(r"test \(beam 3\): BLEU \d+\.\d\d, chrF", done.stdout)
    logged = {a.path for a in client.list_artifacts(run_id, "figures")}
    assert "figures/attention.png" in logged
    client.download_artifacts(run_id, "translations.tsv", str(workdir))
    rows = (workdir / "translations.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "source\treference\ttranslation"
    assert len(rows) == 1 + int(run.data.params["data.test_size"])

    predicted = seqapps(
        "predict",
        run_id,
        "siebenundneunzig",
        "--set",
        "beam=3",
        "--json",
        "--tracking-uri",
        tracking_uri,
        cwd=workdir,
    )
    (row,) = [json.loads(line) for line in predicted.stdout.splitlines() if line.startswith("{")]
    assert row["input"] == "siebenundneunzig"
    assert row["beam"][0]["translation"] == row["translation"]
    scores = [b["log_probability"] for b in row["beam"]]
    assert len(scores) == 3 and all(s <= 0 for s in scores)


@pytest.mark.slow
def test_without_attention_there_is_no_attention_figure(tracking_uri, workdir):
    args = ["run", "translate", "--epochs", "1", "--max-samples", "100", "--units", "16"]
    done = seqapps(*args, "--set", "attention=none", "--tracking-uri", tracking_uri, cwd=workdir)
    run_id = run_id_of(done.stdout)
    client = MlflowClient(tracking_uri)
    assert client.get_run(run_id).data.params["option.attention"] == "none"
    assert "figures/attention.png" not in {a.path for a in client.list_artifacts(run_id, "figures")}


def test_a_pair_file_without_a_tab_is_one_line(tracking_uri, workdir):
    pairs = workdir / "pairs.tsv"
    pairs.write_text("Hallo\tHello\nDanke Thanks\n", encoding="utf-8")
    done = seqapps(
        "run",
        "translate",
        "--data",
        str(pairs),
        "--tracking-uri",
        tracking_uri,
        cwd=workdir,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"Error: --data {pairs}: line 2 is not 'source<TAB>target' ('Danke Thanks')"
    ]
