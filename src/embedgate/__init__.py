"""embedgate: a pytest regression suite for text-embedding models on your own golden data."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
