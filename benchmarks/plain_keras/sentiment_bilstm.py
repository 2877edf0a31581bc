"""A plain Keras BiLSTM text classifier, as a practitioner would write it: the reference
seqapps' sentiment default is measured against (benchmarks/long_texts.py). Same split
files, no seqapps.

    python benchmarks/plain_keras/sentiment_bilstm.py TRAIN.csv VALIDATION.csv TEST.csv

Each file has text,label columns. TextVectorization (20,000 words, lowercased, punctuation
stripped, the first 400 tokens) -> Embedding(64, masked) -> Bidirectional(LSTM(64)) ->
softmax, Adam, up to 15 epochs with early stopping on the validation loss (patience 3, best
weights kept). Prints one JSON line: test accuracy and training seconds.
"""

import csv
import json
import sys
import time

import keras
import numpy as np


def read(path):
    """Texts and labels of a text,label CSV (an e-mail body can exceed csv's 128 KB field)."""
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["label"] for row in rows]


def main(train_path, validation_path, test_path):
    keras.utils.set_random_seed(42)
    (texts, labels), (texts_v, labels_v), (texts_t, labels_t) = (
        read(p) for p in (train_path, validation_path, test_path)
    )
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    vectorize = keras.layers.TextVectorization(max_tokens=20000, output_sequence_length=400)
    vectorize.adapt(texts)
    x, x_v, x_t = (vectorize(np.array(t)) for t in (texts, texts_v, texts_t))
    y, y_v = (np.array([index[c] for c in ls]) for ls in (labels, labels_v))

    model = keras.Sequential(
        [
            keras.Input((400,), dtype="int64"),
            keras.layers.Embedding(20000, 64, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(64)),
            keras.layers.Dense(len(classes), activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.time()
    stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    model.fit(
        x, y, validation_data=(x_v, y_v), epochs=15, batch_size=32, callbacks=[stop], verbose=2
    )
    seconds = time.time() - started
    predicted = model.predict(x_t, batch_size=128, verbose=0).argmax(-1)
    accuracy = float(np.mean([classes[p] == c for p, c in zip(predicted, labels_t)]))
    print(json.dumps({"test_accuracy": accuracy, "test_texts": len(labels_t), "seconds": seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
