"""Google Gemini embeddings through ``google-genai`` (the Gemini Developer API).

The SDK is optional (``pip install 'embedgate[gemini]'``) and imported on the first request.
Queries and documents are embedded with different task types (``RETRIEVAL_QUERY`` and
``RETRIEVAL_DOCUMENT`` by default), so the two roles get different vectors, and both task
types are part of the cache identity.

Spec examples::

    gemini:gemini-embedding-001
    gem768=gemini:gemini-embedding-001?output_dimensionality=768

Matryoshka sizes: ``output_dimensionality`` below the full 3,072 returns the leading components,
which Gemini does not re-normalize; with ``normalize=True`` (the default) every vector is L2-
normalized here, so inner product stays cosine similarity at any size.

Models that fold a list of texts into one content and return a single embedding for it (the
multimodal ``gemini-embedding-2`` family, as the SDK treats every ``gemini*`` model except
``gemini-embedding-001`` and ``gemini-embedding-exp*``) are sent one text per request; set
``one_per_request`` to override the guess.
"""

from __future__ import annotations

import json
import os
import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from embedgate._optional import import_optional
from embedgate.errors import ConfigError
from embedgate.models._remote import (
    Failure,
    RemoteAPI,
    RemoteEmbedder,
    describe_transport,
    one_line,
    parse_retry_after,
    status_kind,
)
from embedgate.models.base import Role

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["DEFAULT_BASE_URL", "GEMINI_MODELS", "TASK_TYPES", "GeminiEmbedder"]

DEFAULT_BASE_URL: Final = "https://generativelanguage.googleapis.com/"
_OFFICIAL_ENDPOINT: Final = "generativelanguage.googleapis.com"

#: Full output sizes of known Gemini embedding models.
GEMINI_MODELS: Final[Mapping[str, int]] = MappingProxyType(
    {"gemini-embedding-001": 3072, "text-embedding-004": 768}
)

#: The task types the Gemini API documents; others are passed through if they look like one.
TASK_TYPES: Final = (
    "RETRIEVAL_QUERY",
    "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",
    "CLASSIFICATION",
    "CLUSTERING",
    "QUESTION_ANSWERING",
    "FACT_VERIFICATION",
    "CODE_RETRIEVAL_QUERY",
)
_TASK_RE: Final = re.compile(r"^[A-Z][A-Z_]*$")
_KEY_ENV: Final = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # the SDK's own order of preference


def _one_per_request(model: str) -> bool:
    model_id = model.rsplit("/", 1)[-1]
    return "gemini" in model_id and not model_id.startswith(
        ("gemini-embedding-001", "gemini-embedding-exp")
    )


def _task_type(value: str | None, option: str, model: str) -> str | None:
    if value is None or str(value).strip().lower() in {"", "none"}:
        return None
    upper = str(value).strip().upper()
    if not _TASK_RE.match(upper):
        raise ConfigError(
            f"gemini {model}: {option}={value!r} is not a task type. Use one of "
            f"{', '.join(TASK_TYPES)}, or 'none' to send no task type."
        )
    return upper


class GeminiEmbedder(RemoteEmbedder):
    """A Gemini embedding model (``gemini-embedding-001`` and newer).

    Args:
        model: the model name (``gemini-embedding-001`` by default; ``models/`` optional).
        name: the short name for tables and ids.
        output_dimensionality: a Matryoshka size below the full one (768, 1536, ...).
        query_task_type / document_task_type: the task type sent for each role
            (``RETRIEVAL_QUERY`` / ``RETRIEVAL_DOCUMENT``); ``"none"`` sends none.
        base_url: the API root; default ``$GOOGLE_GEMINI_BASE_URL`` or Google's.
        api_key_env: the env var holding the key; default ``GOOGLE_API_KEY``, then
            ``GEMINI_API_KEY`` (the SDK's order).
        batch_size: texts per request, at most 100 (the default).
        max_batch_tokens: tokens per request; default no limit beyond ``batch_size``.
        max_input_tokens: tokens per text, default 2,048 (gemini-embedding-001's limit).
        truncate: ``"truncate"`` (default), ``"error"`` or ``"none"``, as for OpenAI.
        tokenizer: ``"bytes"`` only (UTF-8 bytes, an upper bound on Gemini's tokens).
        one_per_request: send one text per request; default: guessed from the model name.
        timeout: seconds to wait for one reply.
        max_retries: retries per batch for 429, 5xx, timeouts, resets and malformed replies.
        requests_per_minute / tokens_per_minute: client-side rate limits; unset: none.
        price_per_million: USD per million input tokens, overriding the dated price table.
        normalize: L2-normalize the vectors (needed for Matryoshka sizes).

    Example:
        >>> m = GeminiEmbedder(output_dimensionality=768)
        >>> m.identity()["task_types"], m.identity()["dimensions"]
        ({'query': 'RETRIEVAL_QUERY', 'document': 'RETRIEVAL_DOCUMENT'}, 768)
    """

    PROVIDER = "gemini"
    MAX_BATCH_SIZE = 100
    MAX_BATCH_TOKENS = None
    MAX_INPUT_TOKENS = 2048

    def __init__(
        self,
        model: str = "gemini-embedding-001",
        *,
        name: str | None = None,
        output_dimensionality: int | None = None,
        query_task_type: str = "RETRIEVAL_QUERY",
        document_task_type: str = "RETRIEVAL_DOCUMENT",
        base_url: str | None = None,
        api_key_env: str | None = None,
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        max_input_tokens: int | None = None,
        truncate: str = "truncate",
        tokenizer: str = "bytes",
        one_per_request: bool | None = None,
        timeout: float = 60.0,
        max_retries: int = 6,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        price_per_million: float | None = None,
        normalize: bool = True,
    ) -> None:
        model = model.removeprefix("models/")
        full = GEMINI_MODELS.get(model)
        if (
            full is not None
            and isinstance(output_dimensionality, int)
            and output_dimensionality > full
        ):
            raise ConfigError(
                f"gemini {model}: output_dimensionality={output_dimensionality} is more than "
                f"the model's {full}."
            )
        if tokenizer != "bytes":
            raise ConfigError(
                f"gemini {model}: tokenizer={tokenizer!r} is not available; Gemini tokens are "
                "counted as UTF-8 bytes (tokenizer='bytes'), an upper bound."
            )
        per_item = _one_per_request(model) if one_per_request is None else bool(one_per_request)
        if per_item and batch_size not in (None, 1):
            raise ConfigError(
                f"gemini {model}: one_per_request sends one text per request, so batch_size "
                f"must be 1 or unset, got {batch_size}."
            )
        self._task_types = {
            Role.QUERY: _task_type(query_task_type, "query_task_type", model),
            Role.DOCUMENT: _task_type(document_task_type, "document_task_type", model),
        }
        resolved = base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL") or DEFAULT_BASE_URL
        super().__init__(
            model,
            name=name,
            dimensions=output_dimensionality,
            base_url=resolved,
            api_key_env=api_key_env,
            batch_size=1 if per_item else batch_size,
            max_batch_tokens=max_batch_tokens,
            max_input_tokens=max_input_tokens,
            truncate=truncate,
            tokenizer=tokenizer,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            price_per_million=price_per_million,
            normalize=normalize,
            native_dimensions=full,
        )
        self._one_per_request = per_item

    def identity(self) -> Mapping[str, Any]:
        return {
            **self._identity_base(),
            "task_types": {role.value: task for role, task in self._task_types.items()},
        }

    def _info_extra(self) -> dict[str, Any]:
        return {
            "task_types": {role.value: task for role, task in self._task_types.items()},
            "one_per_request": self._one_per_request,
        }

    def _key_env_vars(self) -> tuple[str, ...]:
        return (self._api_key_env,) if self._api_key_env else _KEY_ENV

    def _is_official_endpoint(self) -> bool:
        return self._endpoint == _OFFICIAL_ENDPOINT

    def _make_client(self, key: str) -> Any:
        self._sdk = import_optional("google.genai", "gemini")
        return gemini_client(self._sdk, key, self._base_url, self._timeout)

    def _request(
        self, client: Any, texts: Sequence[str], role: Role
    ) -> tuple[list[Any], int | None]:
        config = self._sdk.types.EmbedContentConfig(
            task_type=self._task_types[role], output_dimensionality=self._dimensions
        )
        reply = client.models.embed_content(model=self._model, contents=list(texts), config=config)
        rows = [getattr(e, "values", None) for e in (reply.embeddings or [])]
        usage = getattr(reply, "usage_metadata", None)
        tokens = getattr(usage, "prompt_token_count", None) or getattr(
            usage, "total_token_count", None
        )
        return rows, tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None

    def _classify(self, exc: Exception) -> Failure | None:
        return gemini_failure(exc, self)


def gemini_client(genai: Any, key: str, base_url: str, timeout: float) -> Any:
    """A ``google.genai.Client`` that never retries on its own (`GeminiChat`'s too)."""
    # No retry_options: the SDK then tries once, and our loop owns retries.
    options = genai.types.HttpOptions(base_url=base_url, timeout=max(1, round(timeout * 1000)))
    return genai.Client(api_key=key, vertexai=False, http_options=options)


def gemini_failure(exc: Exception, api: RemoteAPI, *, noun: str = "model") -> Failure | None:
    """What a failed ``google-genai`` call of ``api`` was, or ``None`` for an exception not its.

    The `_classify` of `GeminiEmbedder` and of `GeminiChat`; ``noun`` names the model in a 404
    (``"chat model"``).
    """
    sdk = api._sdk
    if sdk is None:
        return None
    if isinstance(exc, sdk.errors.APIError):
        return _api_failure(exc, api._model, api._endpoint, noun)
    if isinstance(exc, json.JSONDecodeError):
        return Failure("malformed", f"the reply is not valid JSON ({one_line(str(exc), 160)})")
    if type(exc).__module__.startswith("pydantic") and type(exc).__name__ == "ValidationError":
        return Failure(
            "malformed", f"the reply is not the shape asked for ({one_line(str(exc), 160)})"
        )
    return describe_transport(exc, api._timeout)


def _api_failure(exc: Any, model: str, endpoint: str, noun: str) -> Failure:
    code = int(exc.code or 0)
    state = exc.status or ""
    message = one_line(str(exc.message or ""))
    details = json.dumps(exc.details, default=str) if exc.details is not None else ""
    if "API_KEY_INVALID" in details or "API key not valid" in message:
        # Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
        return Failure("auth", f"the provider refused the API key (HTTP {code} {state})".strip())
    kind = status_kind(code)
    if kind == "auth":
        return Failure(kind, f"the provider refused the API key (HTTP {code} {state})")
    retry_after = None
    if kind in ("rate_limited", "transient"):
        response = getattr(exc, "response", None)
        retry_after = parse_retry_after(getattr(response, "headers", None))
        if retry_after is None:
            retry_after = _retry_info(exc.details)
    if code == 404:
        return Failure(kind, f"{noun} {model!r} was not found at {endpoint} (HTTP 404: {message})")
    return Failure(kind, f"HTTP {code} {state}: {message}".replace("  ", " "), retry_after)


def _retry_info(details: Any) -> float | None:
    """The ``retryDelay`` of a ``google.rpc.RetryInfo`` in a Gemini error body, in seconds."""
    error = details.get("error", details) if isinstance(details, dict) else None
    items = error.get("details") if isinstance(error, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            raw = str(item.get("retryDelay", "")).strip().removesuffix("s")
            try:
                value = float(raw)
            except ValueError:
                return None
            return value if value >= 0 else None
    return None
