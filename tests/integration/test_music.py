"""`seqapps run music` on the bundled chorales and on MIDI folders written here; generation."""

import math

import mido
import numpy as np
import pytest
from mlflow import MlflowClient

from seqapps.exceptions import DataWarning
from seqapps_music import encoding
from seqapps_music.midi import read_midi, write_midi
from seqapps_music.notes import Note

# Two-bar figures in C major that the tunes are built from (pitch, steps).
MOTIFS = [
    [(60, 4), (64, 4), (67, 4), (72, 4)],
    [(72, 2), (71, 2), (69, 4), (67, 8)],
    [(65, 4), (64, 4), (62, 4), (60, 4)],
    [(67, 4), (None, 4), (67, 2), (69, 2), (71, 4)],
]


def tune(seed: int, bars: int = 6) -> tuple[list[Note], list[Note], int]:
    """A melody of motifs and a held bass a sixth below, and the length in steps."""
    rng = np.random.default_rng(seed)
    melody, bass, now = [], [], 0
    for _ in range(bars):
        start = now
        for pitch, steps in MOTIFS[rng.integers(len(MOTIFS))]:
            if pitch is not None:
                melody.append(Note(now, steps, pitch))
            now += steps
        bass.append(Note(start, now - start, 48 + int(rng.integers(0, 8))))
    return melody, bass, now


@pytest.fixture
def midi_folder(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(10):
        melody, bass, length = tune(i)
        (folder / f"tune{i:02d}.mid").write_bytes(write_midi([melody, bass], length, 4))
    return folder


def run_id_of(output: str) -> str:
    return next(x.split()[1] for x in output.splitlines() if x.startswith("run "))


@pytest.mark.slow
def test_bundled_chorales_train_split_by_piece_and_log_a_playable_sample(
    runner, seqapps_cli, tracking_uri, workdir
):
    args = ["run", "music", "--arch", "lstm", "--max-samples", "14", "--epochs", "2"]
    args += ["--set", "sample_length=24", "--tracking-uri", tracking_uri]
    result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 0, result.output
    run_id = run_id_of(result.output)
    client = MlflowClient(tracking_uri)
    run = client.get_run(run_id)
    metrics = run.data.metrics
    assert math.isfinite(metrics["test_nll_per_step"]) and metrics["test_nll_per_step"] > 0
    assert metrics["test_perplexity"] == pytest.approx(math.exp(metrics["test_nll_per_step"]))
    assert 0 <= metrics["test_accuracy"] <= 1
    assert metrics["test_baseline_nll_per_step"] > 0
    beats = metrics["test_nll_per_step"] < metrics["test_baseline_nll_per_step"]
    said = "beats it" if beats else "does NOT beat frequencies without memory"
    assert "baselines (test nats per step): frequencies without memory" in result.output
    assert said in result.output
    assert run.data.params["data"] == "music21:bach"

    # The sample: MIDI that reads back as exactly the logged events.
    client.download_artifacts(run_id, "samples", str(workdir / "artifacts"))
    events = (workdir / "artifacts" / "samples" / "generated.txt").read_text().split()
    assert len(events) == 24
    sample = workdir / "artifacts" / "samples" / "generated.mid"
    midi = mido.MidiFile(sample)
    sounding = [m for m in midi.tracks[1] if m.type == "note_on" and m.velocity > 0]
    assert len(sounding) == sum(not e.startswith("rest") for e in events)
    steps = sum(int(e.split(":")[1]) for e in events)
    assert sum(m.time for m in midi.tracks[1]) == steps * 480 // 4
    assert timeline(encoding.melody_tokens(read_midi(sample, 4))) == timeline(events)
    figures = [a.path for a in client.list_artifacts(run_id, "figures")]
    assert "figures/generated_piano_roll.png" in figures

    # Continue a prime with the logged model: prime + exactly --length events.
    prime = " ".join(events[:3])
    out = workdir / "song.mid"
    args = ["predict", run_id, "--prime", prime, "--length", "8", "--temperature", "0.9"]
    args += ["--out", str(out), "--tracking-uri", tracking_uri]
    result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 0, result.output
    written = encoding.melody_tokens(read_midi(out, 4))
    row = result.stdout.splitlines()[0].split("\t")
    assert row[1] == prime and len(row[3].split()) == 8
    assert timeline(written) == timeline(events[:3] + row[3].split())

    # Temperature 0 is deterministic whatever the seed.
    greedy = [
        runner.invoke(
            seqapps_cli,
            [
                "predict",
                run_id,
                "--temperature",
                "0",
                "--length",
                "6",
                "--seed",
                str(seed),
                "--tracking-uri",
                tracking_uri,
            ],
        ).stdout
        for seed in (1, 2)
    ]
    assert greedy[0] == greedy[1] and greedy[0].strip()

    # A prime that cannot be read, or that the model never saw: one line, exit 2.
    for bad, expected in (("C4 H9", "'H9' is not a pitch name"), ("C4:7 D4:13", "never occurred")):
        result = runner.invoke(
            seqapps_cli, ["predict", run_id, "--prime", bad, "--tracking-uri", tracking_uri]
        )
        assert result.exit_code == 2, result.output
        assert expected in result.stderr and "Traceback" not in result.output


def timeline(tokens):
    """Notes and length: two rests in a row read back from MIDI as one longer rest."""
    return encoding.tokens_to_notes(tokens)


def test_pieces_never_straddle_splits(midi_folder, tmp_path):
    from seqapps import registry
    from seqapps.config import resolve
    from seqapps_music.task import MusicTask

    config = resolve(
        MusicTask,
        {"data": str(midi_folder)},
        set_values={"transpose": "2"},
        load_arch=registry.load_arch,
    )
    task = MusicTask()
    data = task.load_data(config)
    assert data.sizes["train_pieces"] == 8 * 5  # each training tune and 4 transpositions
    assert data.sizes["validation_pieces"] == data.sizes["test_pieces"] == 1
    names = {split: [p.name for p in task.pieces[split]] for split in task.pieces}
    held_out = names["validation"] + names["test"]
    assert not any(name.startswith(tuple(held_out)) for name in names["train"])
    assert len({name[:6] for name in names["train"]}) == 8  # 8 tunes, each transposed too


@pytest.mark.slow
def test_a_midi_folder_trains_the_piano_roll(runner, seqapps_cli, tracking_uri, midi_folder):
    args = ["run", "music", "--arch", "gru", "--data", str(midi_folder), "--epochs", "3"]
    args += ["--set", "representation=roll", "--set", "sample_length=16"]
    args += ["--tracking-uri", tracking_uri]
    result = runner.invoke(seqapps_cli, args)
    assert result.exit_code == 0, result.output
    metrics = MlflowClient(tracking_uri).get_run(run_id_of(result.output)).data.metrics
    assert 0 <= metrics["test_frame_accuracy"] <= 1
    # Summed over 88 keys, the NLL per step of a barely trained model is far above 1 nat
    # but below 88 * log(2) (a coin per key).
    assert 1 < metrics["test_nll_per_step"] < 88 * math.log(2)
    assert metrics["test_baseline_nll_per_step"] > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "layers"), [("rnn", 1), ("esn", 1), ("transformer", 1), ("lstm", 2)]
)
def test_generation_archs(tracking_uri, midi_folder, arch, layers):
    from seqapps import registry, training
    from seqapps.config import resolve
    from seqapps_music.task import MusicTask

    config = resolve(
        MusicTask,
        {
            "arch": arch,
            "layers": layers,
            "data": str(midi_folder),
            "epochs": 1,
            "tracking_uri": tracking_uri,
            "verbose": 0,
        },
        set_values={"sample_length": "12"},
        load_arch=registry.load_arch,
    )
    result = training.run(MusicTask, config, echo=lambda line: None)
    assert math.isfinite(result.metrics["test_nll_per_step"])
    assert any("sample: 12 events" in line for line in result.summary)


def test_bad_music_folders(runner, seqapps_cli, tracking_uri, tmp_path, midi_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        seqapps_cli, ["run", "music", "--data", str(empty), "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2
    assert "holds no MIDI" in result.stderr and str(empty) in result.stderr

    few = tmp_path / "few"
    few.mkdir()
    for name in ("tune00.mid", "tune01.mid"):
        (few / name).write_bytes((midi_folder / name).read_bytes())
    (few / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06 garbage")
    with pytest.warns(DataWarning, match=r"broken\.mid"):
        result = runner.invoke(
            seqapps_cli, ["run", "music", "--data", str(few), "--tracking-uri", tracking_uri]
        )
    assert result.exit_code == 2
    assert "2 usable piece(s); at least 3 are needed" in result.stderr
    assert "Traceback" not in result.output

    a_file = midi_folder / "tune00.mid"
    result = runner.invoke(
        seqapps_cli, ["run", "music", "--data", str(a_file), "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 2 and "expected a folder" in result.stderr


def test_a_broken_file_is_skipped_and_the_run_goes_on(midi_folder):
    from seqapps import registry
    from seqapps.config import resolve
    from seqapps_music.task import MusicTask

    (midi_folder / "zz-broken.mid").write_bytes(b"not midi at all")
    config = resolve(MusicTask, {"data": str(midi_folder)}, load_arch=registry.load_arch)
    with pytest.warns(DataWarning, match=r"zz-broken.mid: not a readable MIDI file.*skipped"):
        data = MusicTask().load_data(config)
    assert sum(data.sizes[f"{s}_pieces"] for s in ("train", "validation", "test")) == 10
