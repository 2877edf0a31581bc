"""Training-only augmentation of whole batches: time shift, background noise, SpecAugment.

Two domains:
- ``waveform`` (the task's default): shift and noise act on the audio, then the batch is
  featurized (one STFT per clip per epoch). Most faithful to real recordings, including
  shifts shorter than a frame, and measured the more accurate on unseen speakers.
- ``mel``: clips are turned into mel power once and cached; each epoch disturbs that power
  (noise spectra add, as independent signals' spectra do on average; shifts move whole
  10 ms frames). The STFT is the expensive step, so this input pipeline is over 10x cheaper.

Every step is vectorized over the batch. Random draws are stateless, seeded by (the epoch's
seed, the batch's index), so a run is reproducible and every epoch hears different variants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqapps_speech.features import (
    FeatureSettings,
    compress,
    fix_length,
    log_mel,
    mel_power,
    normalize,
)

DOMAINS = ("waveform", "mel")


@dataclass(frozen=True)
class AugmentSettings:
    """How much to disturb each training utterance, and in which domain."""

    shift_ms: float = 100.0
    snr_db: float = 10.0
    noise_probability: float = 0.8
    spec_masks: int = 2
    domain: str = "waveform"
    #: Largest relative change of speaking rate and vocal-tract length: each clip's
    #: features are stretched along time and along the mel axis by a factor in
    #: [1 - warp, 1 + warp], so a few training voices stand for many.
    warp: float = 0.0


def cached_form(waveform, settings: FeatureSettings, augment: AugmentSettings):
    """What the training split caches for augmentation: the fixed-length waveform, or its
    mel power in the mel domain."""
    waveform = fix_length(waveform, settings.samples)
    return mel_power(waveform, settings) if augment.domain == "mel" else waveform


def noise_bank(
    noise: list[np.ndarray], settings: FeatureSettings, augment: AugmentSettings
) -> np.ndarray:
    """Noise clips looped to one common length of at least one utterance, in the
    augmentation's domain: (clips, samples) or (clips, frames, mel_bins). Call eagerly."""
    import tensorflow as tf

    if augment.domain == "mel":
        empty = np.zeros((0, settings.frames, settings.mel_bins), np.float32)
    else:
        empty = np.zeros((0, settings.samples), np.float32)
    if not noise:
        return empty
    longest = max(max(len(clip) for clip in noise), settings.samples)
    waveforms = np.stack([np.resize(clip, longest) for clip in noise]).astype(np.float32)
    if augment.domain == "mel":
        return mel_power(tf.constant(waveforms), settings).numpy()
    return waveforms


def augmenter(
    settings: FeatureSettings,
    augment: AugmentSettings,
    bank: np.ndarray,
    mean=None,
    std=None,
):
    """A function (cached batch, targets, seed[2]) -> (features, targets).

    ``bank`` comes from ``noise_bank``, computed eagerly beforehand: the function may be
    traced inside a tf.data graph.
    """
    import tensorflow as tf

    with_noise = len(bank) > 0
    bank = tf.constant(bank)
    mel = augment.domain == "mel"
    if mel:
        max_shift = round(augment.shift_ms / settings.hop_ms)
    else:
        max_shift = round(augment.shift_ms * settings.sample_rate / 1000)

    def apply(batch, targets, seed):
        seeds = tf.random.experimental.stateless_split(
            tf.cast(seed, tf.int64), 4 + 2 * augment.spec_masks
        )
        size = tf.shape(batch)[0]
        batch = shift(batch, draw(seeds[0], size, -max_shift, max_shift + 1, tf.int32))
        if with_noise:
            noisy = add_noise(batch, bank, seeds[1], augment.snr_db, amplitude=not mel)
            chosen = draw(seeds[2], size, 0.0, 1.0) < augment.noise_probability
            chosen = tf.reshape(chosen, [-1] + [1] * (len(batch.shape) - 1))
            batch = tf.where(chosen, noisy, batch)
        x = compress(batch, settings) if mel else log_mel(batch, settings)
        if augment.warp:
            factors = draw(
                seeds[3 + 2 * augment.spec_masks], size, 1 - augment.warp, 1 + augment.warp
            )
            x = stretch(stretch(x, factors, axis=1), factors, axis=2)
        x = normalize(x, settings, mean, std)
        for k in range(augment.spec_masks):
            x = mask_band(x, seeds[3 + 2 * k], axis=1, widest=max(1, settings.frames // 10))
            x = mask_band(x, seeds[4 + 2 * k], axis=2, widest=max(1, settings.channels * 15 // 100))
        return x, targets

    return apply


def stretch(x, factors, axis: int):
    """Each clip's (frames, channels) features stretched along ``axis`` by its factor
    (> 1: longer in time, or higher in pitch and formants), by linear interpolation; the
    shape stays, the edge value fills what the stretch leaves empty."""
    import tensorflow as tf

    size = tf.shape(x)[axis]
    last = tf.cast(size - 1, tf.float32)
    source = tf.range(tf.cast(size, tf.float32))[None, :] / factors[:, None]
    source = tf.clip_by_value(source, 0.0, last)
    low = tf.cast(tf.floor(source), tf.int32)
    high = tf.minimum(low + 1, size - 1)
    weight = source - tf.cast(low, tf.float32)
    weight = weight[:, :, None] if axis == 1 else weight[:, None, :]
    below = tf.gather(x, low, axis=axis, batch_dims=1)
    above = tf.gather(x, high, axis=axis, batch_dims=1)
    return below * (1 - weight) + above * weight


def draw(seed, size, low, high, dtype=None):
    """``size`` stateless uniform draws in [low, high) (float32 unless ``dtype`` says)."""
    import tensorflow as tf

    return tf.random.stateless_uniform([size], seed, low, high, dtype=dtype or tf.float32)


def shift(batch, shifts):
    """Move each utterance along time (axis 1) by its number of samples or frames (positive =
    later), filling with silence."""
    import tensorflow as tf

    length = tf.shape(batch)[1]
    widest = tf.reduce_max(tf.abs(shifts))
    paddings = [[0, 0], [widest, widest]] + [[0, 0]] * (len(batch.shape) - 2)
    positions = (widest - shifts)[:, None] + tf.range(length)[None, :]
    return tf.gather(tf.pad(batch, paddings), positions, batch_dims=1)


def add_noise(batch, bank, seed, snr_db: float, amplitude: bool = True):
    """Add a random stretch of a random noise clip to each utterance at ``snr_db`` +- 5 dB.

    ``amplitude``: the batch holds waveforms (scale the noise by the root of the power
    ratio); otherwise it holds powers, which add.
    """
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 3)
    size, length = tf.shape(batch)[0], tf.shape(batch)[1]
    clips, clip_length = tf.shape(bank)[0], tf.shape(bank)[1]
    clip = draw(seeds[0], size, 0, clips, tf.int32)
    offset = draw(seeds[1], size, 0, clip_length - length + 1, tf.int32)
    rows = (clip * clip_length + offset)[:, None] + tf.range(length)[None, :]
    flat = tf.reshape(bank, tf.concat([[-1], tf.shape(bank)[2:]], 0))
    stretch = tf.gather(flat, rows)
    snr = draw(seeds[2], size, snr_db - 5.0, snr_db + 5.0)
    axes = list(range(1, len(batch.shape)))
    if amplitude:
        signal_power = tf.reduce_mean(tf.square(batch), axes) + 1e-10
        noise_power = tf.reduce_mean(tf.square(stretch), axes) + 1e-10
        scale = tf.sqrt(signal_power / (noise_power * tf.pow(10.0, snr / 10.0)))
    else:
        signal_power = tf.reduce_mean(batch, axes) + 1e-10
        noise_power = tf.reduce_mean(stretch, axes) + 1e-10
        scale = signal_power / (noise_power * tf.pow(10.0, snr / 10.0))
    return batch + tf.reshape(scale, [-1] + [1] * len(axes)) * stretch


def mask_band(x, seed, axis: int, widest: int):
    """SpecAugment: in each utterance, set a random band of frames (axis 1) or channels
    (axis 2) to the mean (0), at most ``widest`` wide."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 2)
    size, length = tf.shape(x)[0], tf.shape(x)[axis]
    width = draw(seeds[0], size, 0, widest + 1, tf.int32)
    room = tf.cast(length - width + 1, tf.float32)
    start = tf.cast(tf.floor(draw(seeds[1], size, 0.0, 1.0) * room), tf.int32)
    positions = tf.range(length)[None, :]
    keep = (positions < start[:, None]) | (positions >= (start + width)[:, None])
    keep = tf.cast(keep, x.dtype)
    return x * (keep[:, :, None] if axis == 1 else keep[:, None, :])
