"""`seqapps new task|arch NAME`: write a plugin package that installs and passes its own tests.

The files come from ``seqapps/templates/<kind>/*.tmpl`` (``string.Template``: ``$name``,
``$module``, ``$cls``, ``$api_major``, ``$api_next``).
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from seqapps.exceptions import UserInputError
from seqapps.task import API_VERSION

TEMPLATES = Path(__file__).with_name("templates")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: Where each template goes in the new package ({module} = the package's module name).
LAYOUT = {
    "task": {
        "pyproject.toml": "pyproject.toml",
        "README.md": "README.md",
        "__init__.py": "seqapps_{module}/__init__.py",
        "task.py": "seqapps_{module}/task.py",
        "sample.py": "seqapps_{module}/sample.py",
        "test_conformance.py": "tests/test_{module}_conformance.py",
    },
    "arch": {
        "pyproject.toml": "pyproject.toml",
        "README.md": "README.md",
        "__init__.py": "seqapps_{module}/__init__.py",
        "archs.py": "seqapps_{module}/archs.py",
        "layers.py": "seqapps_{module}/layers.py",
        "test_conformance.py": "tests/test_{module}_conformance.py",
    },
}


def check_name(name: str) -> str:
    """A plugin name: lowercase letters, digits and underscores, starting with a letter."""
    if not _NAME.match(name):
        raise UserInputError(
            f"NAME {name!r}: use lowercase letters, digits and underscores, starting with a letter"
        )
    return name


def write_plugin(kind: str, name: str, directory: Path) -> list[Path]:
    """Write the ``kind`` ("task" or "arch") plugin package ``name`` into ``directory``."""
    check_name(name)
    if directory.exists() and any(directory.iterdir()):
        raise UserInputError(f"--dir {directory}: exists and is not empty; choose another")
    major = int(API_VERSION.split(".")[0])
    values = {
        "name": name,
        "module": name,
        "cls": "".join(part.capitalize() for part in name.split("_")) + kind.capitalize(),
        "api_major": str(major),
        "api_next": str(major + 1),
    }
    written = []
    for template, target in LAYOUT[kind].items():
        text = (TEMPLATES / kind / f"{template}.tmpl").read_text(encoding="utf-8")
        path = directory / target.format(module=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(string.Template(text).substitute(values), encoding="utf-8")
        written.append(path)
    return written
