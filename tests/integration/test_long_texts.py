"""Long texts: the cut is reported and logged, and chunks read a text whole, also when served."""

import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from seqapps.cli import cli
from seqapps.exceptions import DataWarning

SEQAPPS = str(Path(sys.executable).with_name("seqapps"))
FILLER = [
    "the",
    "a",
    "film",
    "story",
    "scene",
    "actor",
    "plot",
    "movie",
    "music",
    "light",
    "camera",
    "time",
    "people",
    "world",
    "day",
]


def long_text(rng, label: str) -> str:
    """60-120 neutral words, then the one word that decides the label near the end."""
    words = [rng.choice(FILLER) for _ in range(rng.randint(60, 120))]
    key = rng.choice(["great", "superb", "loved"] if label == "pos" else ["awful", "dull", "hated"])
    words.insert(len(words) - rng.randint(1, 5), key)
    return " ".join(words)


def write_reviews(path: Path, count: int) -> None:
    rng = random.Random(0)
    rows = ["text,label"]
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        rows.append(f"{long_text(rng, label)},{label}")
    path.write_text("\n".join(rows) + "\n")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    command = [SEQAPPS, *args, "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600)


def test_a_cut_is_reported_and_chunks_read_long_texts_whole(tmp_path):
    write_reviews(tmp_path / "long.csv", 300)
    quick = ["--arch", "gru", "--units", "16", "--seed", "1", "-q"]

    # The first 20 tokens miss the word that decides: the run says how much it cut (in this
    # process: the fresh-process runs are below).
    args = ["run", "sentiment", "--data", str(tmp_path / "long.csv"), *quick, "--epochs", "1"]
    args += ["--set", "sequence_length=20", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"]
    with pytest.warns(DataWarning) as caught:
        head = CliRunner().invoke(cli, args)
    assert head.exit_code == 0, head.output
    (warning,) = [str(w.message) for w in caught if "were cut" in str(w.message)]
    assert warning.startswith(
        f"--data {tmp_path / 'long.csv'}: texts longer than 20 tokens were cut (head): 240 in "
        "training ("
    )
    assert "and 60 in validation/test; try --set truncate=head+tail" in warning
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = next(x.split()[1] for x in head.output.splitlines() if x.startswith("run "))
    params = client.get_run(run_id).data.params
    assert params["data.train_truncated_texts"] == "240"
    assert 0.7 < float(params["data.train_truncated_token_share"]) < 0.9

    # Chunks of 20 up to the longest training text: nothing is cut, and the key is found.
    chunks = run(tmp_path, "run", "sentiment", "--data", "long.csv", *quick, "--epochs", "8",
                 "--learning-rate", "0.01", "--set", "truncate=chunks",
                 "--set", "chunk_length=20")  # fmt: skip
    assert chunks.returncode == 0, chunks.stderr
    assert "were cut" not in chunks.stderr
    run_id = next(x.split()[1] for x in chunks.stdout.splitlines() if x.startswith("run "))
    assert client.get_run(run_id).data.metrics["test_accuracy"] >= 0.85, chunks.stdout

    # The logged model reads a long text the same way in a fresh process.
    rng = random.Random(7)
    texts = [long_text(rng, "pos"), long_text(rng, "neg")]
    served = run(tmp_path, "predict", run_id, *texts)
    assert served.returncode == 0, served.stderr
    assert [line.split("\t")[0] for line in served.stdout.splitlines()] == ["pos", "neg"]
