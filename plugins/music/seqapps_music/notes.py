"""Notes on a quantized time grid: pitch names, pieces, melody extraction, key and transposition.

Time is counted in grid steps (``steps_per_quarter`` of them per quarter note); pitches are
MIDI numbers, named in scientific pitch notation (C4 = 60, A4 = 69).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Accidentals are matched lazily so that "C-1" is C in octave -1 (music21 writes flats as
# "-", so "E-5" is E flat 5 and C flat in octave 1 must be written "Cb1").
_PITCH = re.compile(r"^([A-Ga-g])([#b\-]*?)(-1|\d)$")
#: The 88 keys of a piano: the pitch range of the piano roll.
LOWEST, HIGHEST = 21, 108


@dataclass(frozen=True)
class Note:
    """One note: onset and duration in grid steps, MIDI pitch."""

    start: int
    duration: int
    pitch: int


@dataclass
class Piece:
    """A piece: its name, its parts (voices) of notes, and its length in steps."""

    name: str
    parts: list[list[Note]]
    length: int = 0
    meta: dict = field(default_factory=dict)

    def notes(self) -> list[Note]:
        """Every note of every part, by onset then pitch."""
        return sorted((n for part in self.parts for n in part), key=lambda n: (n.start, n.pitch))


def pitch_name(pitch: int) -> str:
    """Scientific pitch name with sharps: 60 -> C4, 61 -> C#4."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch(text: str) -> int:
    """MIDI number of a name like C4, F#3, Bb2 or E-5 (music21's flat); ValueError if not one."""
    match = _PITCH.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a pitch name like C4, F#3 or Bb2")
    letter, accidentals, octave = match.groups()
    shift = accidentals.count("#") - accidentals.count("b") - accidentals.count("-")
    pitch = _LETTERS[letter.upper()] + shift + 12 * (int(octave) + 1)
    if not 0 <= pitch <= 127:
        raise ValueError(f"{text!r} is outside the MIDI range C-1..G9")
    return pitch


def skyline(notes: list[Note]) -> list[Note]:
    """The top voice of ``notes``: at each onset the highest note, cut where the next starts.

    A monophonic line comes back unchanged.
    """
    by_onset: dict[int, Note] = {}
    for note in notes:
        kept = by_onset.get(note.start)
        if kept is None or note.pitch > kept.pitch:
            by_onset[note.start] = note
    onsets = sorted(by_onset)
    melody = []
    for i, onset in enumerate(onsets):
        note = by_onset[onset]
        end = onset + note.duration
        if i + 1 < len(onsets):
            end = min(end, onsets[i + 1])
        melody.append(Note(onset, end - onset, note.pitch))
    return melody


# Krumhansl-Kessler key profiles (probe-tone ratings), C major and C minor.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(notes: list[Note]) -> tuple[int, str]:
    """(tonic pitch class, "major" or "minor") best correlated with the duration-weighted
    pitch-class histogram (Krumhansl-Schmuckler)."""
    histogram = np.zeros(12)
    for note in notes:
        histogram[note.pitch % 12] += note.duration
    if not histogram.any():
        return 0, "major"
    best = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, profile in (("major", _MAJOR), ("minor", _MINOR)):
            score = float(np.corrcoef(histogram, np.roll(profile, tonic))[0, 1])
            if score > best[0]:
                best = (score, tonic, mode)
    return best[1], best[2]


def shift_to_c(notes: list[Note]) -> int:
    """Semitones that move the piece's key to C major or A minor, in -6..5 (smallest move)."""
    tonic, mode = estimate_key(notes)
    target = 0 if mode == "major" else 9
    return (target - tonic + 6) % 12 - 6


def transpose(piece: Piece, semitones: int) -> Piece | None:
    """The piece moved by ``semitones``, or None if a note would leave the piano's 88 keys."""
    if semitones == 0:
        return piece
    notes = piece.notes()
    if notes and not (
        min(n.pitch for n in notes) + semitones >= LOWEST
        and max(n.pitch for n in notes) + semitones <= HIGHEST
    ):
        return None
    parts = [[Note(n.start, n.duration, n.pitch + semitones) for n in part] for part in piece.parts]
    return Piece(f"{piece.name}{semitones:+d}", parts, piece.length, dict(piece.meta))
