"""Where utterances come from: a Speech Commands folder, a CSV manifest, or the synthesizer.

Every file is checked in Python before TensorFlow sees it (16-bit PCM WAV at the expected
rate), so a bad file is named instead of failing deep inside tf.data.
"""

from __future__ import annotations

import csv
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqapps.api import DataError, DataWarning, split_groups
from seqapps_speech import synth

SPLITS = ("train", "validation", "test")
NOISE_FOLDER = "_background_noise_"


@dataclass(frozen=True)
class Utterance:
    """One recording: where its audio is (a path or WAV bytes), its label, its speaker."""

    name: str
    target: str
    speaker: str
    audio: Path | bytes


class BadWav(ValueError):
    """A file that is not usable 16-bit PCM WAV."""


def wav_info(path: Path) -> tuple[int, int, int]:
    """(sample rate, channels, frames) of a 16-bit PCM WAV file; BadWav saying why not."""
    try:
        with wave.open(str(path), "rb") as audio:
            width, rate = audio.getsampwidth(), audio.getframerate()
            channels, frames = audio.getnchannels(), audio.getnframes()
    except (wave.Error, EOFError) as error:
        raise BadWav(f"{path}: not a PCM WAV file ({error or 'truncated'})") from None
    except OSError as error:
        raise BadWav(f"{path}: cannot read ({error.strerror})") from None
    if width != 2:
        raise BadWav(f"{path}: {8 * width}-bit samples; expected 16-bit PCM")
    if frames == 0:
        raise BadWav(f"{path}: no audio")
    return rate, channels, frames


def read_wav(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 waveform of a WAV file (stereo mixed down); DataError if unusable."""
    try:
        rate, channels, _ = wav_info(path)
    except BadWav as error:
        raise DataError(str(error)) from None
    _check_rate(path, rate, sample_rate)
    with wave.open(str(path), "rb") as audio:
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), "<i2")
    return (pcm.reshape(-1, channels).mean(axis=1) / 32768.0).astype(np.float32)


def _check_rate(path: Path, rate: int, sample_rate: int) -> None:
    if rate != sample_rate:
        raise DataError(
            f"{path}: sampled at {rate} Hz, expected {sample_rate} Hz; resample the files "
            f"(e.g. sox in.wav -r {sample_rate} out.wav) or train at that rate with "
            f"--set sample_rate={rate}"
        )


def _usable(paths: list[Path], sample_rate: int) -> list[Path]:
    """The paths that are good WAV files at ``sample_rate``; bad ones skipped with a warning."""
    kept = []
    for path in paths:
        try:
            rate, _, _ = wav_info(path)
        except BadWav as error:
            warnings.warn(f"{error}; skipped", DataWarning, stacklevel=3)
            continue
        _check_rate(path, rate, sample_rate)
        kept.append(path)
    return kept


def speaker_of(file_name: str) -> str:
    """Speech Commands names files SPEAKER_nohash_N.wav; otherwise the part before "_"."""
    stem = Path(file_name).stem
    return stem.split("_nohash_")[0] if "_nohash_" in stem else stem.split("_")[0]


#: The dataset's own split lists, by the split they name.
LIST_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}


def _complete_listed(utterances, listed: dict[str, str], fractions: dict, root: Path):
    """Each clip's split from the lists; a split without a list takes whole speakers from
    those the lists never name, by a hash of their names (and says so)."""
    import hashlib

    assigned = {u.name: listed.get(u.name, "train") for u in utterances}
    # Lists are honoured as written; the speakers they name are not taken again.
    named = {u.speaker for u in utterances if assigned[u.name] != "train"}
    for split in [s for s in LIST_FILES if s not in listed.values()]:
        rest = sorted(
            {u.speaker for u in utterances if u.speaker not in named},
            key=lambda name: hashlib.sha1(name.encode("utf-8")).hexdigest(),
        )
        count = max(1, round(len(rest) * fractions[split]))
        if count >= len(rest):
            raise DataError(
                f"--data {root}: no {LIST_FILES[split]}, and too few speakers outside the "
                f"listed split(s) ({len(rest)}) to take {split} speakers from"
            )
        chosen = set(rest[:count])
        for u in utterances:
            if u.speaker in chosen:
                assigned[u.name] = split
        warnings.warn(
            f"--data {root}: no {LIST_FILES[split]}; {count} of the {len(rest)} other speakers "
            f"(a hash of their names, {fractions[split]:.0%}) make the {split} split",
            DataWarning,
            stacklevel=3,
        )
    return assigned


def speech_commands_folder(
    root: Path, sample_rate: int, validation_fraction: float, test_fraction: float
) -> tuple[dict[str, list[Utterance]], list[np.ndarray]]:
    """Utterances of ROOT/<label>/*.wav by split, and the background noise clips.

    validation_list.txt / testing_list.txt decide the split when present (the dataset's own
    split); otherwise speakers are split by a hash, so no speaker is in two splits.
    """
    labels = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_"))
    if not labels:
        raise DataError(
            f"--data {root}: no label folders; expected ROOT/<label>/*.wav (Speech Commands layout)"
        )
    utterances = []
    for folder in labels:
        files = sorted(folder.glob("*.wav"))
        if not files:
            raise DataError(f"--data {root}: label folder {folder.name}/ holds no .wav files")
        files = _usable(files, sample_rate)
        if len(files) < 2:
            raise DataError(
                f"--data {root}: label {folder.name!r} has {len(files)} usable file(s); "
                "at least 2 are needed (one to learn from, one to check)"
            )
        utterances += [
            Utterance(f"{folder.name}/{f.name}", folder.name, speaker_of(f.name), f) for f in files
        ]
    listed = {}
    for split, list_name in LIST_FILES.items():
        list_file = root / list_name
        if list_file.is_file():
            for line in list_file.read_text(encoding="utf-8").split():
                listed[line.strip()] = split
    if listed:
        fractions = {"validation": validation_fraction, "test": test_fraction}
        assigned = _complete_listed(utterances, listed, fractions, root)
    else:
        by_speaker = split_groups(
            [u.speaker for u in utterances], validation_fraction, test_fraction
        )
        assigned = {u.name: by_speaker[u.speaker] for u in utterances}
    splits = {s: [u for u in utterances if assigned[u.name] == s] for s in SPLITS}
    noise = []
    if (root / NOISE_FOLDER).is_dir():
        for path in _usable(sorted((root / NOISE_FOLDER).glob("*.wav")), sample_rate):
            noise.append(read_wav(path, sample_rate))
    return splits, noise


def manifest(
    path: Path, sample_rate: int, validation_fraction: float, test_fraction: float
) -> dict[str, list[Utterance]]:
    """Utterances of a CSV manifest with columns path,transcript (and optionally speaker).

    Relative paths are read from the manifest's folder; speakers are split by a hash.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"--data {path}: cannot read the manifest ({error})") from None
    if not rows or not {"path", "transcript"} <= set(rows[0]):
        raise DataError(f"--data {path}: expected a CSV header with columns path,transcript")
    utterances = []
    for number, row in enumerate(rows, 2):
        audio = Path(row["path"])
        audio = audio if audio.is_absolute() else path.parent / audio
        if not audio.is_file():
            raise DataError(f"--data {path} line {number}: no such file {row['path']!r}")
        transcript = " ".join((row["transcript"] or "").lower().split())
        if not transcript:
            raise DataError(f"--data {path} line {number}: empty transcript")
        speaker = (row.get("speaker") or "").strip() or speaker_of(audio.name)
        utterances.append(Utterance(row["path"], transcript, speaker, audio))
    kept = set(_usable([u.audio for u in utterances], sample_rate))
    utterances = [u for u in utterances if u.audio in kept]
    by_speaker = split_groups([u.speaker for u in utterances], validation_fraction, test_fraction)
    return {s: [u for u in utterances if by_speaker[u.speaker] == s] for s in SPLITS}


def synthesized(*settings) -> tuple[dict[str, list[Utterance]], list[np.ndarray]]:
    """The embedded sample (see ``_synthesize`` for the settings), synthesized once per
    machine: later runs read it back from the user's cache folder (13 s -> 0.1 s)."""
    path = _cache_path(settings)
    if path.is_file():
        try:
            return _read_cache(path)
        except (OSError, ValueError, KeyError):
            pass  # unreadable (a partial write elsewhere): synthesize again
    splits, noise = _synthesize(*settings)
    _write_cache(path, splits, noise)
    return splits, noise


def _cache_path(settings: tuple) -> Path:
    """Keyed by the settings and the synthesizer's own code, so a change to either misses."""
    import hashlib
    import inspect
    import os

    code = inspect.getsource(synth) + inspect.getsource(_synthesize)
    key = hashlib.sha256(repr((settings, code)).encode()).hexdigest()[:20]
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "seqapps" / "speech-sample" / f"{key}.npz"


def _write_cache(path: Path, splits: dict[str, list[Utterance]], noise: list[np.ndarray]):
    import os

    rows = [(split, u) for split in SPLITS for u in splits[split]]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(
            scratch,
            fields=np.array([[split, u.name, u.target, u.speaker] for split, u in rows]),
            lengths=np.array([len(u.audio) for _, u in rows]),
            audio=np.frombuffer(b"".join(u.audio for _, u in rows), np.uint8),
            **{f"noise{i}": n for i, n in enumerate(noise)},
        )
        scratch.replace(path)  # atomic: a reader sees all of it or none
    except OSError:
        pass  # a read-only home only costs the next run the synthesis


def _read_cache(path: Path) -> tuple[dict[str, list[Utterance]], list[np.ndarray]]:
    with np.load(path) as stored:
        audio = stored["audio"].tobytes()
        ends = np.cumsum(stored["lengths"])
        splits: dict[str, list[Utterance]] = {split: [] for split in SPLITS}
        for (split, name, target, speaker), end, length in zip(
            stored["fields"].tolist(), ends, stored["lengths"]
        ):
            splits[split].append(Utterance(name, target, speaker, audio[end - length : end]))
        noise = [stored[f"noise{i}"] for i in range(3)]
    return splits, noise


def _synthesize(
    mode: str,
    speaker_count: int,
    repeats: int,
    seconds: float,
    sample_rate: int,
    seed: int,
    validation_fraction: float,
    test_fraction: float,
) -> tuple[dict[str, list[Utterance]], list[np.ndarray]]:
    """The embedded sample: every speaker says every word ``repeats`` times (words), or
    ``repeats`` x 10 two-word phrases (ctc); plus three background noise clips."""
    rng = np.random.default_rng(seed)
    voices = synth.speakers(speaker_count, seed)
    utterances = []
    for voice in voices:
        for take in range(repeats * len(synth.WORDS)):
            if mode == "words":
                said = [synth.WORDS[take % len(synth.WORDS)]]
            else:
                said = list(rng.choice(synth.WORDS, size=2))
            waveform = synth.place(
                synth.say(said, voice, rng, sample_rate), seconds, rng, sample_rate
            )
            target = " ".join(said)
            name = f"{voice.name}_nohash_{take}"
            utterances.append(
                Utterance(name, target, voice.name, synth.wav_bytes(waveform, sample_rate))
            )
    by_speaker = split_groups([v.name for v in voices], validation_fraction, test_fraction)
    splits = {s: [u for u in utterances if by_speaker[u.speaker] == s] for s in SPLITS}
    noise = [synth.noise_clip(k, 3.0, rng, sample_rate) for k in ("white", "pink", "hum")]
    return splits, [n.astype(np.float32) for n in noise]
