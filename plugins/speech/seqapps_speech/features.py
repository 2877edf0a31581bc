"""Audio to features with tf.signal: WAV decoding, fixed length, log-mel (or MFCC), normalization.

The same functions run in the tf.data pipeline (one utterance) and inside the exported
model (a batch), so what the model sees at training and at prediction cannot drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Added to mel energies before the log, so silence gives a finite floor (-13.8).
LOG_FLOOR = 1e-6


@dataclass(frozen=True)
class FeatureSettings:
    """How waveforms become feature frames."""

    sample_rate: int = 16000
    duration: float = 1.0
    frame_ms: float = 25.0
    hop_ms: float = 10.0
    mel_bins: int = 40
    lower_hz: float = 20.0
    upper_hz: float = 7600.0
    #: 0 = log-mel features; N > 0 = the first N MFCCs of the log-mel spectrogram.
    mfcc: int = 0
    #: "utterance" (each channel's mean and variance over time) or "dataset" (training stats).
    normalize: str = "utterance"

    @property
    def samples(self) -> int:
        """Samples per (padded or trimmed) utterance."""
        return round(self.sample_rate * self.duration)

    @property
    def frame_length(self) -> int:
        """Samples per analysis window."""
        return round(self.sample_rate * self.frame_ms / 1000)

    @property
    def frame_step(self) -> int:
        """Samples between window starts."""
        return round(self.sample_rate * self.hop_ms / 1000)

    @property
    def fft_length(self) -> int:
        """The smallest power of two holding a window."""
        return 1 << (self.frame_length - 1).bit_length()

    @property
    def frames(self) -> int:
        """Feature frames per utterance."""
        return 1 + (self.samples - self.frame_length) // self.frame_step

    @property
    def channels(self) -> int:
        """Features per frame."""
        return self.mfcc or self.mel_bins

    def to_dict(self) -> dict:
        """JSON-ready form (stored with the model)."""
        return asdict(self)


def decode_wav(contents):
    """16-bit PCM WAV bytes -> mono float32 waveform in [-1, 1] (stereo mixed down)."""
    import tensorflow as tf

    audio, _ = tf.audio.decode_wav(contents)  # (samples, channels)
    return tf.reduce_mean(audio, axis=-1)


def fix_length(waveform, samples: int):
    """Trim to ``samples`` or pad the end with silence."""
    import tensorflow as tf

    waveform = waveform[..., :samples]
    missing = samples - tf.shape(waveform)[-1]
    rank = len(waveform.shape)
    paddings = [[0, 0]] * (rank - 1) + [[0, missing]]
    return tf.pad(waveform, paddings)


def mel_power(waveform, settings: FeatureSettings):
    """(..., samples) waveform -> (..., frames, mel_bins) mel-band power, before the log."""
    import tensorflow as tf

    stft = tf.signal.stft(
        waveform,
        frame_length=settings.frame_length,
        frame_step=settings.frame_step,
        fft_length=settings.fft_length,
        window_fn=tf.signal.hann_window,
    )
    power = tf.math.square(tf.abs(stft))
    weights = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=settings.mel_bins,
        num_spectrogram_bins=settings.fft_length // 2 + 1,
        sample_rate=settings.sample_rate,
        lower_edge_hertz=settings.lower_hz,
        upper_edge_hertz=min(settings.upper_hz, settings.sample_rate / 2),
    )
    return tf.tensordot(power, weights, 1)


def compress(power, settings: FeatureSettings):
    """Mel power -> log-mel energies (or their first MFCCs)."""
    import tensorflow as tf

    features = tf.math.log(power + LOG_FLOOR)
    if settings.mfcc:
        features = tf.signal.mfccs_from_log_mel_spectrograms(features)[..., : settings.mfcc]
    return features


def log_mel(waveform, settings: FeatureSettings):
    """(..., samples) waveform -> (..., frames, channels) log-mel energies (or MFCCs)."""
    return compress(mel_power(waveform, settings), settings)


def normalize(features, settings: FeatureSettings, mean=None, std=None):
    """Per-utterance or training-set normalization, as the settings say."""
    if settings.normalize == "utterance":
        return normalize_per_utterance(features)
    return (features - mean) / std


def normalize_per_utterance(features):
    """Each channel to zero mean and unit variance over the utterance's frames.

    Removes a constant channel offset, which is what a new microphone or a new voice's
    loudness adds to log energies.
    """
    import tensorflow as tf

    mean, variance = tf.nn.moments(features, axes=[-2], keepdims=True)
    return (features - mean) * tf.math.rsqrt(variance + 1e-5)


def features(waveform, settings: FeatureSettings, mean=None, std=None):
    """The whole chain after decoding: fixed length, log-mel/MFCC, normalization."""
    return normalize(log_mel(fix_length(waveform, settings.samples), settings), settings, mean, std)
