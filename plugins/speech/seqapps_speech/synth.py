"""The embedded sample: spoken-like words from a small source-filter vowel synthesizer.

A voice is a glottal source (harmonics of a wandering pitch, falling 12 dB per octave)
shaped by three formant resonances. A word is a sequence of vowels with smooth formant
transitions, so "ai" and "ia" hold the same sounds in a different order and only a model
that reads the order tells them apart. Speakers differ in pitch, vocal-tract length (all
formants scaled), speaking rate and breathiness: a model must generalize to speakers it
never heard, which the split by speaker tests. Everything is written as 16-bit PCM WAV and
read back through the same path as real recordings.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

#: Formant frequencies F1-F3 (Hz) of an adult male voice, after Peterson & Barney (1952).
FORMANTS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
}
BANDWIDTHS = (90.0, 110.0, 170.0)
#: The sample's vocabulary: pairs that differ only in order are the hard cases.
WORDS = ("ai", "ia", "au", "ua", "ei", "ie", "ou", "uo", "oa", "ao")


@dataclass(frozen=True)
class Speaker:
    """What makes a voice: pitch, vocal-tract scaling, tempo and breathiness."""

    name: str
    pitch: float
    tract: float
    rate: float
    breath: float


def speakers(count: int, seed: int) -> list[Speaker]:
    """``count`` distinct voices, from low male to child-like."""
    rng = np.random.default_rng(seed)
    return [
        Speaker(
            name=f"spk{i:03d}",
            pitch=float(rng.uniform(85, 255)),
            tract=float(rng.uniform(0.88, 1.22)),
            rate=float(rng.uniform(0.8, 1.25)),
            breath=float(rng.uniform(0.01, 0.06)),
        )
        for i in range(count)
    ]


def _envelope(frequencies: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Gain of the vocal tract at ``frequencies`` (harmonics x samples) for the formant
    tracks ``formants`` (3 x samples): a sum of resonance peaks."""
    gain = np.zeros_like(frequencies)
    for track, bandwidth, weight in zip(formants, BANDWIDTHS, (1.0, 0.6, 0.3)):
        gain += weight / (1.0 + ((frequencies - track) / (bandwidth / 2)) ** 2)
    return gain


def say(
    vowel_groups: list[str], speaker: Speaker, rng: np.random.Generator, rate: int
) -> np.ndarray:
    """Waveform (float, about -1..1) of words given as vowel strings, a pause between words."""
    pieces = []
    for number, word in enumerate(vowel_groups):
        if number:
            pieces.append(np.zeros(int(rate * rng.uniform(0.08, 0.14) / speaker.rate)))
        pieces.append(_word(word, speaker, rng, rate))
    return np.concatenate(pieces)


def _word(word: str, speaker: Speaker, rng: np.random.Generator, rate: int) -> np.ndarray:
    per_vowel = [int(rate * rng.uniform(0.13, 0.19) / speaker.rate) for _ in word]
    samples = sum(per_vowel)
    # Formant tracks: hold each vowel, glide over the last third into the next one.
    tracks = np.zeros((3, samples))
    position = 0
    for index, (vowel, length) in enumerate(zip(word, per_vowel)):
        here = np.array(FORMANTS[vowel]) * speaker.tract
        there = (
            np.array(FORMANTS[word[index + 1]]) * speaker.tract if index + 1 < len(word) else here
        )
        glide = length // 3
        ramp = np.concatenate([np.zeros(length - glide), np.linspace(0, 1, glide)])
        tracks[:, position : position + length] = here[:, None] + (there - here)[:, None] * ramp
        position += length
    # Pitch: the speaker's own, a gentle fall over the word, a little vibrato and jitter.
    t = np.arange(samples) / rate
    pitch = speaker.pitch * rng.uniform(0.92, 1.08)
    f0 = pitch * (1 - 0.12 * t / t[-1]) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    f0 *= 1 + 0.003 * rng.standard_normal(samples).cumsum() / np.sqrt(np.arange(1, samples + 1))
    harmonics = np.arange(1, int(4800 / pitch) + 1)[:, None]
    frequencies = harmonics * f0[None, :]
    phase = 2 * np.pi * np.cumsum(f0) / rate
    source = harmonics.astype(float) ** -1.0  # -6 dB/octave source, plus radiation
    voiced = (source * _envelope(frequencies, tracks) * np.sin(harmonics * phase[None, :])).sum(0)
    voiced /= np.abs(voiced).max() + 1e-9
    breath = speaker.breath * rng.standard_normal(samples)
    attack = np.minimum(1, np.minimum(np.arange(samples), np.arange(samples)[::-1]) / (0.02 * rate))
    return (voiced + breath) * attack * 0.5


def noise_clip(kind: str, seconds: float, rng: np.random.Generator, rate: int) -> np.ndarray:
    """Background noise: "white", "pink" (1/f) or "hum" (mains hum with harmonics)."""
    samples = int(seconds * rate)
    if kind == "white":
        clip = rng.standard_normal(samples)
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(samples))
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        clip = np.fft.irfft(spectrum, samples)
    else:
        t = np.arange(samples) / rate
        clip = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6))
        clip += 0.1 * rng.standard_normal(samples)
    return 0.3 * clip / (np.abs(clip).max() + 1e-9)


def place(waveform: np.ndarray, seconds: float, rng: np.random.Generator, rate: int) -> np.ndarray:
    """The waveform at a random offset inside a clip of ``seconds`` (cut if longer)."""
    total = int(seconds * rate)
    waveform = waveform[:total]
    offset = int(rng.integers(0, total - len(waveform) + 1))
    clip = np.zeros(total)
    clip[offset : offset + len(waveform)] = waveform
    return clip


def wav_bytes(waveform: np.ndarray, rate: int, channels: int = 1) -> bytes:
    """16-bit PCM WAV of a float waveform (clipped to -1..1); stereo copies the channel."""
    pcm = (np.clip(waveform, -1, 1) * 32767).astype("<i2")
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1).reshape(-1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
