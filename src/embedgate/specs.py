"""Typed specs: what a model or dataset *is*, before anything is loaded.

A model is named by a short spec string or a config table::

    st:all-MiniLM-L6-v2                  sentence-transformers (hub name or local path)
    minilm=st:all-MiniLM-L6-v2           the same, with the short name used in ids and folders
    model2vec:minilm-distilled           a static model distilled offline from the packaged MiniLM
    model2vec:/path/to/static-model      a model2vec model on disk
    bm25                                 the lexical baseline (bm25s)
    openai:text-embedding-3-small        an API model (needs a key, or cached embeddings)
    gemini:gemini-embedding-001

Options (batch size, prompts, dimensions, ...) come from the config table, or after ``?`` in a
spec string: ``st:intfloat/e5-small-v2?query_prompt=query: &document_prompt=passage: ``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from embedgate.errors import ConfigError

__all__ = ["PROVIDERS", "ModelSpec", "parse_model_spec", "slugify"]

#: provider prefix -> what it is; the error for an unknown prefix is generated from this table.
PROVIDERS: Mapping[str, str] = MappingProxyType(
    {
        "st": "sentence-transformers model (hub name or local path)",
        "model2vec": "model2vec static model (local path, or 'minilm-distilled')",
        "bm25": "BM25 lexical baseline (bm25s)",
        "openai": "OpenAI embeddings API, or an OpenAI-compatible server with base_url",
        "gemini": "Google Gemini embeddings API (google-genai)",
    }
)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def slugify(text: str) -> str:
    """A short lower-case id for test ids and folders: ``all-MiniLM-L6-v2 -> all-minilm-l6-v2``."""
    tail = text.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"[^a-z0-9_.-]+", "-", tail.lower()).strip("-.")
    return slug or "model"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model to evaluate, before it is loaded.

    Attributes:
        name: the short id used in pytest ids, result folders and tables (``minilm``).
        provider: one of `PROVIDERS`.
        model: the provider's model name or a local path.
        options: provider options (``batch_size``, ``query_prompt``, ``dimensions``, ...).
    """

    name: str
    provider: str
    model: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigError(
                f"unknown model provider {self.provider!r} in model {self.name!r}. "
                f"Use one of: {', '.join(PROVIDERS)}."
            )
        if not _NAME_RE.match(self.name):
            raise ConfigError(
                f"model name {self.name!r} must be lower-case letters, digits, '-', '_' or '.', "
                "starting with a letter or digit (it becomes a pytest id and a folder name)."
            )
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def supports(self, task: str) -> bool:
        """Whether this model can do ``task``: BM25 ranks documents and has no vectors, so it
        does retrieval only; every embedding model does every task type."""
        return task == "retrieval" or self.provider != "bm25"

    @property
    def is_api(self) -> bool:
        """True for models that call a remote provider (and so need a key or the cache)."""
        return self.provider in {"openai", "gemini"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "options": dict(self.options),
        }


def _coerce(value: str) -> Any:
    """Option values in spec strings: ints, floats and booleans read as such, the rest as text."""
    low = value.lower()
    if low in {"true", "false"}:
        return low == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def parse_model_spec(spec: str, **options: Any) -> ModelSpec:
    """Parse ``[name=]provider:model[?key=value&...]`` (or ``bm25``) into a `ModelSpec`.

    Args:
        spec: the spec string.
        **options: options that override those in the string.

    Raises:
        ConfigError: an empty spec, an unknown provider, or a missing model name.

    Example:
        >>> parse_model_spec("minilm=st:all-MiniLM-L6-v2?batch_size=64")
        ModelSpec(name='minilm', provider='st', model='all-MiniLM-L6-v2', options=...)
    """
    text = spec.strip()
    if not text:
        raise ConfigError("empty model spec. Write e.g. 'st:all-MiniLM-L6-v2' or 'bm25'.")
    name: str | None = None
    head, eq, rest = text.partition("=")
    if eq and ":" not in head and "?" not in head:
        name, text = head.strip(), rest.strip()
    body, _, query = text.partition("?")
    parsed = {k: _coerce(v) for k, v in parse_qsl(query, keep_blank_values=True)}
    parsed.update(options)
    provider, colon, model = body.partition(":")
    provider = provider.strip().lower()
    if not colon:
        if provider == "bm25":
            return ModelSpec(name or "bm25", "bm25", "bm25", parsed)
        raise ConfigError(
            f"model spec {spec!r} has no provider. Write 'PROVIDER:MODEL' with PROVIDER one of "
            f"{', '.join(PROVIDERS)} (for example 'st:{body}')."
        )
    model = model.strip()
    if provider not in PROVIDERS:
        raise ConfigError(
            f"unknown model provider {provider!r} in spec {spec!r}. Use one of: "
            + "; ".join(f"{p} ({what})" for p, what in PROVIDERS.items())
            + "."
        )
    if not model and provider != "bm25":
        raise ConfigError(f"model spec {spec!r} names no model after '{provider}:'.")
    return ModelSpec(name or slugify(model or provider), provider, model or provider, parsed)
