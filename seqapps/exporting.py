"""Export a logged model to SavedModel, TFLite or ONNX, reload it, and compare its outputs.

A model that takes raw strings (a text vectorizer in front) keeps that front in a
SavedModel, which TF Serving runs as is. TFLite and ONNX have no string ops worth using, so
there the front is split off: the numeric model is converted and the front's settings (and
vocabulary) are written beside it for the caller to apply. Every export is loaded back and
its outputs compared with Keras' on the run's saved test examples, within ``TOLERANCE``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqapps.exceptions import UserInputError

FORMATS = ("saved_model", "tflite", "onnx")
#: Largest absolute difference accepted between the export's outputs and Keras' (float32).
TOLERANCE = 1e-4
EXAMPLES_FILE = "examples.npz"


class ExportError(UserInputError):
    """A model that cannot be exported to the asked format, with the reason in one line."""


@dataclass
class ExportResult:
    """What was written and how closely the reloaded export matches Keras."""

    format: str
    files: list[str]
    compared_on: str
    max_difference: float
    notes: list[str] = field(default_factory=list)


def save_examples(model: Any, dataset: Any, folder: Path, count: int = 16) -> None:
    """Keep up to ``count`` test inputs of the trained model (exports are compared on them)."""
    for inputs, *_ in dataset.take(1):
        if isinstance(inputs, dict):
            arrays = {f"input:{k}": np.asarray(v)[:count] for k, v in inputs.items()}
        elif isinstance(inputs, (tuple, list)):
            arrays = {f"input:{i}": np.asarray(v)[:count] for i, v in enumerate(inputs)}
        else:
            arrays = {"input": np.asarray(inputs)[:count]}
        np.savez(folder / EXAMPLES_FILE, **arrays)


def _load_examples(folder: Path) -> Any:
    path = folder / EXAMPLES_FILE
    if not path.is_file():
        return None
    with np.load(path) as saved:
        keys = sorted(saved.files)
        if keys == ["input"]:
            return saved["input"]
        if all(k.split(":", 1)[1].isdigit() for k in keys):
            return [saved[k] for k in sorted(keys, key=lambda k: int(k.split(":", 1)[1]))]
        return {k.split(":", 1)[1]: saved[k] for k in keys}


def split_front(model: Any) -> tuple[list[Any], Any]:
    """(front layers, inner model) when ``model`` is input -> preprocessing -> a nested model."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    nested = [layer for layer in layers if isinstance(layer, keras.Model)]
    if len(nested) == 1 and layers[-1] is nested[0]:
        return layers[:-1], nested[0]
    return [], model


def _takes_strings(model: Any) -> bool:
    return any("string" in str(tensor.dtype) for tensor in model.inputs)


def _write_front(front: list[Any], out: Path) -> list[str]:
    """The split-off preprocessing: each layer's config and vocabulary, for the caller."""
    written, described = [], []
    for layer in front:
        config = layer.get_config()
        if hasattr(layer, "get_vocabulary"):
            vocabulary = out / "vocabulary.txt"
            vocabulary.write_text("\n".join(map(str, layer.get_vocabulary())) + "\n", "utf-8")
            written.append(vocabulary.name)
            config.pop("vocabulary", None)
        described.append({"class": type(layer).__name__, "config": config})
    path = out / "preprocessing.json"
    path.write_text(json.dumps(described, indent=2, default=str), encoding="utf-8")
    return [path.name, *written]


def _as_model_dtypes(model: Any, examples: Any) -> Any:
    dtypes = [str(tensor.dtype).replace("tf.", "") for tensor in model.inputs]
    if isinstance(examples, dict):
        names = [tensor.name.split(":")[0] for tensor in model.inputs]
        kinds = dict(zip(names, dtypes))
        return {k: v.astype(kinds.get(k, v.dtype)) for k, v in examples.items()}
    if isinstance(examples, list):
        return [v.astype(d) for v, d in zip(examples, dtypes)]
    return examples.astype(dtypes[0])


def _comparison_inputs(model: Any, front: list[Any], examples: Any) -> tuple[Any, str]:
    """Inputs for the model that is converted: the saved test examples where they fit."""
    if examples is not None and (front or not _takes_strings(model)):
        count = len(examples if not isinstance(examples, dict) else next(iter(examples.values())))
        return _as_model_dtypes(model, examples), f"{count} test examples"
    rng = np.random.default_rng(0)
    shapes = [(8, *(d or 16 for d in tensor.shape[1:])) for tensor in model.inputs]
    arrays = [rng.normal(0, 0.1, shape).astype("float32") for shape in shapes]
    return (arrays[0] if len(arrays) == 1 else arrays), "8 random inputs"


def _full_model_inputs(model: Any, front: list[Any], examples: Any) -> tuple[Any, str]:
    """Raw inputs for a model with its front kept: test examples turned back into text."""
    vectorizer = next((layer for layer in front if hasattr(layer, "get_vocabulary")), None)
    if vectorizer is not None and examples is not None and not isinstance(examples, (list, dict)):
        vocabulary = vectorizer.get_vocabulary()
        texts = [" ".join(vocabulary[i] for i in row if i > 1) for row in np.asarray(examples)]
        strings = np.array([[text] for text in texts], dtype=object)
        return strings, f"{len(texts)} test examples (as text)"
    return _comparison_inputs(model, [], None if front else examples)


def _difference(expected: Any, got: Any) -> float:
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    return max(
        float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
        for a, b in zip(expected, got)
    )


def _flat(inputs: Any) -> list[Any]:
    if isinstance(inputs, dict):
        return list(inputs.values())
    return list(inputs) if isinstance(inputs, list) else [inputs]


def _export_saved_model(model: Any, inputs: Any, out: Path) -> float:
    import tensorflow as tf

    model.export(str(out), format="tf_saved_model", verbose=False)
    reloaded = tf.saved_model.load(str(out))
    tensors = [tf.constant(x) for x in _flat(inputs)]
    got = reloaded.serve(*tensors)
    expected = model.predict(tensors[0] if len(tensors) == 1 else tensors, verbose=0)
    return _difference(expected, np.asarray(got))


def _frozen_single_example_function(model: Any, inputs: Any):
    """The model as a graph with its weights as constants and a static (1, ...) input shape.

    TFLite lowers recurrent loops to builtin ops only with static shapes, and its Python
    interpreter cannot read resource variables, so both are fixed here.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    signature = [
        tf.TensorSpec((1, *value.shape[1:]), tensor.dtype, name=f"input_{i}")
        for i, (tensor, value) in enumerate(zip(model.inputs, _flat(inputs)))
    ]
    function = tf.function(lambda *args: model(list(args) if len(args) > 1 else args[0]))
    return convert_variables_to_constants_v2(function.get_concrete_function(*signature))


def _export_tflite(model: Any, inputs: Any, out: Path) -> tuple[float, list[str]]:
    import tensorflow as tf

    frozen = _frozen_single_example_function(model, inputs)
    try:
        flat = tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExportError(
            "--format tflite: the model needs TensorFlow ops outside TFLite's builtins "
            f"(SELECT_TF_OPS), which cannot be verified here ({reason}); export "
            "--format saved_model instead"
        ) from None
    interpreter = tf.lite.Interpreter(model_content=flat)
    details = sorted(interpreter.get_input_details(), key=lambda d: d["name"])
    flat_inputs = _flat(inputs)
    outputs = []
    for row in range(len(flat_inputs[0])):
        interpreter.allocate_tensors()
        for detail, value in zip(details, flat_inputs):
            interpreter.set_tensor(detail["index"], value[row : row + 1].astype(detail["dtype"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
    (out / "model.tflite").write_bytes(flat)
    shape = ", ".join(str(tuple(v.shape[1:])) for v in flat_inputs)
    notes = [f"fixed input shape: one example of {shape} per call"]
    return _difference(model.predict(inputs, verbose=0), np.stack(outputs)), notes


def _export_onnx(model: Any, inputs: Any, out: Path) -> float:
    try:
        import onnxruntime
        import tf2onnx
    except ImportError:
        raise ExportError(
            "--format onnx needs tf2onnx and onnxruntime: pip install 'seqapps[export]'"
        ) from None
    import tensorflow as tf

    signature = [
        tf.TensorSpec((None, *tensor.shape[1:]), tensor.dtype, name=f"input_{i}")
        for i, tensor in enumerate(model.inputs)
    ]
    function = tf.function(lambda *args: model(list(args) if len(args) > 1 else args[0]))
    proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=17)
    (out / "model.onnx").write_bytes(proto.SerializeToString())
    session = onnxruntime.InferenceSession(proto.SerializeToString())
    feeds = {f"input_{i}": value for i, value in enumerate(_flat(inputs))}
    return _difference(model.predict(inputs, verbose=0), session.run(None, feeds)[0])


def export(keras_model: Any, folder: Path, form: str, out: Path) -> ExportResult:
    """Write ``keras_model`` (from ``folder``) in format ``form`` to the new folder ``out``."""
    if form not in FORMATS:
        raise ExportError(f"--format {form}: expected one of {', '.join(FORMATS)}")
    examples = _load_examples(folder)
    front, inner = split_front(keras_model)
    notes: list[str] = []
    out.mkdir(parents=True)
    try:
        if form == "saved_model":
            inputs, compared_on = _full_model_inputs(keras_model, front, examples)
            difference = _export_saved_model(keras_model, inputs, out)
            files = ["saved_model.pb", "variables/"]
        else:
            target = keras_model
            files = []
            if _takes_strings(keras_model):
                if not front:
                    raise ExportError(
                        f"--format {form}: the model takes strings and has no preprocessing "
                        "front to split off; export --format saved_model instead"
                    )
                target = inner
                files += _write_front(front, out)
                notes.append(
                    "string preprocessing split off: apply preprocessing.json and "
                    "vocabulary.txt to get the model's token ids"
                )
            inputs, compared_on = _comparison_inputs(target, front, examples)
            if form == "tflite":
                difference, more = _export_tflite(target, inputs, out)
                notes += more
                files.insert(0, "model.tflite")
            else:
                difference = _export_onnx(target, inputs, out)
                files.insert(0, "model.onnx")
    except ExportError:
        shutil.rmtree(out, ignore_errors=True)
        raise
    except Exception as error:  # converters raise many types; nothing half-written stays
        shutil.rmtree(out, ignore_errors=True)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExportError(
            f"--format {form}: this model does not convert ({type(error).__name__}: {reason})"
        ) from None
    if difference > TOLERANCE:
        shutil.rmtree(out, ignore_errors=True)
        raise ExportError(
            f"--format {form}: the reloaded export differs from Keras by {difference:.2e} "
            f"(more than {TOLERANCE:g}); nothing written"
        )
    return ExportResult(form, files, compared_on, difference, notes)
