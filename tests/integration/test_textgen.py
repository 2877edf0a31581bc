"""`seqapps run textgen` and `seqapps predict --prime`, each in a fresh process as typed:
stateful (truncated BPTT) and stateless training, the n-gram baselines, sampling, resume."""

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from seqapps_textgen import corpus

#: Quick settings on the embedded Tiny Shakespeare: enough training that samples at a low
#: temperature are mostly words (about a minute on one core).
QUICK = ["--units", "128", "--batch-size", "16", "--epochs", "3", "--max-samples", "2500"]
QUICK += ["--learning-rate", "0.005", "--set", "bptt=50", "--set", "ngram_orders=1-4"]
QUICK += ["--layers", "1", "--dropout", "0.1"]
#: Tiny settings for the mechanics (seconds).
TINY = ["--units", "16", "--layers", "1", "--batch-size", "8", "--max-samples", "100"]
TINY += ["--set", "bptt=20"]
TINY += ["--set", "ngram_orders=1-2", "--set", "sample_length=20"]


def seqapps(python_exe, *args, cwd, env=None, check=True):
    command = [str(Path(python_exe).with_name("seqapps")), *args]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def run_id_of(output: str) -> str:
    return re.search(r"^run ([0-9a-f]{32}) FINISHED", output, re.M).group(1)


def training_words() -> set[str]:
    text, _ = corpus.read_source("sample", None)
    train = corpus.split_by_position(text, 0.05, 0.05)["train"]
    return {word.lower() for word in re.findall(r"[A-Za-z']+", train)}


def share_of_real_words(text: str, known: set[str]) -> float:
    words = [word.lower() for word in re.findall(r"[A-Za-z']+", text)]
    return sum(word in known for word in words) / len(words)


@pytest.fixture(scope="module")
def stateful_run(tmp_path_factory, python_exe_module):
    """One quick stateful run on the embedded text, as a user types it."""
    folder = tmp_path_factory.mktemp("textgen")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    done = seqapps(python_exe_module, "run", "textgen", *QUICK, "--tracking-uri", uri, cwd=folder)
    return folder, uri, run_id_of(done.stdout), done.stdout


@pytest.fixture(scope="module")
def python_exe_module():
    import sys

    return sys.executable


@pytest.mark.slow
def test_stateful_run_beats_unigrams_and_logs_samples_of_real_words(stateful_run):
    folder, uri, run_id, output = stateful_run
    client = MlflowClient(uri)
    run = client.get_run(run_id)
    metrics, params = run.data.metrics, run.data.params
    assert params["tbptt_chunk"] == "50"
    assert metrics["test_bits_per_char"] == metrics["test_bits_per_token"]
    assert metrics["test_perplexity"] == pytest.approx(2 ** metrics["test_bits_per_char"])
    assert metrics["test_bits_per_char"] < metrics["test_baseline_kn1_bits_per_char"] - 1.0
    best = int(metrics["test_baseline_ngram_order"])
    assert (
        metrics["test_baseline_ngram_bits_per_char"]
        == (metrics[f"test_baseline_kn{best}_bits_per_char"])
    )
    assert "baselines (test bits per character): Kneser-Ney" in output
    low, high = metrics["test_bits_per_char_ci_low"], metrics["test_bits_per_char_ci_high"]
    assert low < metrics["test_bits_per_char"] < high < low + 0.5
    gain = metrics["test_baseline_ngram_bits_per_char"] - metrics["test_bits_per_char"]
    assert metrics["test_gain_over_ngram_bits_per_char"] == pytest.approx(gain, abs=1e-6)
    assert "95% intervals (bootstrap over 56 blocks of 1,000 test characters)" in output
    assert re.search(r"test text: \d\.\d{4} bits per character", output)
    client.download_artifacts(run_id, "samples", str(folder))
    samples = {t: (folder / "samples" / f"temperature_{t}.txt").read_text() for t in (0.5, 1.0)}
    assert len(samples[0.5]) >= 400
    known = training_words()
    assert share_of_real_words(samples[0.5], known) >= 0.7, samples[0.5]
    assert share_of_real_words(samples[0.5], known) > share_of_real_words(samples[1.0], known)


@pytest.mark.slow
def test_predict_continues_a_prime_reproducibly_in_a_fresh_process(stateful_run, python_exe):
    folder, uri, run_id, _ = stateful_run

    def sample(seed):
        args = ["predict", run_id, "--prime", "ROMEO:", "--length", "120"]
        args += ["--temperature", "0.8", "--top-k", "20", "--seed", str(seed)]
        done = seqapps(python_exe, *args, "--json", "--tracking-uri", uri, cwd=folder)
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = sample(1)
    assert first == sample(1)  # the same seed samples the same text
    assert first["prime"] == "ROMEO:" and first["text"].startswith("ROMEO:")
    assert len(first["text"]) == len("ROMEO:") + 120

    bad = seqapps(
        python_exe,
        "predict",
        run_id,
        "--prime",
        "ROMEO€",
        "--tracking-uri",
        uri,
        cwd=folder,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: --prime 'ROMEO€': '€' never occurred in the training text"
    ]


def saved_epoch(state_root: Path) -> int:
    for state in state_root.glob("*/state.json"):
        try:
            return json.loads(state.read_text())["epoch"]
        except (ValueError, KeyError):
            return 0
    return 0


@pytest.mark.slow
def test_a_resumed_stateful_run_continues_the_streams_to_the_same_result(
    tracking_uri, workdir, python_exe
):
    """SIGKILL after epoch 2, --resume: every epoch's losses and the test bits equal an
    uninterrupted run's, so the resumed epochs read the same streams in the same order (and
    the cosine learning rate continues from the step it had reached)."""
    args = ["run", "textgen", *TINY, "--epochs", "4", "--patience", "0", "--lr-schedule", "cosine"]
    args += ["--checkpoint-interval", "0", "-q", "--tracking-uri", tracking_uri]
    reference = seqapps(python_exe, *args, "--experiment", "reference", cwd=workdir)
    state_root = workdir / "state"
    env = {**os.environ, "SEQAPPS_STATE_DIR": str(state_root)}
    command = [str(Path(python_exe).with_name("seqapps")), *args, "--experiment", "victim"]
    victim = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import time

    deadline = time.monotonic() + 300
    while saved_epoch(state_root) < 2 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    client = MlflowClient(tracking_uri)
    (killed,) = client.search_runs([client.get_experiment_by_name("victim").experiment_id])
    assert killed.info.status == "RUNNING"
    resumed = seqapps(
        python_exe,
        "run",
        "textgen",
        "--resume",
        killed.info.run_id,
        "-q",
        "--tracking-uri",
        tracking_uri,
        cwd=workdir,
        env=env,
    )
    assert re.search(r"resuming at epoch [34] of 4", resumed.stdout)
    after = client.get_run(killed.info.run_id)
    expected = client.get_run(run_id_of(reference.stdout))
    for key in ("train_loss", "val_loss"):
        ours = sorted(client.get_metric_history(after.info.run_id, key), key=lambda m: m.step)
        theirs = sorted(client.get_metric_history(expected.info.run_id, key), key=lambda m: m.step)
        assert [m.step for m in ours] == [1, 2, 3, 4]
        assert [m.value for m in ours] == pytest.approx([m.value for m in theirs], abs=1e-6)
    for key in ("test_bits_per_char", "test_baseline_kn2_bits_per_char"):
        assert after.data.metrics[key] == pytest.approx(expected.data.metrics[key], abs=1e-6)


def test_settings_that_cannot_work_are_one_line_each(tracking_uri, workdir, python_exe):
    short = workdir / "short.txt"
    short.write_text("To be, or not to be.\n" * 20, encoding="utf-8")
    cases = [
        (["--set", "bptt=0"], "--set bptt=0: expected 1 or more steps"),
        (
            ["--data", str(short)],
            "the validation split has 21 tokens, fewer than the 101 that 1 stream of",
        ),
        (["--set", "ngram_orders=0-3"], "--set ngram_orders=0-3: expected orders 1..10"),
    ]
    for extra, message in cases:
        done = seqapps(
            python_exe,
            "run",
            "textgen",
            "--batch-size",
            "1",
            *extra,
            "--tracking-uri",
            tracking_uri,
            cwd=workdir,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], done.stderr
