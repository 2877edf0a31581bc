"""Every registered architecture, for every kind it declares: builds, learns, round-trips."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from seqapps import registry
from seqapps.archs import ARCH_KINDS, EncoderSettings

MANY_TO_ONE, TAGGING, FORECASTING, GENERATION, SEQ2SEQ = ARCH_KINDS
ARCHS = {row.obj.name: row.obj for row in registry.list_archs() if row.obj is not None}
MATRIX = [(name, kind) for name, arch in sorted(ARCHS.items()) for kind in arch.kinds]
STEPS, FEATURES, EXAMPLES = 6, 3, 96
SETTINGS = EncoderSettings(units=8, layers=2, seed=3)
#: One layer for the learning check: tracing a second stacked layer doubles the graph-building
#: time (most of these tests' cost) and checks nothing new; stacking is checked once, below.
ONE_LAYER = EncoderSettings(units=8, layers=1, seed=3)


def tiny_data(kind: str, rng):
    """Inputs and targets a model of ``kind`` can learn from in a few epochs."""
    if kind == SEQ2SEQ:  # reverse a token sequence; 1 = start, 2 = end, 3..9 = symbols
        source = rng.integers(3, 10, (EXAMPLES, 5))
        target = np.concatenate([source[:, ::-1], np.full((EXAMPLES, 1), 2)], axis=1)
        decoder_in = np.concatenate([np.ones((EXAMPLES, 1), int), target[:, :-1]], axis=1)
        return [source.astype("int32"), decoder_in.astype("int32")], target.astype("int32")
    x = rng.normal(size=(EXAMPLES, STEPS, FEATURES)).astype("float32")
    if kind == MANY_TO_ONE:
        return x, (x[:, :, 0].sum(axis=1) > 0).astype("int32")
    if kind == FORECASTING:
        return x, x[:, :, 0].mean(axis=1, keepdims=True)
    return x, (x[:, :, 0] > 0).astype("int32")  # tagging and (causal) generation


def tiny_model(arch, kind: str, settings: EncoderSettings = SETTINGS):
    """Input adapter + the arch's encoder + a head fitting ``kind``, compiled."""
    if kind == SEQ2SEQ:
        source = keras.Input((None,), dtype="int32")
        decoder_tokens = keras.Input((None,), dtype="int32")
        embed = keras.layers.Embedding(10, 8, mask_zero=True)
        encoded = arch.build_encoder(
            embed(source), settings, kind, decoder_inputs=embed(decoder_tokens)
        )
        outputs = keras.layers.Dense(10, activation="softmax")(encoded)
        model = keras.Model([source, decoder_tokens], outputs)
        loss = "sparse_categorical_crossentropy"
    else:
        inputs = keras.Input((STEPS, FEATURES))
        encoded = arch.build_encoder(keras.layers.Masking(0.0)(inputs), settings, kind)
        if kind == FORECASTING:
            outputs, loss = keras.layers.Dense(1)(encoded), "mse"
        else:
            outputs = keras.layers.Dense(2, activation="softmax")(encoded)
            loss = "sparse_categorical_crossentropy"
        model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
    return model


def _learns_and_round_trips(arch, kind: str, settings: EncoderSettings, folder) -> None:
    keras.utils.set_random_seed(0)
    x, y = tiny_data(kind, np.random.default_rng(0))
    model = tiny_model(arch, kind, settings)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0, shuffle=False).history["loss"]
    assert history[-1] < history[0], history

    path = folder / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    # Called directly (inference mode): predict() would trace a graph for each model.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reloaded(x)),
        keras.ops.convert_to_numpy(model(x)),
        rtol=1e-5,
        atol=1e-6,
    )


#: A kind whose encoder is often built exactly like another's: forecasting reads a sequence
#: into one vector like many-to-one, and generation is one-way tagging. Training the twin
#: again would check nothing new; only the head differs, and it is checked by a call.
TWINS = {FORECASTING: MANY_TO_ONE, GENERATION: TAGGING}


def _encoder_layers(arch, kind: str) -> list[dict]:
    """The layer configs of ``arch``'s encoder for ``kind`` (names aside)."""
    inputs = keras.Input((STEPS, FEATURES))
    encoder = keras.Model(inputs, arch.build_encoder(inputs, ONE_LAYER, kind))
    configs = []
    for layer in encoder.layers:
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        configs.append((type(layer).__name__, repr(config)))
    return configs


@pytest.mark.slow
@pytest.mark.parametrize(("arch_name", "kind"), MATRIX, ids=[f"{a}-{k}" for a, k in MATRIX])
def test_arch_learns_saves_and_reloads(arch_name, kind, tmp_path):
    arch = ARCHS[arch_name]
    twin = TWINS.get(kind)
    if twin and arch.supports(twin) and _encoder_layers(arch, kind) == _encoder_layers(arch, twin):
        # The twin kind's case trains this very encoder: check this kind's head end to end.
        keras.utils.set_random_seed(0)
        x, y = tiny_data(kind, np.random.default_rng(0))
        output = keras.ops.convert_to_numpy(tiny_model(arch, kind, ONE_LAYER)(x))
        assert output.shape in (np.shape(y), (*np.shape(y), 2))  # values, or 2 classes
        assert np.isfinite(output).all()
        return
    _learns_and_round_trips(arch, kind, ONE_LAYER, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("arch_name", ["bilstm", "transformer"])
def test_stacked_layers_learn_save_and_reload(arch_name, tmp_path):
    _learns_and_round_trips(ARCHS[arch_name], MANY_TO_ONE, SETTINGS, tmp_path)


MASKED = [
    (name, kind)
    for name, arch in sorted(ARCHS.items())
    if arch.masks
    for kind in (MANY_TO_ONE, TAGGING)
    if arch.supports(kind)
]


@pytest.mark.parametrize(("arch_name", "kind"), MASKED, ids=[f"{a}-{k}" for a, k in MASKED])
def test_padded_steps_never_change_the_result(arch_name, kind):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None, FEATURES))
    encoded = ARCHS[arch_name].build_encoder(keras.layers.Masking(0.0)(inputs), SETTINGS, kind)
    encoder = keras.Model(inputs, encoded)
    rng = np.random.default_rng(1)
    unpadded = rng.normal(size=(2, 5, FEATURES)).astype("float32")
    padded = np.concatenate([unpadded, np.zeros((2, 3, FEATURES), "float32")], axis=1)
    # Called directly (inference mode): predict() would trace a graph for each length.
    short = keras.ops.convert_to_numpy(encoder(unpadded))
    long = keras.ops.convert_to_numpy(encoder(padded))
    if kind == TAGGING:
        long = long[:, :5]
    np.testing.assert_allclose(long, short, rtol=1e-5, atol=1e-5)


def recurrent_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            yield layer.forward_layer
            yield layer.backward_layer
        elif isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            yield layer


@pytest.mark.parametrize("arch_name", ["lstm", "gru", "bilstm", "bigru", "attention"])
def test_default_lstm_gru_settings_are_cudnn_eligible(arch_name):
    inputs = keras.Input((None, FEATURES))
    kind = MANY_TO_ONE
    model = keras.Model(inputs, ARCHS[arch_name].build_encoder(inputs, SETTINGS, kind))
    layers = list(recurrent_layers(model))
    assert len(layers) >= 2  # two stacked layers (or both directions)
    for layer in layers:
        config = layer.get_config()
        assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
        assert config["recurrent_dropout"] == 0 and config["unroll"] is False
        assert config["use_bias"] is True
        if isinstance(layer, keras.layers.GRU):
            assert config["reset_after"] is True
    assert ARCHS[arch_name].fused_gpu_kernel


def test_recurrent_dropout_warns_that_it_disables_the_fused_kernel():
    from seqapps.layers import recurrent

    recurrent._warned_recurrent_dropout = False
    settings = EncoderSettings(units=4, recurrent_dropout=0.2)
    with pytest.warns(UserWarning, match="disables the fused cuDNN kernel"):
        ARCHS["lstm"].build_encoder(keras.Input((None, FEATURES)), settings, MANY_TO_ONE)


def test_esn_reservoir_is_fixed_and_has_the_chosen_spectral_radius():
    keras.utils.set_random_seed(0)
    settings = EncoderSettings(
        units=40, seed=5, options={"spectral_radius": 0.8, "sparsity": 0.8, "leak_rate": 0.3}
    )
    model = tiny_model(ARCHS["esn"], MANY_TO_ONE, settings)
    cell = model.get_layer("reservoir").cell
    before = {w.name: np.array(w.numpy()) for w in cell.weights}
    assert not cell.trainable_weights  # only the readout learns
    x, y = tiny_data(MANY_TO_ONE, np.random.default_rng(0))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for weight in cell.weights:
        np.testing.assert_array_equal(weight.numpy(), before[weight.name])
    radius = np.max(np.abs(np.linalg.eigvals(cell.recurrent_kernel.numpy())))
    assert abs(radius - 0.8) <= 0.008
    zero_share = np.mean(cell.recurrent_kernel.numpy() == 0)
    assert 0.7 < zero_share < 0.9


def test_seq2seq_greedy_decoding_learns_to_reverse():
    from seqapps.layers.seq2seq import greedy_decode

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    (source, decoder_in), target = tiny_data(SEQ2SEQ, rng)
    source = np.tile(source, (8, 1))
    decoder_in, target = np.tile(decoder_in, (8, 1)), np.tile(target, (8, 1))
    model = tiny_model(ARCHS["seq2seq"], SEQ2SEQ, EncoderSettings(units=32, seed=0))
    model.fit([source, decoder_in], target, epochs=30, batch_size=32, verbose=0)
    decoded = greedy_decode(model, source[:16], start_id=1, end_id=2, max_length=8)
    exact = np.mean([(row[:6] == want).all() for row, want in zip(decoded, target[:16])])
    assert exact >= 0.75, decoded[:4]


@pytest.mark.parametrize(
    "arch_name", ["rnn", "lstm", "gru", "bilstm", "bow", "conv1d", "transformer"]
)
def test_l1_l2_penalties_reach_the_encoder(arch_name):
    inputs = keras.Input((STEPS, FEATURES))
    plain = keras.Model(inputs, ARCHS[arch_name].build_encoder(inputs, SETTINGS, MANY_TO_ONE))
    assert not plain.losses
    penalised = EncoderSettings(units=8, layers=2, l1=1e-3, l2=1e-2)
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, ARCHS[arch_name].build_encoder(inputs, penalised, MANY_TO_ONE))
    assert model.losses and float(sum(keras.ops.convert_to_numpy(x) for x in model.losses)) > 0
