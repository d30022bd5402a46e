"""Model adapters behind one protocol: ``embed(texts, role)`` plus ``info``.

`load_model` turns a `ModelSpec` into an adapter. Vendor SDKs are imported only by the adapter
that needs them, so ``import embedgate.models`` is cheap and works without any extra.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from embedgate.errors import ConfigError
from embedgate.models.base import Embedder, LexicalModel, ModelInfo, Role, fingerprint_identity
from embedgate.specs import ModelSpec

T = TypeVar("T")

__all__ = [
    "Embedder",
    "LexicalModel",
    "ModelInfo",
    "Role",
    "fingerprint_identity",
    "load_model",
]


def _sentence_transformers(spec: ModelSpec, models_dir: Path) -> Embedder:
    from embedgate.models.local import SentenceTransformerEmbedder

    return _construct(SentenceTransformerEmbedder, spec, model=spec.model, name=spec.name)


def _model2vec(spec: ModelSpec, models_dir: Path) -> Embedder:
    from embedgate.models.local import Model2VecEmbedder

    return _construct(
        Model2VecEmbedder, spec, model=spec.model, name=spec.name, models_dir=models_dir
    )


def _openai(spec: ModelSpec, models_dir: Path) -> Embedder:
    from embedgate.models.openai import OpenAIEmbedder

    return _construct(OpenAIEmbedder, spec, model=spec.model, name=spec.name)


def _gemini(spec: ModelSpec, models_dir: Path) -> Embedder:
    from embedgate.models.gemini import GeminiEmbedder

    return _construct(GeminiEmbedder, spec, model=spec.model, name=spec.name)


def _bm25(spec: ModelSpec, models_dir: Path) -> LexicalModel:
    from embedgate.models.lexical import BM25Model

    return _construct(BM25Model, spec, name=spec.name)


_FACTORIES: Mapping[str, Callable[[ModelSpec, Path], Embedder | LexicalModel]] = {
    "st": _sentence_transformers,
    "model2vec": _model2vec,
    "bm25": _bm25,
    "openai": _openai,
    "gemini": _gemini,
}


def _construct(factory: Callable[..., T], spec: ModelSpec, **fixed: Any) -> T:
    """``factory(**fixed, **spec.options)``; an option it does not take is a ConfigError."""
    accepted = [p for p in inspect.signature(factory).parameters if p not in fixed and p != "self"]
    unknown = sorted(set(spec.options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"model {spec.name!r} ({spec.provider}): unknown option(s) {', '.join(unknown)}. "
            f"Options for {spec.provider}: {', '.join(accepted) or 'none'}."
        )
    return factory(**fixed, **spec.options)


def load_model(
    spec: ModelSpec, *, models_dir: Path | str = ".embedgate/models"
) -> Embedder | LexicalModel:
    """Load the adapter a spec names.

    Args:
        spec: the model spec (see `embedgate.specs`).
        models_dir: where models built on first use (distilled static models) are kept.

    Raises:
        ConfigError: an unknown option for the provider.
        MissingDependency: the provider's extra is not installed.
    """
    try:
        factory = _FACTORIES[spec.provider]
    except KeyError:
        raise ConfigError(
            f"model {spec.name!r}: provider {spec.provider!r} has no adapter yet. "
            f"Available: {', '.join(_FACTORIES)}."
        ) from None
    return factory(spec, Path(models_dir))
