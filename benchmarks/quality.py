"""Quality on real corpora: seqapps at its defaults beside a plain Keras script of the same
family on the same data and split, and the published range.

    python benchmarks/quality.py pos    ../shared/data/ud-english-ewt   # about 10 minutes
    python benchmarks/quality.py speech ../shared/data/fsdd             # about 45 minutes
    python benchmarks/quality.py all    ../shared/data                  # both

Each seqapps command runs in a fresh process, exactly as docs/quality.md shows it; the plain
scripts live in benchmarks/plain_keras/. Nothing is asserted: the table is the result, and
docs/quality.md records it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent
#: Published figures to read ours against (what the literature reports, not measured here).
REFERENCES = {
    "pos": "93-95% UPOS for BiLSTM taggers without pretrained vectors on UD English "
    "(Plank et al. 2016, word+character bi-LSTM: about 95%)",
    "speech": "no published leave-one-speaker-out figure for these four speakers was found "
    "offline; random (speaker-dependent) splits are reported at 95-99%",
}


def seqapps() -> str:
    """The seqapps script beside this interpreter."""
    return str(Path(sys.executable).with_name("seqapps"))


def run(command: list[str], folder: Path) -> tuple[str, float]:
    """Run ``command`` in ``folder``; its output and wall time (fails loudly)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if done.returncode:
        raise click.ClickException(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout, time.perf_counter() - started


def last_json(output: str) -> dict:
    """The last JSON line a plain script printed."""
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def pos_commands(root: Path) -> list[str]:
    """`seqapps run pos` on UD English EWT with the defaults: train, dev, test files."""
    files = [root / f"en_ewt-ud-{split}.conllu" for split in ("train", "dev", "test")]
    command = ["run", "pos", "--data", str(files[0]), "--set", f"dev_file={files[1]}"]
    return [*command, "--set", f"test_file={files[2]}"]


def measure_pos(root: Path, folder: Path) -> list[tuple[str, str, float]]:
    """(setting, figure, seconds) rows for UD EWT."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    output, seconds = run([seqapps(), *pos_commands(root), "-q", "--tracking-uri", uri], folder)
    test = re.search(r"^test: (.*)$", output, re.M).group(1)
    files = [str(root / f"en_ewt-ud-{split}.conllu") for split in ("train", "dev", "test")]
    plain_output, plain_seconds = run(
        [sys.executable, str(HERE / "plain_keras" / "pos_bilstm.py"), *files], folder
    )
    plain = last_json(plain_output)
    plain_figure = (
        f"token accuracy {plain['token_accuracy']:.4f}, unknown words "
        f"{plain['unknown_accuracy']:.4f}"
    )
    return [
        ("seqapps run pos (defaults: bilstm, characters)", test, seconds),
        ("plain Keras BiLSTM (benchmarks/plain_keras/pos_bilstm.py)", plain_figure, plain_seconds),
    ]


def measure_speech(root: Path, folder: Path) -> list[tuple[str, str, float]]:
    """(setting, figure, seconds) rows for FSDD, each speaker held out in turn."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    command = [seqapps(), "run", "speech", "--data", str(root), "--set", "sample_rate=8000"]
    output, seconds = run([*command, "--folds", "4", "--tracking-uri", uri], folder)
    figure = re.search(r"^  test_accuracy (.*)$", output, re.M).group(1)
    plain_output, plain_seconds = run(
        [sys.executable, str(HERE / "plain_keras" / "speech_bilstm.py"), str(root)], folder
    )
    plain = last_json(plain_output)
    by_speaker = ", ".join(f"{k} {v:.3f}" for k, v in plain["accuracy_by_speaker"].items())
    return [
        ("seqapps run speech --folds 4 (defaults: bilstm)", f"accuracy {figure}", seconds),
        (
            "plain Keras BiLSTM (benchmarks/plain_keras/speech_bilstm.py)",
            f"accuracy {plain['mean_accuracy']:.4f} (by speaker: {by_speaker})",
            plain_seconds,
        ),
    ]


MEASURES = {"pos": (measure_pos, "ud-english-ewt"), "speech": (measure_speech, "fsdd")}


@click.command()
@click.argument("which", type=click.Choice([*MEASURES, "all"]))
@click.argument("data", type=click.Path(exists=True, file_okay=False, path_type=Path))
def main(which: str, data: Path) -> None:
    """Measure WHICH task (or all) on the corpus in DATA (with all: the folder holding
    ud-english-ewt/ and fsdd/)."""
    chosen = list(MEASURES) if which == "all" else [which]
    for name in chosen:
        measure, folder_name = MEASURES[name]
        root = data / folder_name if which == "all" else data
        with tempfile.TemporaryDirectory(prefix=f"seqapps-quality-{name}-") as scratch:
            rows = measure(root, Path(scratch))
        click.echo(f"\n{name} on {root}:")
        click.echo("| setting | test figure | wall |")
        click.echo("|---|---|---|")
        for setting, figure, seconds in rows:
            click.echo(f"| {setting} | {figure} | {seconds / 60:.1f} min |")
        click.echo(f"published: {REFERENCES[name]}")


if __name__ == "__main__":
    main()
