"""The search space of `seqapps tune`: ``--search NAME=SPEC`` or a pipeline file's ``search:``.

    --search units=16..256:log     an integer range, sampled on a log scale
    --search dropout=0..0.5        a float range (a bound with a point makes it float)
    --search arch=lstm,gru,bilstm  choices (each typed as YAML types it: 2 -> int)

NAME is any run setting (units, learning_rate, arch, ...), task option or arch option; the
study checks every name and both ends of every range against the task before it trains.
No Optuna import here: the CLI parses a space before anything heavy loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from seqapps.exceptions import ConfigError

_RANGE = re.compile(r"^\s*([^.\s][^\s]*?)\s*\.\.\s*([^:\s]+)\s*(?::\s*(\w+))?\s*$")
#: Settings that say where a run is logged or how it prints, not what it learns.
NOT_SEARCHABLE = (
    "task",
    "data",
    "data_dir",
    "experiment",
    "tracking_uri",
    "run_name",
    "register_model",
    "output_dir",
    "verbose",
    "strategy",
    "devices",
    "monitor",
    "checkpoint_interval",
    "options",
)


@dataclass(frozen=True)
class Dimension:
    """One searched setting: a range (int or float, maybe on a log scale) or choices."""

    name: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] = ()

    def suggest(self, trial) -> Any:
        """This dimension's value for an Optuna trial."""
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def corners(self) -> list[Any]:
        """The values a check must accept: both ends of a range, every choice."""
        return list(self.choices) if self.choices else [self.low, self.high]

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in this dimension (the defaults' trial must)."""
        if self.choices:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and int(value) != value:
            return False
        return self.low <= value <= self.high

    def describe(self) -> str:
        """The spec as typed: ``units=16..256:log``."""
        if self.choices:
            return f"{self.name}=" + ",".join(str(c) for c in self.choices)
        return f"{self.name}={self.low}..{self.high}" + (":log" if self.log else "")


def _number(text: str) -> int | float | None:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return None


def _scalar(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_spec(name: str, spec: Any, source: str = "--search") -> Dimension:
    """One dimension from NAME and its SPEC (text, or a YAML list of choices)."""
    name = str(name).strip().replace("-", "_")
    where = f"{source} {name}"
    if not name:
        raise ConfigError(f"{source}: expected NAME=SPEC, e.g. units=16..256:log")
    if name in NOT_SEARCHABLE:
        raise ConfigError(
            f"{where}: cannot be searched (it says where a run goes, not what it learns)"
        )
    if isinstance(spec, list | tuple):
        return _choices(name, list(spec), where)
    text = str(spec).strip()
    matched = _RANGE.match(text)
    if matched:
        return _range(name, *matched.groups(), where=where)
    if "," in text:
        parts = [part.strip() for part in text.split(",")]
        return _choices(name, [_scalar(part) for part in parts if part], where)
    raise ConfigError(
        f"{where}={text!r}: expected a range LOW..HIGH (add :log for a log scale) or choices A,B,C"
    )


def _choices(name: str, values: list[Any], where: str) -> Dimension:
    if len(values) < 2:
        raise ConfigError(f"{where}: give at least two choices, e.g. {name}=lstm,gru")
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(f"{where}: a choice is repeated in {values}")
    return Dimension(name, choices=tuple(values))


def _range(name: str, low_text: str, high_text: str, scale: str | None, where: str) -> Dimension:
    low, high = _number(low_text), _number(high_text)
    if low is None or high is None:
        raise ConfigError(f"{where}={low_text}..{high_text}: both ends must be numbers")
    if scale not in (None, "log"):
        raise ConfigError(f"{where}: unknown scale {scale!r}; the only one is :log")
    if not low < high:
        raise ConfigError(f"{where}={low_text}..{high_text}: LOW must be below HIGH")
    log = scale == "log"
    if log and low <= 0:
        raise ConfigError(f"{where}={low_text}..{high_text}:log: a log scale needs LOW above 0")
    integer = isinstance(low, int) and isinstance(high, int)
    return Dimension(name, low, high, log=log, integer=integer)


def parse_pairs(pairs: list[str] | tuple[str, ...]) -> list[Dimension]:
    """The dimensions of repeated ``--search NAME=SPEC`` options, each name once."""
    found = []
    for pair in pairs:
        name, sep, spec = pair.partition("=")
        if not sep:
            raise ConfigError(f"--search {pair!r}: expected NAME=SPEC, e.g. units=16..256:log")
        found.append(parse_spec(name, spec))
    return _distinct(found, "--search")


def from_mapping(mapping: Any, source: str) -> list[Dimension]:
    """The dimensions of a pipeline file's ``search:`` mapping."""
    if not isinstance(mapping, dict) or not mapping:
        raise ConfigError(f"{source}: search must map names to ranges or choice lists")
    found = [parse_spec(name, spec, source=f"{source}: search") for name, spec in mapping.items()]
    return _distinct(found, f"{source}: search")


def _distinct(found: list[Dimension], source: str) -> list[Dimension]:
    names = [d.name for d in found]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{source} {name}: given twice")
    return found


def describe(space: list[Dimension]) -> str:
    """The whole space on one line, in a stable order (it names the study)."""
    return " ".join(sorted(d.describe() for d in space))
