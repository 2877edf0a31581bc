"""The feature chain as a Keras layer, so the logged model takes raw waveforms."""

from __future__ import annotations

import keras

from seqapps_speech.features import FeatureSettings, features


@keras.saving.register_keras_serializable(package="seqapps_speech")
class SpeechFeatures(keras.layers.Layer):
    """(batch, samples) float waveforms at ``sample_rate`` -> (batch, frames, channels).

    Runs exactly the tf.data feature functions (TensorFlow backend), normalization included.
    """

    def __init__(self, settings: dict, mean=None, std=None, **kwargs):
        super().__init__(**kwargs)
        self.settings = dict(settings)
        self.mean, self.std = mean, std
        self._settings = FeatureSettings(**self.settings)

    def call(self, waveforms):
        import tensorflow as tf

        mean = None if self.mean is None else tf.constant(self.mean, tf.float32)
        std = None if self.std is None else tf.constant(self.std, tf.float32)
        return features(waveforms, self._settings, mean, std)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._settings.frames, self._settings.channels)

    def get_config(self):
        return {
            **super().get_config(),
            "settings": self.settings,
            "mean": self.mean,
            "std": self.std,
        }
