"""Typed options set with ``--set key=value``: a task's, an arch's, or ``predict``'s.

An ``Option`` carries its default (which gives its type), one line of help and, where only
some values make sense, the allowed ``choices``. The core parses and checks every value
before anything runs, so a task never validates its own options by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seqapps.exceptions import ConfigError

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def parse_bool(text: str) -> bool:
    """``true/yes/1/on`` or ``false/no/0/off`` (any case); ValueError otherwise."""
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


@dataclass(frozen=True)
class Option:
    """One ``--set`` option: its default (which gives its type), help and allowed values.

    A default of None accepts any string.
    """

    default: Any
    help: str = ""
    choices: tuple[Any, ...] = ()

    @property
    def type(self) -> type | None:
        """The Python type values are converted to (None: left as given)."""
        return None if self.default is None else type(self.default)

    def parse(self, key: str, value: Any, owner: str = "") -> Any:
        """``value`` (text or typed) converted to this option's type and checked."""
        converted = self._convert(key, value, owner)
        if self.choices and converted not in self.choices:
            allowed = ", ".join(str(choice) for choice in self.choices)
            raise ConfigError(f"--set {key}={value}: {owner}expected one of {allowed}")
        return converted

    def _convert(self, key: str, value: Any, owner: str) -> Any:
        expected = self.type
        if expected is None or value is None:
            return value
        if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
            return value
        try:
            if expected is bool:
                return parse_bool(value)
            if expected in (int, float):
                return expected(str(value).strip())
        except ValueError:
            raise ConfigError(f"--set {key}={value}: {owner}expected {expected.__name__}") from None
        return str(value).strip()

    def shown(self, key: str) -> str:
        """The line ``seqapps tasks -v`` and ``seqapps archs -v`` print for this option."""
        allowed = f" (one of {', '.join(map(str, self.choices))})" if self.choices else ""
        return f"--set {key}={self.default}  {self.help}{allowed}".rstrip()


def defaults(options: Mapping[str, Option]) -> dict[str, Any]:
    """Every option's default value, by key."""
    return {key: option.default for key, option in options.items()}


def parse_all(
    options: Mapping[str, Option],
    given: Mapping[str, Any],
    owner: str,
    typed_as: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every option's value: ``given`` parsed and checked, defaults for the rest.

    An unknown key is an error naming every key ``options`` accepts, and naming the key as
    the user typed it: ``typed_as`` maps keys given by a flag of their own (``top_k`` from
    ``--top-k``) to that flag; the others were ``--set KEY``.
    """
    unknown = [key for key in given if key not in options]
    if unknown:
        allowed = ", ".join(sorted(options)) or "(none)"
        name = (typed_as or {}).get(unknown[0], f"--set {unknown[0]}")
        raise ConfigError(f"{name}: {owner} have no such option; allowed: {allowed}")
    prefix = f"{owner}: " if owner else ""
    return {
        key: option.parse(key, given[key], prefix) if key in given else option.default
        for key, option in options.items()
    }
