"""The speech feature pipeline against a direct NumPy computation; augmentation; scoring."""

import wave

import numpy as np
import pytest
import tensorflow as tf

from seqapps_speech import synth
from seqapps_speech.augment import (
    AugmentSettings,
    add_noise,
    augmenter,
    cached_form,
    mask_band,
    noise_bank,
    shift,
)
from seqapps_speech.features import FeatureSettings, decode_wav, features, fix_length, log_mel
from seqapps_speech.scoring import edit_distance, error_rate, greedy_decode

RATE = 16000


def spoken_wav(path, channels=1, seconds=1.0):
    rng = np.random.default_rng(3)
    voice = synth.speakers(1, 3)[0]
    waveform = synth.place(synth.say(["ai"], voice, rng, RATE), seconds, rng, RATE)
    path.write_bytes(synth.wav_bytes(waveform, RATE, channels))
    return path


def numpy_log_mel(path, settings: FeatureSettings) -> np.ndarray:
    """Log-mel energies computed from the textbook definitions, without TensorFlow."""
    with wave.open(str(path)) as audio:
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), "<i2").astype(np.float64)
    x = np.zeros(settings.samples)
    x[: min(len(pcm), settings.samples)] = pcm[: settings.samples] / 32768.0
    n, hop, fft = settings.frame_length, settings.frame_step, settings.fft_length
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic Hann
    frames = np.stack([x[i : i + n] * window for i in range(0, len(x) - n + 1, hop)])
    power = np.abs(np.fft.rfft(frames, fft)) ** 2

    def mel(hz):  # HTK mel scale
        return 1127.0 * np.log1p(np.asarray(hz) / 700.0)

    bins = mel(np.linspace(0, settings.sample_rate / 2, fft // 2 + 1))
    edges = np.linspace(mel(settings.lower_hz), mel(settings.upper_hz), settings.mel_bins + 2)
    weights = np.zeros((fft // 2 + 1, settings.mel_bins))
    for m in range(settings.mel_bins):
        low, centre, high = edges[m : m + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        weights[:, m] = np.maximum(0, np.minimum(rising, falling))
    weights[0] = 0  # the DC bin carries no band
    return np.log(power @ weights + 1e-6)


def tf_features_of_file(path, settings):
    waveform = fix_length(decode_wav(tf.io.read_file(str(path))), settings.samples)
    return log_mel(waveform, settings).numpy()


def test_log_mel_matches_a_direct_numpy_computation(tmp_path):
    settings = FeatureSettings()
    path = spoken_wav(tmp_path / "ai.wav")
    ours = tf_features_of_file(path, settings)
    reference = numpy_log_mel(path, settings)
    assert ours.shape == reference.shape == (settings.frames, 40) == (98, 40)
    loud = reference > np.log(1e-4)  # float32 rounding dominates near the floor
    np.testing.assert_allclose(ours[loud], reference[loud], rtol=0, atol=2e-3)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=5e-2)


def test_utterance_normalization_gives_each_channel_zero_mean_unit_variance(tmp_path):
    settings = FeatureSettings()
    path = spoken_wav(tmp_path / "ai.wav")
    waveform = decode_wav(tf.io.read_file(str(path)))
    normalized = features(waveform, settings).numpy()
    reference = numpy_log_mel(path, settings)
    expected = (reference - reference.mean(0)) / np.sqrt(reference.var(0) + 1e-5)
    np.testing.assert_allclose(normalized, expected, atol=2e-2)
    np.testing.assert_allclose(normalized.mean(0), 0, atol=1e-4)
    # A louder recording (a gain: a constant offset in log energy) changes nothing, once the
    # recording has the faint noise floor every microphone has (digital silence sits at the
    # log floor, which a gain cannot move).
    hiss = tf.constant(np.random.default_rng(0).normal(0, 1e-3, waveform.shape), tf.float32)
    quiet = features(waveform + hiss, settings).numpy()
    louder = features(3.0 * (waveform + hiss), settings).numpy()
    np.testing.assert_allclose(louder, quiet, atol=2e-2)


def test_stereo_is_mixed_down_and_length_is_fixed(tmp_path):
    mono = spoken_wav(tmp_path / "mono.wav")
    stereo = spoken_wav(tmp_path / "stereo.wav", channels=2)
    a = decode_wav(tf.io.read_file(str(mono))).numpy()
    b = decode_wav(tf.io.read_file(str(stereo))).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert fix_length(tf.constant(a[:1000]), 1600).numpy()[1000:].tolist() == [0.0] * 600
    assert fix_length(tf.constant(a), 1600).shape == (1600,)


def test_mfcc_option_gives_the_first_coefficients(tmp_path):
    settings = FeatureSettings(mfcc=13)
    waveform = decode_wav(tf.io.read_file(str(spoken_wav(tmp_path / "ai.wav"))))
    assert features(waveform, settings).shape == (98, 13)


MEL = AugmentSettings(domain="mel")


def test_time_shift_moves_each_utterance_and_fills_with_silence():
    waveforms = tf.tile(tf.range(1, 11, dtype=tf.float32)[None], [3, 1])
    shifted = shift(waveforms, tf.constant([3, -2, 0])).numpy()
    assert shifted[0].tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert shifted[1].tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 0, 0]
    assert shifted[2].tolist() == list(range(1, 11))
    frames = tf.stack([waveforms, 10 * waveforms], axis=-1)  # (batch, frames, channels)
    moved = shift(frames, tf.constant([1, 0, -1])).numpy()
    assert moved[0, :, 1].tolist() == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert moved[2, :, 0].tolist() == [2, 3, 4, 5, 6, 7, 8, 9, 10, 0]


@pytest.mark.parametrize("domain", ["waveform", "mel"])
def test_noise_is_mixed_at_the_chosen_snr_per_utterance(domain):
    rng = np.random.default_rng(0)
    settings, augment = FeatureSettings(), AugmentSettings(domain=domain)
    tone = tf.constant(np.sin(np.arange(RATE) / 5.0), tf.float32)
    one = cached_form(tone, settings, augment)
    clean = tf.tile(one[None], [64] + [1] * len(one.shape))
    bank = tf.constant(noise_bank([rng.standard_normal(3 * RATE)], settings, augment))
    axes = list(range(1, len(clean.shape)))
    for snr in (0.0, 10.0, 20.0):
        noisy = add_noise(clean, bank, tf.constant([1, 2], tf.int64), snr, domain == "waveform")
        noise = noisy - clean
        if domain == "waveform":
            ratio = tf.reduce_mean(clean**2, axes) / tf.reduce_mean(noise**2, axes)
        else:
            ratio = tf.reduce_mean(clean, axes) / tf.reduce_mean(noise, axes)
        measured = 10 * np.log10(ratio.numpy())
        assert np.all((snr - 5.01 <= measured) & (measured <= snr + 5.01)), measured
        assert measured.std() > 1  # each utterance draws its own SNR


def test_spec_masks_blank_one_band_per_utterance():
    masked = mask_band(tf.ones((16, 98, 40)), tf.constant([4, 2], tf.int64), axis=2, widest=6)
    widths = []
    for one in masked.numpy():
        blank = np.flatnonzero(one.sum(0) == 0)
        assert len(blank) <= 6 and (len(blank) == 0 or np.all(np.diff(blank) == 1))
        assert np.all(one[:, np.setdiff1d(np.arange(40), blank)] == 1)
        widths.append(len(blank))
    assert len(set(widths)) > 1


@pytest.mark.parametrize("augment", [AugmentSettings(), MEL], ids=["waveform", "mel"])
def test_augmentation_is_reproducible_by_seed_and_differs_between_seeds(tmp_path, augment):
    settings = FeatureSettings()
    waveform = decode_wav(tf.io.read_file(str(spoken_wav(tmp_path / "ai.wav"))))
    one = cached_form(waveform, settings, augment)
    batch = tf.tile(one[None], [4] + [1] * len(one.shape))
    noise = [np.random.default_rng(1).standard_normal(3 * RATE).astype(np.float32)]
    apply = augmenter(settings, augment, noise_bank(noise, settings, augment))
    first, _ = apply(batch, 0, tf.constant([7, 8], tf.int64))
    again, _ = apply(batch, 0, tf.constant([7, 8], tf.int64))
    other, _ = apply(batch, 0, tf.constant([9, 8], tf.int64))
    assert first.shape == (4, 98, 40)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert np.abs(first.numpy() - other.numpy()).mean() > 0.05
    assert np.abs(first.numpy()[0] - first.numpy()[1]).mean() > 0.05  # each clip its own draw


@pytest.mark.parametrize("domain", ["waveform", "mel"])
def test_augmentation_without_disturbance_gives_the_evaluation_features(tmp_path, domain):
    settings = FeatureSettings()
    calm = AugmentSettings(shift_ms=0.0, spec_masks=0, domain=domain)
    waveform = decode_wav(tf.io.read_file(str(spoken_wav(tmp_path / "ai.wav"))))
    apply = augmenter(settings, calm, noise_bank([], settings, calm))
    batch = cached_form(waveform, settings, calm)[None]
    augmented, _ = apply(batch, 0, tf.constant([1, 1], tf.int64))
    np.testing.assert_allclose(augmented.numpy()[0], features(waveform, settings), atol=1e-5)


def test_greedy_ctc_decoding_merges_repeats_and_drops_blanks():
    path = [0, 1, 1, 0, 1, 2, 2, 0, 0, 3]
    logits = np.eye(4)[path]
    assert greedy_decode(logits) == [1, 1, 2, 3]


def test_error_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert error_rate(["ai ou"], ["ai ou"], "char") == 0
    assert error_rate(["ai ou"], ["a ou"], "char") == pytest.approx(1 / 5)
    assert error_rate(["ai ou", "ei"], ["ai", "ie"], "word") == pytest.approx(2 / 3)


def test_stretch_keeps_a_factor_of_one_and_moves_a_peak_by_the_factor():
    import numpy as np
    import tensorflow as tf

    from seqapps_speech.augment import stretch

    x = np.zeros((2, 10, 40), np.float32)
    x[:, 4, 20] = 1.0  # one peak: frame 4, mel channel 20
    same = stretch(tf.constant(x), tf.constant([1.0, 1.0]), axis=2).numpy()
    np.testing.assert_allclose(same, x)
    moved = stretch(tf.constant(x), tf.constant([1.1, 0.9]), axis=2).numpy()
    assert moved[0, 4].argmax() == 22 and moved[1, 4].argmax() == 18  # 20 * 1.1, 20 * 0.9
    later = stretch(tf.constant(x), tf.constant([1.5, 1.0]), axis=1).numpy()
    assert later[0, :, 20].argmax() == 6 and later[1, :, 20].argmax() == 4  # frame 4 * 1.5
