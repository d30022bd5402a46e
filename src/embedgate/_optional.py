"""Optional dependencies: imported where used, with the extra that installs them."""

from __future__ import annotations

import importlib
from typing import Any

from embedgate.errors import MissingDependency

__all__ = ["import_optional"]


def import_optional(module: str, extra: str, *, package: str | None = None) -> Any:
    """Import ``module``, or raise `MissingDependency` naming ``pip install 'embedgate[extra]'``.

    Args:
        module: the module to import (``"sentence_transformers"``).
        extra: the embedgate extra that installs it (``"local"``).
        package: the distribution name, when it differs from the module (``"PyStemmer"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"the {package or module!r} package is not installed. Install it with "
            f"pip install 'embedgate[{extra}]'"
        ) from exc
