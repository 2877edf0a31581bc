"""RunConfig: every setting of one run, resolved from defaults, the task, --config and flags.

Precedence, lowest first: RunConfig defaults, the task's ``defaults``, the --config YAML
file, command-line flags, then ``--set key=value`` task options. The resolved config is
validated here, before any data is read or any run is opened, and is logged in full.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqapps.distribute import STRATEGIES
from seqapps.exceptions import ConfigError
from seqapps.options import parse_all, parse_bool

#: Learning-rate schedules of `--lr-schedule`.
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class RunConfig:
    """All settings of one run (flags of `seqapps run`, keys of a --config file)."""

    task: str
    arch: str | None = None
    data: str = "sample"
    data_dir: str | None = None
    epochs: int = 10
    batch_size: int = 32
    units: int = 64
    layers: int = 1
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    learning_rate: float = 1e-3
    #: "constant", or "cosine": the rate falls along a half cosine over all the run's steps.
    lr_schedule: str = "constant"
    clip_norm: float = 1.0
    clip_value: float = 0.0
    patience: int = 3
    #: The validation metric early stopping and the best epoch watch; None = the task's.
    monitor: str | None = None
    seed: int = 42
    max_samples: int | None = None
    #: Cross-validation: ``folds`` K > 1 splits the data into K folds and this run tests
    #: on fold ``fold`` (1..K); `seqapps run --folds K` runs every fold under a parent run.
    folds: int = 0
    fold: int = 0
    experiment: str | None = None
    tracking_uri: str | None = None
    run_name: str | None = None
    register_model: str | None = None
    output_dir: str | None = None
    verbose: int = 1
    strategy: str = "auto"
    devices: str | None = None
    jit_compile: bool = False
    steps_per_execution: int = 1
    mixed_precision: bool = False
    checkpoint_interval: float = 30.0
    options: dict[str, Any] = field(default_factory=dict)

    def as_params(self) -> dict[str, str]:
        """Flat string params for MLflow: every field, task options as ``option.<key>``."""
        params = {}
        for item in dataclasses.fields(self):
            if item.name == "options":
                continue
            params[item.name] = _param_text(getattr(self, item.name))
        for key, value in sorted(self.options.items()):
            params[f"option.{key}"] = _param_text(value)
        return params

    def to_yaml(self) -> str:
        """The resolved config as a YAML document that --config accepts back."""
        import yaml

        return yaml.safe_dump(dataclasses.asdict(self), sort_keys=False)


def _param_text(value: Any) -> str:
    return "" if value is None else str(value)


FIELD_NAMES = [f.name for f in dataclasses.fields(RunConfig)]
#: Keys a --config file may set (the task is named on the command line or in the file).
FILE_KEYS = sorted(FIELD_NAMES)
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig) if f.name != "options"}


def default_of(name: str) -> Any:
    """The built-in default of a RunConfig field (for --help texts)."""
    return _DEFAULTS[name]


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a --config YAML mapping; keys may use dashes or underscores."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"config file {path}: invalid YAML{where}: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"config file {path}: expected a mapping of settings, got {type(loaded).__name__}"
        )
    return normalize_keys(loaded, f"config file {path}")


def normalize_keys(values: dict[Any, Any], source: str) -> dict[str, Any]:
    """Settings keyed by RunConfig field names (dashes accepted); unknown keys are errors."""
    normalized = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in FIELD_NAMES:
            raise ConfigError(f"{source}: unknown key {key!r}; allowed: {', '.join(FILE_KEYS)}")
        normalized[name] = value
    if "options" in normalized and not isinstance(normalized["options"], dict):
        raise ConfigError(f"{source}: 'options' must be a mapping of task options")
    return normalized


def parse_set_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Split repeated ``--set key=value`` strings into a dict (values still text)."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected key=value")
        result[key.strip()] = value.strip()
    return result


def resolve_options(task_cls, given: dict[str, Any], arch=None) -> dict[str, Any]:
    """Task options, then the arch's options, parsed and checked, with defaults filled in.

    An unknown key is an error listing every key the task and the arch accept. A key both
    declare goes to the task (arch option names are chosen to avoid that).
    """
    known = dict(arch.options) if arch is not None else {}
    known.update(task_cls.options)
    owner = f"task {task_cls.name!r}" + (f" and arch {arch.name!r}" if arch else "")
    return parse_all(known, given, owner)


_TYPES = {
    "epochs": int,
    "batch_size": int,
    "units": int,
    "layers": int,
    "patience": int,
    "seed": int,
    "max_samples": int,
    "folds": int,
    "fold": int,
    "verbose": int,
    "dropout": float,
    "recurrent_dropout": float,
    "l1": float,
    "l2": float,
    "learning_rate": float,
    "clip_norm": float,
    "clip_value": float,
    "steps_per_execution": int,
    "checkpoint_interval": float,
    "jit_compile": bool,
    "mixed_precision": bool,
}


def _coerce_field(name: str, value: Any, source: str) -> Any:
    wanted = _TYPES.get(name)
    if value is None or wanted is None:
        return None if value is None else (str(value) if name not in ("options",) else value)
    try:
        if wanted is bool:
            return value if isinstance(value, bool) else parse_bool(value)
        if isinstance(value, bool):
            raise ValueError
        return wanted(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name} must be {wanted.__name__}, got {value!r}") from None


def _check_ranges(config: RunConfig) -> None:
    rules = [
        ("epochs", config.epochs >= 1, "at least 1"),
        ("batch_size", config.batch_size >= 1, "at least 1"),
        ("units", config.units >= 1, "at least 1"),
        ("layers", config.layers >= 1, "at least 1"),
        ("dropout", 0.0 <= config.dropout < 1.0, "in [0, 1)"),
        ("recurrent_dropout", 0.0 <= config.recurrent_dropout < 1.0, "in [0, 1)"),
        ("l1", config.l1 >= 0, "0 (off) or more"),
        ("l2", config.l2 >= 0, "0 (off) or more"),
        ("clip_value", config.clip_value >= 0, "0 (off) or more"),
        ("learning_rate", config.learning_rate > 0, "greater than 0"),
        ("clip_norm", config.clip_norm >= 0, "0 (off) or more"),
        ("lr_schedule", config.lr_schedule in LR_SCHEDULES, " or ".join(LR_SCHEDULES)),
        ("patience", config.patience >= 0, "0 (off) or more"),
        ("monitor", config.monitor.startswith(("val_", "train_")), "a val_ or train_ metric"),
        ("max_samples", config.max_samples is None or config.max_samples >= 1, "at least 1"),
        ("folds", config.folds == 0 or config.folds >= 2, "0 (no folds) or at least 2"),
        ("fold", 0 <= config.fold <= config.folds, f"between 1 and --folds ({config.folds})"),
        ("verbose", config.verbose in (0, 1, 2), "0, 1 or 2"),
        ("steps_per_execution", config.steps_per_execution >= 1, "at least 1"),
        ("checkpoint_interval", config.checkpoint_interval >= 0, "0 (every epoch) or more"),
        ("strategy", config.strategy in STRATEGIES, ", ".join(STRATEGIES)),
    ]
    for name, ok, expected in rules:
        if not ok:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be {expected}, got {getattr(config, name)!r}")


def absolute_data_path(data: str) -> str:
    """A --data naming a local file or folder, made absolute (the run records it, and a
    resume from another folder must find it); "sample", tfds:NAME and the like as given."""
    if data == "sample" or ":" in data.split("/", 1)[0]:
        return data
    path = Path(data).expanduser()
    return str(path.resolve()) if path.exists() else data


def resolve(
    task_cls,
    flags: dict[str, Any],
    file_values: dict[str, Any] | None = None,
    set_values: dict[str, Any] | None = None,
    file_name: str = "--config",
    load_arch=None,
) -> RunConfig:
    """Merge defaults, task defaults, file values and flags into one validated RunConfig.

    ``load_arch(name)`` returns the chosen Arch so its options are accepted by --set.
    """
    merged: dict[str, Any] = {"arch": task_cls.default_arch}
    merged.update(task_cls.defaults)
    file_values = normalize_keys(file_values or {}, f"config file {file_name}")
    file_options = file_values.pop("options", None) or {}
    file_values.pop("task", None)
    for name, value in file_values.items():
        merged[name] = _coerce_field(name, value, f"config file {file_name}")
    for name, value in flags.items():
        if value is not None:
            merged[name] = _coerce_field(name, value, "--" + name.replace("_", "-"))
    options = {**file_options, **(set_values or {})}
    arch = load_arch(merged["arch"]) if load_arch else None
    merged["monitor"] = merged.get("monitor") or task_cls.monitor
    config = RunConfig(
        task=task_cls.name, **merged, options=resolve_options(task_cls, options, arch)
    )
    _check_ranges(config)
    if config.folds and getattr(task_cls, "cross_validation", None) is None:
        because = getattr(task_cls, "no_folds_because", "it does not split into folds")
        raise ConfigError(
            f"--folds {config.folds}: the {task_cls.name} task cannot be cross-validated: "
            f"{because}; --repeats N averages over seeds instead"
        )
    return config


def identity(config: RunConfig, ignored: set[str] | frozenset[str] = frozenset()) -> str:
    """A short stable hash of what a run trains (every setting but ``ignored``)."""
    import hashlib
    import json

    values = {k: v for k, v in config.as_params().items() if k not in ignored}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def experiment_name(explicit: str | None, task: str) -> str:
    """--experiment (or the config file's), else MLFLOW_EXPERIMENT_NAME as MLflow's own
    tools read it, else the task's name."""
    return explicit or os.environ.get("MLFLOW_EXPERIMENT_NAME") or task
