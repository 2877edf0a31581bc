"""A plain Keras spoken-digit recognizer, the reference for seqapps' speech defaults
(benchmarks/quality.py): leave one speaker out on a Speech Commands-style folder such as
the Free Spoken Digit Dataset, no seqapps.

    python benchmarks/plain_keras/speech_bilstm.py FOLDER [--rate 8000]

Each clip padded or cut to one second, 40 log-mel bands per 10 ms frame (tf.signal),
standardized with the training clips' mean and variance, Bidirectional(LSTM(64)) -> softmax,
Adam, up to 40 epochs with early stopping on a tenth of the training clips. Each speaker is
held out in turn; prints one JSON line with the accuracy per held-out speaker and the mean.
"""

import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def clips(folder: Path, rate: int):
    """(waveform, word, speaker) of every <word>/<speaker>_nohash_<n>.wav."""
    found = []
    for path in sorted(folder.glob("*/*.wav")):
        audio, file_rate = tf.audio.decode_wav(tf.io.read_file(str(path)), desired_channels=1)
        assert int(file_rate) == rate, path
        wave = audio[:rate, 0].numpy()
        found.append(
            (np.pad(wave, (0, rate - len(wave))), path.parent.name, path.name.split("_")[0])
        )
    return found


def log_mel(waves: np.ndarray, rate: int) -> np.ndarray:
    frame, step = int(0.025 * rate), int(0.010 * rate)
    spectrum = tf.abs(tf.signal.stft(waves, frame, step, fft_length=256)) ** 2
    bands = tf.signal.linear_to_mel_weight_matrix(40, 129, rate, 20.0, rate / 2)
    return np.log(spectrum.numpy() @ bands.numpy() + 1e-6).astype("float32")


def held_out_accuracy(features, labels, train, test, seed=42) -> float:
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(train)
    cut = len(order) // 10
    validation, fit_on = order[:cut], order[cut:]
    mean, std = features[fit_on].mean((0, 1)), features[fit_on].std((0, 1)) + 1e-6
    scaled = (features - mean) / std
    model = keras.Sequential(
        [
            keras.Input(features.shape[1:]),
            keras.layers.Bidirectional(keras.layers.LSTM(64)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)
    model.fit(
        scaled[fit_on],
        labels[fit_on],
        validation_data=(scaled[validation], labels[validation]),
        epochs=40,
        batch_size=32,
        callbacks=[stop],
        verbose=0,
    )
    return float(model.evaluate(scaled[test], labels[test], verbose=0)[1])


def main(folder: str, rate: int = 8000):
    found = clips(Path(folder), rate)
    words = sorted({w for _, w, _ in found})
    labels = np.array([words.index(w) for _, w, _ in found])
    speakers = np.array([s for _, _, s in found])
    features = log_mel(np.stack([w for w, _, _ in found]), rate)
    started, scores = time.time(), {}
    for speaker in sorted(set(speakers)):
        test, train = np.flatnonzero(speakers == speaker), np.flatnonzero(speakers != speaker)
        scores[speaker] = held_out_accuracy(features, labels, train, test)
        print(f"{speaker}: {scores[speaker]:.4f}", file=sys.stderr)
    print(
        json.dumps(
            {
                "accuracy_by_speaker": scores,
                "mean_accuracy": float(np.mean(list(scores.values()))),
                "seconds": round(time.time() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(
        arguments[0],
        int(arguments[arguments.index("--rate") + 1]) if "--rate" in arguments else 8000,
    )
