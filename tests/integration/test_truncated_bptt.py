"""A task that opts in to truncated BPTT trains statefully over chunks through the core."""

import itertools

import numpy as np
import pytest
from mlflow import MlflowClient

from seqapps import config as config_module
from seqapps import registry, run_setup, training
from seqapps.api import ConfigError, DataBundle, Spec, Task, encoder_settings, parallel_streams

CHUNK = 20


class WaveTask(Task):
    """Predict the next value of a long noisy sine wave, step by step."""

    name = "wave"
    summary = "test task: next value of one long wave"
    kind = "generate"
    default_arch = "lstm"
    defaults = {"batch_size": 8, "units": 16, "epochs": 4, "patience": 0}

    def truncated_bptt(self, config):
        return CHUNK

    def load_data(self, config):
        import tensorflow as tf

        rng = np.random.default_rng(0)
        steps = np.arange(6000)
        wave = np.sin(steps / 7.0) + 0.05 * rng.normal(size=steps.size)
        inputs, targets = wave[:-1, None].astype("float32"), wave[1:, None].astype("float32")
        cuts = [0, 4000, 5000, 5999]
        splits = []
        for start, stop in itertools.pairwise(cuts):
            x = parallel_streams(inputs[start:stop], config.batch_size, CHUNK)
            y = parallel_streams(targets[start:stop], config.batch_size, CHUNK)
            splits.append(tf.data.Dataset.from_tensor_slices((x, y)))
        sizes = {"train": 4000, "validation": 1000, "test": 999}
        spec = Spec(sequence_length=CHUNK, features=1)
        return DataBundle(*splits, spec, "sample", "wave", sizes)

    def build_model(self, spec, arch, config):
        import keras

        inputs = keras.Input(batch_shape=(config.batch_size, CHUNK, 1))
        settings = encoder_settings(config, stateful=True)
        encoded = arch.build_encoder(inputs, settings, self.arch_kind(config))
        return keras.Model(inputs, keras.layers.Dense(1)(encoded))

    def loss_and_metrics(self, spec):
        return "mse", ["mae"]

    def export_model(self, model, data):
        return model

    def predict(self, model, metadata, inputs):
        return []


def resolve(**flags):
    return config_module.resolve(WaveTask, flags, load_arch=registry.load_arch)


def test_stateful_training_over_chunks(tracking_uri):
    result = training.run(
        WaveTask, resolve(tracking_uri=tracking_uri, verbose=0), echo=lambda _: None
    )
    client = MlflowClient(tracking_uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["tbptt_chunk"] == str(CHUNK)
    losses = [m.value for m in client.get_metric_history(result.run_id, "train_loss")]
    assert len(losses) == 4 and losses[-1] < losses[0] * 0.5
    assert result.metrics["test_mae"] < 0.2  # a wave is predictable from its recent past


def test_state_is_carried_across_batches_and_reset():
    from seqapps import callbacks

    arch = registry.load_arch("lstm")
    task = WaveTask()
    config = resolve()
    model = task.build_model(None, arch, config)
    chunk = np.random.default_rng(1).normal(size=(config.batch_size, CHUNK, 1)).astype("float32")
    first = model.predict_on_batch(chunk)
    carried = model.predict_on_batch(chunk)
    assert not np.allclose(first, carried)  # the second call starts from the first's state
    callback = callbacks.ResetRecurrentState()
    callback.set_model(model)
    callback.on_epoch_begin(0)
    np.testing.assert_allclose(model.predict_on_batch(chunk), first, rtol=1e-5, atol=1e-6)


def test_arch_that_cannot_carry_state_is_a_usage_error():
    with pytest.raises(
        ConfigError, match=r"--arch transformer: cannot carry state .* archs that can: .*lstm"
    ):
        run_setup.check_arch(WaveTask, resolve(arch="transformer"), stateful=True)
