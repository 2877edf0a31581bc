"""The Task contract every task plugin implements, and the records it exchanges with the core.

A task describes its data and its model head; the core owns the loop, the strategy and the
tracking. Importing this module does not import TensorFlow, so a task module that imports
TensorFlow only inside its methods can be listed by ``seqapps tasks`` in a fraction of a second.

Call order and instance lifecycle
---------------------------------
``seqapps run`` makes ONE instance per run and calls, in this order::

    arch_kind(config) -> truncated_bptt(config) -> load_data(config)
    -> batch / augment (building the input pipeline) -> build_model -> loss_and_metrics
    -> (fit, with validation_metrics after each epoch) -> report(model, data, config)
    -> export_model(model, data) -> export_metadata(data) -> example_table(data, metadata)

so what ``load_data`` learns (a vocabulary, a scaler, the raw test texts) may be kept on
``self`` and read by ``report``, ``export_model``, ``export_metadata`` and ``example_table``
of the same run. Everything ``predict``, ``evaluate``, ``inputs_from_table`` and
``write_predictions`` need must go into ``export_metadata``: they run on a FRESH instance
(``seqapps predict``, ``evaluate``, ``serve``, the logged MLflow Model), in another process,
that has seen no ``load_data``. Class attributes describe the task without importing
TensorFlow.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from seqapps.exceptions import PluginLoadError, UserInputError
from seqapps.options import Option

if TYPE_CHECKING:
    from pathlib import Path

    import keras
    import pandas
    import tensorflow as tf

    from seqapps.archs import Arch
    from seqapps.config import RunConfig

#: The version of the plugin API (``seqapps.api``): the minor number grows with additions,
#: the major one with changes that can break a plugin. A Task declares what it supports in
#: ``Task.api_version`` (a version specifier such as ">=2.0,<3").
API_VERSION = "2.0"

#: What a task does with a sequence; each kind needs one arch kind (seqapps.archs.ARCH_KINDS).
TASK_KINDS = ("classify", "tag", "forecast", "generate", "transcribe")

#: The three splits every task provides, in this order.
SPLITS = ("train", "validation", "test")

ARCH_KIND_FOR_TASK_KIND = {
    "classify": "many-to-one",
    "tag": "tagging",
    "forecast": "forecasting",
    "generate": "generation",
    "transcribe": "sequence-to-sequence",
}


@dataclass
class Spec:
    """What the model builder needs to know about the data (sizes, classes, shapes)."""

    classes: list[str] = field(default_factory=list)
    vocabulary_size: int | None = None
    sequence_length: int | None = None
    features: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataBundle:
    """Unbatched train/validation/test datasets of (inputs, targets) plus their description."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    spec: Spec
    source: str
    fingerprint: str
    sizes: dict[str, int]

    @classmethod
    def from_splits(
        cls,
        datasets: Mapping[str, tf.data.Dataset],
        spec: Spec,
        source: str,
        fingerprint: str,
        sizes: Mapping[str, int],
    ) -> DataBundle:
        """A bundle from {"train": ..., "validation": ..., "test": ...} and their sizes.

        ``sizes`` holds each split's example count under the split's name, plus any other
        counts worth logging (e.g. ``test_tokens``); every one becomes a ``data.*`` param.
        """
        missing = [split for split in SPLITS if split not in datasets or split not in sizes]
        if missing:
            raise ValueError(f"DataBundle.from_splits: no {missing[0]} split or size")
        return cls(*(datasets[split] for split in SPLITS), spec, source, fingerprint, dict(sizes))


@dataclass
class Report:
    """What a task adds after evaluation: metrics, figures (matplotlib), text and binary files."""

    metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    #: Binary artifacts by relative path, e.g. {"samples/generated.mid": b"MThd..."}.
    files: dict[str, bytes] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)


class Task(abc.ABC):
    """Base class of every task plugin, registered in the ``seqapps.tasks`` entry-point group.

    Class attributes describe the task without importing TensorFlow; methods do the work.
    """

    #: Registered name (the entry-point name must match it).
    name: ClassVar[str]
    #: The plugin API versions this task works with, e.g. ">=2.0,<3"; empty = any.
    api_version: ClassVar[str] = ""
    #: One line shown by ``seqapps tasks``.
    summary: ClassVar[str]
    #: One of TASK_KINDS.
    kind: ClassVar[str]
    #: Architecture used when --arch is not given.
    default_arch: ClassVar[str]
    #: Human-readable forms accepted by --data, e.g. ("sample", "PATH.csv", "tfds:imdb_reviews").
    data_sources: ClassVar[tuple[str, ...]] = ("sample",)
    #: Task options settable with --set key=value: ``Option(default, help, choices)``. The
    #: core parses and checks them; the task reads typed values from ``config.options``.
    options: ClassVar[dict[str, Option]] = {}
    #: Overrides of RunConfig defaults that suit this task (e.g. {"epochs": 15}).
    defaults: ClassVar[dict[str, Any]] = {}
    #: Test metrics shown in the CLI summary (all are logged); empty = every test metric.
    #: The first one a run logged is its headline: ``compare`` and pipeline leaderboards
    #: rank by it (a task with modes lists each mode's headline, in order of preference).
    headline_metrics: ClassVar[tuple[str, ...]] = ()
    #: "max" or "min" per metric name without its split prefix (e.g. {"cer": "min"}); a
    #: metric not declared is guessed from its name (loss, error, rmse, ... are minimized).
    metric_goals: ClassVar[dict[str, str]] = {}
    #: What early stopping and the best epoch watch unless --monitor says otherwise: a
    #: Keras log key (val_loss, val_accuracy) or a val_ metric of ``validation_metrics``.
    monitor: ClassVar[str] = "val_loss"
    #: Options of ``seqapps predict`` (``--set key=value``; generation tasks also get
    #: --length, --temperature and --seed), as ``Option``s. A task that declares any
    #: receives them, parsed, as keyword arguments of ``predict``.
    predict_options: ClassVar[dict[str, Option]] = {}
    #: How ``--folds K`` holds out each fold ("stratified by label", "grouped by speaker");
    #: None: the task cannot be cross-validated and ``--folds`` is refused in one line
    #: saying ``no_folds_because``. A task that sets it reads ``config.folds`` and
    #: ``config.fold`` (1..folds) when it splits, e.g. with ``split_indices(folds=, fold=)``.
    cross_validation: ClassVar[str | None] = None
    no_folds_because: ClassVar[str] = "it does not split its data into folds"

    @classmethod
    def arch_kind(cls, config: RunConfig | None = None) -> str:
        """The architecture kind a run needs (seqapps.archs.ARCH_KINDS).

        Without ``config``, the kind of the task's default mode (what ``seqapps tasks``
        shows); a task whose options change the model's shape (e.g. a CTC mode) overrides
        this to answer for ``config``.
        """
        return ARCH_KIND_FOR_TASK_KIND[cls.kind]

    @abc.abstractmethod
    def load_data(self, config: RunConfig) -> DataBundle:
        """Read the source named by ``config.data`` into unbatched splits and a Spec."""

    def truncated_bptt(self, config: RunConfig) -> int | None:
        """Chunk length when this run trains statefully over chunks of one long sequence.

        A task that opts in returns the chunk length and arranges its training split with
        ``seqapps.data.chunking.parallel_streams``; the core then keeps batch order, uses a
        fixed batch size, and resets recurrent state at the start of every epoch.
        """
        return None

    def augment(self, batches: tf.data.Dataset, seed: Any) -> tf.data.Dataset:
        """Training-only, per-epoch transformations (augmentation, random crops) of batches.

        The core applies this to each epoch of the training split after caching, shuffling
        and ``batch``: work on whole batches, which vectorizes (one op per batch, not per
        example). The result must match the evaluation splits' batches. ``seed`` (an int64
        scalar tensor) differs per epoch and is a function of the run's seed and the epoch,
        so a resumed run draws what it would have drawn: seed stateless random ops with it
        (e.g. ``tf.random.stateless_uniform``).
        """
        return batches

    def batch(self, dataset: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
        """Group examples into batches; tasks with ragged inputs pad or bucket here."""
        return dataset.batch(batch_size)

    @abc.abstractmethod
    def build_model(self, spec: Spec, arch: Arch, config: RunConfig) -> keras.Model:
        """Build the trainable model: input adapter + the arch's encoder + this task's head."""

    @abc.abstractmethod
    def loss_and_metrics(self, spec: Spec) -> tuple[Any, list[Any]]:
        """The Keras loss and the metrics to compile with."""

    def validation_metrics(self, model: keras.Model) -> dict[str, float]:
        """Metrics Keras cannot compute, on the validation split, after every epoch.

        Named without prefix (``{"entity_f1": 0.91}``); they are logged as ``val_<name>``
        and can be monitored (``--monitor val_entity_f1``). Called on the instance that
        ran ``load_data``. The default computes none, and costs nothing.
        """
        return {}

    def report(self, model: keras.Model, data: DataBundle, config: RunConfig) -> Report:
        """Metrics beyond Keras' own, figures and samples, computed on the test split."""
        return Report()

    @abc.abstractmethod
    def export_model(self, model: keras.Model, data: DataBundle) -> keras.Model:
        """The model that is logged: it takes raw user input (e.g. strings)."""

    def export_metadata(self, data: DataBundle) -> dict[str, Any]:
        """JSON-serializable facts ``predict`` needs besides the model (e.g. class names)."""
        return {"classes": data.spec.classes}

    def serving_columns(self, metadata: dict[str, Any]) -> dict[str, str]:
        """Columns of the table the logged MLflow Model takes, with their MLflow types.

        The default is one ``input`` column of the strings ``seqapps predict`` takes.
        """
        return {"input": "string"}

    def inputs_from_table(
        self, table: pandas.DataFrame, metadata: dict[str, Any], scratch: Path
    ) -> list[str]:
        """Turn the table a served model receives into ``predict``'s raw inputs.

        ``scratch`` is a temporary folder for inputs that ``predict`` reads as files (WAV
        bytes, price tables); it is removed after ``predict`` returns.
        """
        column = next(iter(self.serving_columns(metadata)))
        if column not in table.columns:
            raise UserInputError(
                f"the model takes a table with column {column!r}; got columns "
                + ", ".join(map(str, table.columns))
            )
        return [str(value) for value in table[column]]

    def example_table(self, data: DataBundle, metadata: dict[str, Any]) -> dict[str, list]:
        """A small raw input, as a table of ``serving_columns``, logged as the model's example."""
        return {}

    @abc.abstractmethod
    def predict(
        self, model: keras.Model, metadata: dict[str, Any], inputs: list[str]
    ) -> list[dict[str, Any]]:
        """Run the exported model on raw inputs; one dict of readable fields per input.

        A task with ``predict_options`` takes them as extra keyword arguments. A generation
        task may get no inputs at all (then it composes from scratch).
        """

    def write_predictions(self, rows: list[dict[str, Any]], path: Path) -> None:
        """Write ``predict``'s rows to ``path`` (``seqapps predict --output``).

        The default writes one JSON object per line; a task overrides it for its own file
        formats (CoNLL-U, MIDI, ...), choosing by the file's suffix.
        """
        import json

        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    def evaluate(
        self, model: keras.Model, metadata: dict[str, Any], source: str, options: dict[str, Any]
    ) -> Report:
        """Score the logged (exported) model on new labelled data (``seqapps evaluate``).

        ``source`` is what ``--data`` names; ``options`` are ``--set`` values as text.
        Metrics are named as the run's test metrics, without the ``test_`` prefix.
        """
        raise UserInputError(f"task {self.name!r} does not support `seqapps evaluate`")


def check_task_class(obj: Any, entry_name: str, distribution: str) -> type[Task]:
    """Make sure an entry point gave a usable Task subclass whose name matches its entry."""

    def broken(reason: str) -> PluginLoadError:
        return PluginLoadError(entry_name, distribution, reason)

    if not (isinstance(obj, type) and issubclass(obj, Task)):
        raise broken("entry point is not a seqapps Task class")
    missing = [a for a in ("name", "summary", "kind", "default_arch") if not hasattr(obj, a)]
    if missing:
        raise broken(f"Task class lacks {', '.join(missing)}{_defined_at(obj)}")
    if getattr(obj, "__abstractmethods__", None):
        methods = ", ".join(sorted(obj.__abstractmethods__))
        raise broken(f"{obj.__name__} does not implement {methods}{_defined_at(obj)}")
    if obj.kind not in TASK_KINDS:
        raise broken(f"kind {obj.kind!r} is not one of {', '.join(TASK_KINDS)}")
    if obj.name != entry_name:
        raise broken(f"entry point name {entry_name!r} differs from Task.name {obj.name!r}")
    if not supports_api(obj.api_version):
        raise broken(
            f"it needs the seqapps plugin API {obj.api_version}, this seqapps has "
            f"{API_VERSION}; install a release of {distribution} made for API {API_VERSION}"
        )
    return obj


def supports_api(specifier: str) -> bool:
    """Whether this seqapps' API_VERSION is in a plugin's ``api_version`` range."""
    if not specifier.strip():
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return API_VERSION in SpecifierSet(specifier)
    except InvalidSpecifier:
        return False


def _defined_at(cls: type) -> str:
    import inspect

    try:
        return f" (at {inspect.getsourcefile(cls)}:{inspect.getsourcelines(cls)[1]})"
    except (OSError, TypeError):
        return ""
