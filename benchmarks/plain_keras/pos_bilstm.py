"""A plain Keras BiLSTM tagger, as a practitioner would write it: the reference seqapps' POS
defaults are measured against (benchmarks/quality.py). Same files, same splits, no seqapps.

    python benchmarks/plain_keras/pos_bilstm.py TRAIN.conllu DEV.conllu TEST.conllu

Words lowercased, a vocabulary of the training words, sentences padded to the longest with
masking, Embedding(100) -> Bidirectional(LSTM(64)) -> softmax, Adam, 15 epochs with early
stopping on the validation loss. Prints one JSON line: token accuracy and accuracy on words
training never shows, over every test token.
"""

import json
import sys
import time

import keras
import numpy as np


def read_conllu(path):
    """(words, UPOS tags) per sentence; multiword-token and empty-node lines skipped."""
    sentences, words, tags = [], [], []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        if not line:
            if words:
                sentences.append((words, tags))
            words, tags = [], []
        elif not line.startswith("#"):
            columns = line.split("\t")
            if columns[0].isdigit():
                words.append(columns[1])
                tags.append(columns[3])
    if words:
        sentences.append((words, tags))
    return sentences


def encode(sentences, vocabulary, tag_index, length):
    x = np.zeros((len(sentences), length), "int32")
    y = np.zeros((len(sentences), length), "int32")
    for row, (words, tags) in enumerate(sentences):
        ids = [vocabulary.get(w.lower(), 1) for w in words][:length]
        x[row, : len(ids)] = ids
        y[row, : len(ids)] = [tag_index.get(t, 0) for t in tags][:length]
    return x, y


def main(train_path, dev_path, test_path):
    keras.utils.set_random_seed(42)
    train, dev, test = (read_conllu(p) for p in (train_path, dev_path, test_path))
    vocabulary = {}
    for words, _ in train:
        for w in words:
            vocabulary.setdefault(w.lower(), len(vocabulary) + 2)  # 0 pad, 1 unknown
    tags = sorted({t for _, ts in train for t in ts})
    tag_index = {t: i for i, t in enumerate(tags)}
    length = max(len(w) for w, _ in train + dev + test)
    (x, y), (xd, yd), (xt, _) = (
        encode(s, vocabulary, tag_index, length) for s in (train, dev, test)
    )

    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(len(vocabulary) + 2, 100, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
            keras.layers.Dense(len(tags), activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    started = time.time()
    stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    model.fit(x, y, validation_data=(xd, yd), epochs=15, batch_size=32, callbacks=[stop], verbose=2)
    seconds = time.time() - started

    predicted = model.predict(xt, batch_size=256, verbose=0).argmax(-1)
    right = unknown = unknown_right = total = 0
    for row, (words, gold) in enumerate(test):
        for i, (word, tag) in enumerate(zip(words, gold)):
            hit = tag in tag_index and predicted[row, i] == tag_index[tag]
            total += 1
            right += hit
            if word.lower() not in vocabulary:
                unknown += 1
                unknown_right += hit
    print(
        json.dumps(
            {
                "token_accuracy": right / total,
                "unknown_accuracy": unknown_right / unknown,
                "test_tokens": total,
                "train_seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
