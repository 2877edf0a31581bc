"""MIDI files to pieces on the step grid and back, with mido.

Reading quantizes onsets and ends to the nearest grid step; writing places each step at an
exact tick, so a quantized piece survives a write and a read unchanged (including a trailing
rest: the end-of-track event marks where the piece ends).
"""

from __future__ import annotations

import io
from pathlib import Path

from seqapps_music.notes import Note, Piece

#: Ticks per quarter note in the files we write.
TICKS_PER_QUARTER = 480
_DRUM_CHANNEL = 9


class MidiError(ValueError):
    """A MIDI file that cannot be read."""


def read_midi(path: Path, steps_per_quarter: int) -> Piece:
    """The notes of a MIDI file by track (drums left out), quantized to the step grid."""
    import mido

    try:
        midi = mido.MidiFile(path)
    except Exception as error:  # mido raises OSError, EOFError, ValueError, KeyError, ...
        reason = error or type(error).__name__
        raise MidiError(f"{path.name}: not a readable MIDI file ({reason})") from None
    if midi.type == 2:
        raise MidiError(f"{path.name}: MIDI type 2 (independent sequences) is not supported")
    per_quarter = midi.ticks_per_beat

    def step(tick: int) -> int:
        return round(tick * steps_per_quarter / per_quarter)

    parts, length = [], 0
    for track in midi.tracks:
        tick, sounding, notes = 0, {}, []
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off") or message.channel == _DRUM_CHANNEL:
                continue
            key = (message.channel, message.note)
            if key in sounding:  # any event on a sounding key ends it (a repeated note-on too)
                start = sounding.pop(key)
                notes.append(Note(step(start), max(1, step(tick) - step(start)), message.note))
            if message.type == "note_on" and message.velocity > 0:
                sounding[key] = tick
        for (_, pitch), start in sounding.items():  # never released: ends with the track
            notes.append(Note(step(start), max(1, step(tick) - step(start)), pitch))
        length = max(length, step(tick), *(n.start + n.duration for n in notes))
        if notes:
            parts.append(sorted(notes, key=lambda n: (n.start, n.pitch)))
    return Piece(path.stem, parts, length)


def write_midi(
    parts: list[list[Note]], length: int, steps_per_quarter: int, bpm: float = 90.0
) -> bytes:
    """A type-1 MIDI file (one piano track per part) as bytes; ends at step ``length``."""
    import mido

    ticks_per_step = TICKS_PER_QUARTER // steps_per_quarter
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)])
    midi.tracks.append(conductor)
    for channel, part in enumerate(parts):
        events = []
        for note in part:
            events.append((note.start * ticks_per_step, 1, note.pitch))
            events.append(((note.start + note.duration) * ticks_per_step, 0, note.pitch))
        events.sort()  # at equal ticks, note-offs (0) before note-ons (1)
        track, now = mido.MidiTrack(), 0
        for tick, on, pitch in events:
            kind = "note_on" if on else "note_off"
            track.append(
                mido.Message(
                    kind,
                    note=pitch,
                    velocity=80 if on else 0,
                    channel=channel % 16,
                    time=tick - now,
                )
            )
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, length * ticks_per_step - now)))
        midi.tracks.append(track)
    conductor.append(mido.MetaMessage("end_of_track", time=length * ticks_per_step))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
