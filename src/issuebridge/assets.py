"""Where the templates and static files are, however the package was installed.

They live at the top of the repository (``templates/``, ``static/``). A wheel ships them inside
the package (``pyproject.toml``'s ``force-include``); an editable install or a source checkout
runs from ``src/``, two levels below them. Either way the server finds them, from any working
directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _directory(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"issuebridge's {name}/ directory is missing: it is neither in the package nor beside src/")


TEMPLATES = _directory("templates")
STATIC = _directory("static")
