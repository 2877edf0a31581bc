"""The attention weights of a translation: which source tokens each output token read."""

from __future__ import annotations

import numpy as np

from seqapps.api import PAD

#: Names the seq2seq arch gives its attention layer.
ATTENTION_LAYERS = ("luong_attention", "bahdanau_attention")


def attention_weights(task, model, texts: list[str], outputs: list[str]) -> list:
    """(source tokens, output tokens, weights[output, source]) of each text and its
    translation; empty when the model has no attention layer (``attention=none``)."""
    import keras

    from seqapps_translate import pairs as pair_io

    layer = next((x for x in model.layers if x.name in ATTENTION_LAYERS), None)
    if layer is None:
        return []
    reader = keras.Model(model.inputs, layer.input)  # what the layer reads: [queries, values]
    index = task.target_vocabulary.index
    found = []
    for text, translation in zip(texts, outputs, strict=True):
        source = pair_io.tokenize(task.cased(text), task.source_level)
        output = pair_io.tokenize(translation, task.target_level)
        source_ids = np.array([task.source_vocabulary.encode(source) or [PAD]], np.int32)
        target_ids = np.array([[index["<s>"], *task.target_vocabulary.encode(output)]], np.int32)
        queries, values = reader.predict_on_batch([source_ids, target_ids])
        _, scores = layer([queries, values], return_attention_scores=True)
        found.append((source, [*output, "</s>"], np.asarray(scores)[0]))
    return found
