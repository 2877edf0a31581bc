"""The two representations the model learns: melody event tokens and the piano roll.

Melody: the top line of the first part as events "PITCH:STEPS" (a note) and "rest:STEPS",
e.g. "E4:4 G4:2 rest:2". Piano roll: one multi-hot row of the 88 piano keys per grid step,
all parts together (the form of the classic chorale benchmarks). Both convert back to notes
exactly for quantized input.
"""

from __future__ import annotations

import numpy as np

from seqapps_music.notes import HIGHEST, LOWEST, Note, Piece, parse_pitch, pitch_name, skyline

REST = "rest"
KEYS = HIGHEST - LOWEST + 1


def melody_tokens(piece: Piece) -> list[str]:
    """Events of the top line of the piece's first part, rests filling the gaps."""
    line = skyline(piece.parts[0]) if piece.parts else []
    tokens, now = [], 0
    for note in line:
        if note.start > now:
            tokens.append(f"{REST}:{note.start - now}")
        tokens.append(f"{pitch_name(note.pitch)}:{note.duration}")
        now = note.start + note.duration
    if piece.length > now:
        tokens.append(f"{REST}:{piece.length - now}")
    return tokens


def parse_event(text: str, default_steps: int) -> tuple[int | None, int]:
    """(pitch or None for a rest, steps) of "C4", "C4:2", "rest" or "rest:4"; ValueError if not."""
    name, sep, steps = text.strip().partition(":")
    if sep:
        if not steps.isdigit() or int(steps) < 1:
            raise ValueError(f"{text!r}: the length after ':' must be a whole number of steps >= 1")
        count = int(steps)
    else:
        count = default_steps
    if name.lower() == REST:
        return None, count
    return parse_pitch(name), count


def token_of(pitch: int | None, steps: int) -> str:
    """The event token of a note (or rest when ``pitch`` is None) lasting ``steps``."""
    return f"{REST if pitch is None else pitch_name(pitch)}:{steps}"


def tokens_to_notes(tokens: list[str]) -> tuple[list[Note], int]:
    """Notes of an event sequence and its length in steps (a closing rest counts)."""
    notes, now = [], 0
    for token in tokens:
        pitch, steps = parse_event(token, 1)
        if pitch is not None:
            notes.append(Note(now, steps, pitch))
        now += steps
    return notes, now


def piano_roll(piece: Piece) -> np.ndarray:
    """(steps, 88) uint8: 1 where a key sounds; notes outside the piano's keys are left out."""
    return notes_to_roll(piece.notes(), piece.length)


def notes_to_roll(notes: list[Note], steps: int) -> np.ndarray:
    """The (steps, 88) piano roll of ``notes``."""
    roll = np.zeros((steps, KEYS), np.uint8)
    for note in notes:
        if LOWEST <= note.pitch <= HIGHEST:
            roll[note.start : note.start + note.duration, note.pitch - LOWEST] = 1
    return roll


def roll_to_notes(roll: np.ndarray) -> list[Note]:
    """Notes of a piano roll: each run of consecutive active steps of a key is one note."""
    active = np.asarray(roll) > 0
    padded = np.pad(active, ((1, 1), (0, 0))).astype(np.int8)
    changes = np.diff(padded, axis=0)
    notes = []
    for key in range(active.shape[1]):
        starts = np.flatnonzero(changes[:, key] == 1)
        ends = np.flatnonzero(changes[:, key] == -1)
        notes += [Note(int(s), int(e - s), key + LOWEST) for s, e in zip(starts, ends)]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def roll_from_events(text: str, default_steps: int) -> np.ndarray:
    """A piano roll from events like "C4+E4+G4:4 rest:2 D4" (a '+' joins a chord)."""
    rows = []
    for event in text.split():
        chord, sep, steps = event.partition(":")
        row = np.zeros(KEYS, np.uint8)
        for name in chord.split("+"):
            pitch, count = parse_event(f"{name}{sep}{steps}", default_steps)
            if pitch is not None:
                if not LOWEST <= pitch <= HIGHEST:
                    raise ValueError(f"{name!r} is outside the piano's keys A0..C8")
                row[pitch - LOWEST] = 1
        rows += [row] * count
    if not rows:
        raise ValueError("no events")
    return np.stack(rows)


def roll_events(roll: np.ndarray) -> str:
    """Readable events of a piano roll: runs of identical rows as "C4+E4:2" or "rest:3"."""
    events, previous, count = [], None, 0
    for row in np.asarray(roll) > 0:
        keys = tuple(np.flatnonzero(row))
        if keys == previous:
            count += 1
            continue
        if previous is not None:
            events.append(_chord(previous, count))
        previous, count = keys, 1
    if previous is not None:
        events.append(_chord(previous, count))
    return " ".join(events)


def _chord(keys: tuple[int, ...], count: int) -> str:
    name = "+".join(pitch_name(k + LOWEST) for k in keys) if keys else REST
    return f"{name}:{count}"
