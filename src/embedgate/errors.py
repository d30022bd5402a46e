"""Every error embedgate raises on purpose.

The tree::

    EmbedgateError
    ├── ConfigError (ValueError)            bad [tool.embedgate] table, model spec or option
    ├── DatasetError (ValueError)           a dataset file that cannot be read as it stands
    ├── MetricError (ValueError)            an unknown or malformed metric name
    ├── ResultsError (ValueError)           a results file that cannot be compared or read
    ├── StatsError (ValueError)             scores or options the statistics cannot use
    ├── CacheError (RuntimeError)           the embedding cache file cannot be used
    └── ModelError (RuntimeError)           a model could not produce embeddings
        ├── MissingDependency (ImportError) an optional extra is not installed
        ├── MissingCredentials              no API key and the cache cannot answer alone
        └── ProviderError                   a remote provider failed
            ├── RateLimited                 429, retried with backoff
            ├── TransientProviderError      5xx, timeout, connection reset; retried
            └── MalformedResponse           a reply that is not what was asked for

Messages name the file, line or value at fault and say what to do about it. They never
contain an API key.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CacheError",
    "ConfigError",
    "DatasetError",
    "EmbedgateError",
    "MalformedResponse",
    "MetricError",
    "MissingCredentials",
    "MissingDependency",
    "ModelError",
    "ProviderError",
    "RateLimited",
    "ResultsError",
    "StatsError",
    "TransientProviderError",
]


class EmbedgateError(Exception):
    """Base class of every error embedgate raises on purpose."""


class ConfigError(EmbedgateError, ValueError):
    """A configuration key, model spec or option has a value embedgate cannot use."""


class DatasetError(EmbedgateError, ValueError):
    """A dataset file cannot be loaded as it stands.

    Args:
        message: what is wrong and how to fix it.
        path: the file at fault.
        line: the 1-based line number, when the fault is on one line.
    """

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}"
            if line is not None:
                where += f" line {line}"
            where += ": "
        super().__init__(where + message)


class MetricError(EmbedgateError, ValueError):
    """A metric name that the registry does not know or cannot parse."""


class ResultsError(EmbedgateError, ValueError):
    """A results file that cannot be read, or two that cannot be compared."""


class StatsError(EmbedgateError, ValueError):
    """Scores or options a statistical test cannot use (lengths differ, NaN, bad alpha)."""


class CacheError(EmbedgateError, RuntimeError):
    """The embedding cache file cannot be opened or written."""


class ModelError(EmbedgateError, RuntimeError):
    """A model could not produce embeddings."""


class MissingDependency(ModelError, ImportError):
    """An optional extra that a model adapter needs is not installed."""


class MissingCredentials(ModelError):
    """An API model has no key and some of its embeddings are not in the cache."""


class ProviderError(ModelError):
    """A remote embedding provider failed; the message names provider, model and batch."""


class RateLimited(ProviderError):
    """The provider answered 429; transient, retried with backoff."""


class TransientProviderError(ProviderError):
    """A 5xx, timeout or dropped connection; transient, retried with backoff."""


class MalformedResponse(ProviderError):
    """A reply with the wrong number of vectors, wrong dimensions or non-finite values."""
