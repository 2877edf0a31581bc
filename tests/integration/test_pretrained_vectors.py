"""Pretrained word vectors: read from a file the test writes, they decide labels of words
that training never shows."""

import csv
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from mlflow import MlflowClient

SEQAPPS = str(Path(sys.executable).with_name("seqapps"))
#: Key words per label: most occur once or twice, and about 30% of them never in training.
KEYS = 100


def write_vectors(path: Path) -> None:
    """fastText .vec layout: "COUNT DIMENSIONS", then a word and its numbers per line.
    Positive words point one way on the first axis, negative ones the other."""
    rng = np.random.default_rng(0)
    lines = []
    for word, sign in [(f"good{i}", 1) for i in range(KEYS)] + [
        (f"bad{i}", -1) for i in range(KEYS)
    ]:
        lines.append([word, sign, *(0.1 * rng.normal(size=3))])
    for i in range(20):
        lines.append([f"word{i}", 0.0, *rng.normal(size=3)])
    text = "\n".join(" ".join(str(x) if isinstance(x, str) else f"{x:.4f}" for x in line)
                     for line in lines)  # fmt: skip
    path.write_text(f"{len(lines)} 4\n{text}\n", encoding="utf-8")


def write_reviews(path: Path) -> None:
    """Four neutral words and one key word, positive or negative."""
    rng = random.Random(3)
    rows = ["text,label"]
    for _ in range(300):
        label = rng.choice(["pos", "neg"])
        key = f"{'good' if label == 'pos' else 'bad'}{rng.randrange(KEYS)}"
        words = [f"word{rng.randrange(20)}" for _ in range(4)]
        words.insert(rng.randrange(5), key)
        rows.append(f"{' '.join(words)},{label}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_pretrained_vectors_cover_words_training_never_shows_and_decide_them(tmp_path):
    write_vectors(tmp_path / "tiny.vec")
    write_reviews(tmp_path / "reviews.csv")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [SEQAPPS, "run", "sentiment", "--data", "reviews.csv", "--arch", "gru"]
    command += ["--units", "16", "--epochs", "10", "--learning-rate", "0.01", "-q"]
    command += ["--set", "embeddings=tiny.vec", "--tracking-uri", uri]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    run_id = next(x.split()[1] for x in done.stdout.splitlines() if x.startswith("run "))
    client = MlflowClient(uri)
    params = client.get_run(run_id).data.params
    # Every training word has a vector, and the file's other words join the vocabulary,
    # so every test token is known.
    assert params["data.vectors_coverage"] == "1.0"
    assert int(params["data.vectors_added_words"]) > 0
    assert params["data.vectors_dimensions"] == "4"  # the file's size, not embedding_dim
    assert params["data.test_token_coverage"] == "1.0"

    # The test texts whose key word occurs in no other text: training never showed it.
    with open(client.download_artifacts(run_id, "test_predictions.csv", str(tmp_path))) as f:
        tested = list(csv.DictReader(f))
    with open(tmp_path / "reviews.csv") as f:
        everything = [row["text"] for row in csv.DictReader(f)]
    seen = Counter(word for text in everything for word in set(text.split()))
    fresh = [row for row in tested if any(seen[w] == 1 for w in row["text"].split() if
                                          not w.startswith("word"))]  # fmt: skip
    assert len(fresh) >= 5, len(fresh)
    # Learned from scratch, those would be guesses; the frozen vectors decide them.
    right = sum(row["true"] == row["predicted"] for row in fresh)
    assert right / len(fresh) >= 0.9, (right, len(fresh))


def test_a_bad_vectors_file_is_one_line_naming_it(tmp_path):
    write_reviews(tmp_path / "reviews.csv")
    (tmp_path / "broken.vec").write_text("alpha 0.1 0.2\nbeta 0.3\n", encoding="utf-8")
    done = subprocess.run(
        [SEQAPPS, "run", "sentiment", "--data", "reviews.csv", "--set", "embeddings=broken.vec",
         "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: --set embeddings=broken.vec: line 2 has 1 numbers, the first vector 2"
    )
    assert not MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_runs(["0"])
