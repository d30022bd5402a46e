"""OpenAI embeddings, and OpenAI-compatible servers (vLLM, TEI, Ollama, LM Studio) by base_url.

The ``openai`` SDK is optional (``pip install 'embedgate[openai]'``) and imported on the first
request, so an adapter whose vectors are all cached needs neither the SDK's network nor a key.

Spec examples::

    openai:text-embedding-3-small
    small256=openai:text-embedding-3-small?dimensions=256
    bge=openai:BAAI/bge-small-en-v1.5?base_url=http://localhost:8000/v1&api_key_env=none&max_input_tokens=512

A compatible server is a different model: its endpoint (host, port and path, never user info
or a query string) is part of the cache identity, so vectors from two servers never mix.
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
    MalformedReplyError,
    RemoteAPI,
    RemoteEmbedder,
    describe_transport,
    one_line,
    parse_retry_after,
    status_kind,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from embedgate.models.base import Role

__all__ = ["DEFAULT_BASE_URL", "OPENAI_MODELS", "OpenAIEmbedder"]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
_OFFICIAL_ENDPOINT: Final = "api.openai.com/v1"

#: Known OpenAI models: ``name -> (full dimensions, whether `dimensions` may shorten them)``.
OPENAI_MODELS: Final[Mapping[str, tuple[int, bool]]] = MappingProxyType(
    {
        "text-embedding-3-small": (1536, True),
        "text-embedding-3-large": (3072, True),
        "text-embedding-ada-002": (1536, False),
    }
)
_NO_KEY: Final = frozenset({"", "none"})
_ENCODINGS: Final = ("base64", "float")
_STATUS_PREFIX: Final = re.compile(r"^Error code: \d+ - ")


class OpenAIEmbedder(RemoteEmbedder):
    """An OpenAI embedding model, or any server speaking ``POST /v1/embeddings``.

    Args:
        model: ``text-embedding-3-small`` (default), ``text-embedding-3-large``,
            ``text-embedding-ada-002``, or a compatible server's model name.
        name: the short name for tables and ids.
        dimensions: shorter Matryoshka vectors (text-embedding-3-* and compatible servers that
            support it; not ada-002). Unset: the model's full size.
        base_url: the API root; default ``$OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
        api_key_env: the env var holding the key (default ``OPENAI_API_KEY``); ``"none"`` for
            a local server that wants none.
        batch_size: inputs per request, at most 2,048 (the default).
        max_batch_tokens: tokens per request, default 300,000 (OpenAI's limit).
        max_input_tokens: tokens per input, default 8,192 (OpenAI's limit); set a compatible
            server's model limit here (512 for most BERT-sized models).
        truncate: ``"truncate"`` (default) cuts texts over ``max_input_tokens``; ``"error"``
            refuses them before any request; ``"none"`` sends them whole.
        tokenizer: ``"bytes"`` (default; UTF-8 bytes, an offline upper bound on tokens) or
            ``"tiktoken"`` (exact; tiktoken downloads its file once).
        encoding_format: ``"base64"`` (default, compact and exact) or ``"float"`` (for servers
            that do not speak base64). Both decode to the same float32 vectors.
        timeout: seconds to wait for one reply.
        max_retries: retries per batch for 429, 5xx, timeouts, resets and malformed replies.
        requests_per_minute / tokens_per_minute: client-side rate limits; unset: none.
        price_per_million: USD per million input tokens, overriding the dated price table.
        normalize: L2-normalize the vectors (OpenAI's already are; servers' may not be).

    Raises:
        ConfigError: an option out of range, or ``dimensions`` with ada-002.

    Example:
        >>> m = OpenAIEmbedder("text-embedding-3-small", dimensions=256)
        >>> m.identity()["dimensions"], m.identity()["endpoint"]
        (256, 'api.openai.com/v1')
    """

    PROVIDER = "openai"
    MAX_BATCH_SIZE = 2048
    MAX_BATCH_TOKENS = 300_000
    MAX_INPUT_TOKENS = 8192

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        name: str | None = None,
        dimensions: int | None = None,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        max_input_tokens: int | None = None,
        truncate: str = "truncate",
        tokenizer: str = "bytes",
        encoding_format: str = "base64",
        timeout: float = 60.0,
        max_retries: int = 6,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        price_per_million: float | None = None,
        normalize: bool = True,
    ) -> None:
        known = OPENAI_MODELS.get(model)
        if known is not None and dimensions is not None:
            full, shortens = known
            if not shortens:
                raise ConfigError(
                    f"openai {model}: the 'dimensions' option is not supported by this model "
                    f"(it always returns {full} dimensions). Remove dimensions, or use "
                    "text-embedding-3-small or text-embedding-3-large."
                )
            if (
                isinstance(dimensions, int)
                and not isinstance(dimensions, bool)
                and dimensions > full
            ):
                raise ConfigError(
                    f"openai {model}: dimensions={dimensions} is more than the model's {full}."
                )
        if encoding_format not in _ENCODINGS:
            raise ConfigError(
                f"openai {model}: encoding_format={encoding_format!r}; use 'base64' or 'float'."
            )
        if not isinstance(api_key_env, str):
            raise ConfigError(f"openai {model}: api_key_env must be an env var name or 'none'.")
        resolved = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        super().__init__(
            model,
            name=name,
            dimensions=dimensions,
            base_url=resolved,
            api_key_env=api_key_env,
            batch_size=batch_size,
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
            native_dimensions=known[0] if known else None,
        )
        self._encoding_format = encoding_format

    def _key_env_vars(self) -> tuple[str, ...]:
        env = self._api_key_env or ""
        return () if env.strip().lower() in _NO_KEY else (env,)

    def _is_official_endpoint(self) -> bool:
        return self._endpoint == _OFFICIAL_ENDPOINT

    def _info_extra(self) -> dict[str, Any]:
        return {"encoding_format": self._encoding_format}

    def _make_client(self, key: str) -> Any:
        self._sdk = import_optional("openai", "openai")
        return openai_client(self._sdk, key, self._base_url, self._timeout)

    def _request(
        self, client: Any, texts: Sequence[str], role: Role
    ) -> tuple[list[Any], int | None]:
        options: dict[str, Any] = {"encoding_format": self._encoding_format}
        if self._dimensions is not None:
            options["dimensions"] = self._dimensions
        reply = client.embeddings.create(model=self._model, input=list(texts), **options)
        data = getattr(reply, "data", None)
        if not isinstance(data, list):
            raise MalformedReplyError("the reply has no 'data' list")
        indices = [getattr(d, "index", None) for d in data]
        if sorted(i for i in indices if isinstance(i, int)) != list(range(len(data))):
            raise MalformedReplyError(
                f"the reply's vector indices {indices[:8]} are not 0..{len(data) - 1}"
            )
        ordered = sorted(data, key=lambda d: d.index)
        rows = [getattr(d, "embedding", None) for d in ordered]
        usage = getattr(reply, "usage", None)
        tokens = getattr(usage, "prompt_tokens", None)
        return rows, tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None

    def _classify(self, exc: Exception) -> Failure | None:
        return openai_failure(exc, self, dimensions=self._dimensions)


def openai_client(sdk: Any, key: str, base_url: str, timeout: float) -> Any:
    """An ``openai.OpenAI`` client that never retries on its own (`OpenAIChat`'s too)."""
    # Our retry loop owns backoff, logging and error mapping, so the SDK must not retry too.
    return sdk.OpenAI(
        # A local server without auth still gets a header; the SDK insists on a key.
        api_key=key or "no-key",
        base_url=base_url,
        timeout=timeout,
        max_retries=0,
    )


def openai_failure(
    exc: Exception, api: RemoteAPI, *, noun: str = "model", dimensions: int | None = None
) -> Failure | None:
    """What a failed ``openai`` call of ``api`` was, or ``None`` for an exception not the SDK's.

    The `_classify` of `OpenAIEmbedder` and of `OpenAIChat`. ``noun`` names the model in a 404
    (``"chat model"``); ``dimensions``, the option a request set, adds a hint to a 400 that
    mentions it.
    """
    sdk, timeout = api._sdk, api._timeout
    if sdk is None:
        return None
    if isinstance(exc, sdk.APITimeoutError):
        return Failure("transient", f"no reply within the {timeout:g} s timeout")
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        why = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
        return Failure("transient", f"the connection failed ({one_line(why, 160)})")
    if isinstance(exc, sdk.APIStatusError):
        return _status_failure(exc, api._model, api._endpoint, noun, dimensions)
    if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
        return Failure(
            "malformed", f"the reply is not the JSON asked for ({one_line(str(exc), 160)})"
        )
    if isinstance(exc, sdk.OpenAIError):
        return Failure("permanent", one_line(str(exc)))
    return describe_transport(exc, timeout)


def _status_failure(
    exc: Any, model: str, endpoint: str, noun: str, dimensions: int | None
) -> Failure:
    status = int(exc.status_code)
    kind = status_kind(status)
    if kind == "auth":
        # OpenAI's 401 message quotes part of the key; say what happened without it.
        return Failure(kind, f"the provider refused the API key (HTTP {status})")
    # The SDK prefixes "Error code: 429 - "; the status is said once, below.
    message = one_line(_STATUS_PREFIX.sub("", str(getattr(exc, "message", "") or exc)))
    if status == 404:
        return Failure(kind, f"{noun} {model!r} was not found at {endpoint} (HTTP 404: {message})")
    retry_after = None
    if kind in ("rate_limited", "transient"):
        retry_after = parse_retry_after(getattr(exc.response, "headers", None))
    detail = f"HTTP {status}: {message}"
    if status == 400 and dimensions is not None and "dimension" in message.lower():
        detail += "; the server may not support the 'dimensions' option"
    return Failure(kind, detail, retry_after)
