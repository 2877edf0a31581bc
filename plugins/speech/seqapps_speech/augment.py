"""Training-only augmentation in tf.data: time shift, background noise at an SNR, SpecAugment.

Random draws are stateless and seeded per element from a seeded stream that is drawn anew
each epoch, so a run is reproducible and every epoch hears different variants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqapps_speech.features import FeatureSettings, features


@dataclass(frozen=True)
class AugmentSettings:
    """How much to disturb each training utterance."""

    shift_ms: float = 100.0
    snr_db: float = 10.0
    noise_probability: float = 0.8
    spec_masks: int = 2


def augmenter(
    settings: FeatureSettings,
    augment: AugmentSettings,
    noise: list[np.ndarray],
    mean=None,
    std=None,
):
    """A function (waveform, target, seed[2]) -> (features, target) for Dataset.map."""
    import tensorflow as tf

    samples = settings.samples
    clips = [np.resize(clip, max(len(clip), samples)) for clip in noise]
    longest = max((len(c) for c in clips), default=samples)
    bank = tf.constant(
        np.stack([np.resize(c, longest) for c in clips]) if clips else np.zeros((0, samples)),
        tf.float32,
    )
    max_shift = round(settings.sample_rate * augment.shift_ms / 1000)

    def uniform(seed, low, high, dtype=tf.float32):
        return tf.random.stateless_uniform([], seed, low, high, dtype=dtype)

    def apply(waveform, target, seed):
        seeds = tf.random.experimental.stateless_split(
            tf.cast(seed, tf.int64), 3 + 2 * augment.spec_masks
        )
        waveform = _shift(waveform, uniform(seeds[0], -max_shift, max_shift + 1, tf.int32))
        if clips:
            waveform = tf.cond(
                uniform(seeds[1], 0.0, 1.0) < augment.noise_probability,
                lambda: _add_noise(waveform, bank, seeds[2], augment.snr_db, samples),
                lambda: waveform,
            )
        x = features(waveform, settings, mean, std)
        for k in range(augment.spec_masks):
            x = _mask(x, seeds[3 + 2 * k], axis=0, widest=max(1, settings.frames // 10))
            x = _mask(x, seeds[4 + 2 * k], axis=1, widest=max(1, settings.channels * 15 // 100))
        return x, target

    return apply


def _shift(waveform, shift):
    """Move the audio by ``shift`` samples (positive = later), filling with silence."""
    import tensorflow as tf

    length = tf.shape(waveform)[0]
    padded = tf.pad(waveform, [[tf.maximum(shift, 0), tf.maximum(-shift, 0)]])
    start = tf.maximum(-shift, 0)
    return padded[start : start + length]


def _add_noise(waveform, bank, seed, snr_db, samples):
    """Mix a random stretch of a random noise clip at ``snr_db`` +- 5 dB."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 3)
    clip = tf.random.stateless_uniform([], seeds[0], 0, tf.shape(bank)[0], dtype=tf.int32)
    room = tf.shape(bank)[1] - samples + 1
    offset = tf.random.stateless_uniform([], seeds[1], 0, room, dtype=tf.int32)
    noise = bank[clip, offset : offset + samples]
    snr = tf.random.stateless_uniform([], seeds[2], snr_db - 5.0, snr_db + 5.0)
    signal_power = tf.reduce_mean(tf.square(waveform)) + 1e-10
    noise_power = tf.reduce_mean(tf.square(noise)) + 1e-10
    scale = tf.sqrt(signal_power / (noise_power * tf.pow(10.0, snr / 10.0)))
    return waveform + scale * noise


def _mask(x, seed, axis: int, widest: int):
    """SpecAugment: set a random band of frames (axis 0) or channels (axis 1) to the mean (0)."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 2)
    size = tf.shape(x)[axis]
    width = tf.random.stateless_uniform([], seeds[0], 0, widest + 1, dtype=tf.int32)
    start = tf.random.stateless_uniform([], seeds[1], 0, size - width + 1, dtype=tf.int32)
    positions = tf.range(size)
    keep = tf.logical_or(positions < start, positions >= start + width)
    keep = tf.cast(keep, x.dtype)
    return x * (keep[:, None] if axis == 0 else keep[None, :])
