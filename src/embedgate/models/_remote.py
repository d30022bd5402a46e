"""What every API adapter shares: keys, batching, token counts, retries, rate limits, usage.

`RemoteAPI` holds what every adapter behind an API key needs, the chat adapters of
`embedgate.models.chat` included: the key read on first use, the lazy SDK client, and the retry
loop (`RemoteAPI._with_retries`). `RemoteEmbedder` builds the embedding request loop on it; an
adapter (`embedgate.models.openai`, `embedgate.models.gemini`) supplies four things: the env
vars its key may live in, how to build its SDK client, one request (texts in, rows of numbers
out), and how its SDK's exceptions read.

The loop, for each batch of one `embed` call::

    plan (count tokens, truncate or reject, pack batches within every limit)
      -> wait for the rate limiter -> request -> validate (count, dimensions, finite)
      -> on a transient failure: sleep (Retry-After, else bounded exponential backoff with
         jitter) and retry; on a permanent one: raise, naming provider, model and batch.

Retry policy (defaults, `RetryPolicy`): at most 6 retries per batch; backoff
``min(60, 1 * 2**retry)`` seconds with "equal jitter" (half fixed, half uniform random), so
1-2, 2-4, 4-8, ... up to 30-60 s; a ``Retry-After`` (or ``retry-after-ms``, or Gemini's
``RetryInfo``) is honoured exactly plus up to 10 % jitter, unless it asks for more than 120 s
(a spent quota, not a burst), which fails at once. 429, 408, 409, 5xx, timeouts and dropped
connections are retried; a malformed reply (cut-off JSON, fewer vectors than inputs, wrong
dimensions, NaN) is retried once, since a proxy hiccup heals and a server bug does not.
The SDKs' own retries are switched off so that this one policy applies, is logged, can be
driven by a fake clock in tests, and maps errors to ours.

Token counts: OpenAI and Gemini tokenizers are byte-level (BPE over UTF-8 bytes; SentencePiece
with byte fallback), so no token covers less than one byte and **UTF-8 bytes are an upper
bound on tokens**. That bound needs no download (tiktoken fetches its BPE file from the network
on first use) and can never send a request over a limit; it over-counts English about 4x, so
batches are smaller than they could be and truncation (when needed) cuts earlier than the
provider would. ``tokenizer="tiktoken"`` counts OpenAI tokens exactly where tiktoken's file is
available.

Keys are read from the environment on the first request that needs one and handed to the SDK
client; the adapter keeps a private copy only to scrub it from provider messages. A key is
never in `identity`, `info`, `usage`, ``repr``, logs or error messages (provider messages are
scrubbed; a chained SDK exception that quotes the key is dropped from the traceback).
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import logging
import math
import os
import random
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from embedgate.errors import (
    ConfigError,
    MalformedResponse,
    MissingCredentials,
    MissingDependency,
    ModelError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from embedgate.models.base import ModelInfo, Role
from embedgate.models.pricing import PRICES_AS_OF, price_per_million

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "ByteCounter",
    "Clock",
    "FakeClock",
    "MalformedReplyError",
    "RateLimiter",
    "RemoteAPI",
    "RemoteEmbedder",
    "RetryPolicy",
    "SystemClock",
    "TokenCounter",
    "endpoint_of",
    "redact",
]

log = logging.getLogger("embedgate.models")

TruncatePolicy = Literal["truncate", "error", "none"]
_TRUNCATE_POLICIES: Final = ("truncate", "error", "none")
_TOKENIZERS: Final = ("bytes", "tiktoken")
FailureKind = Literal["rate_limited", "transient", "malformed", "auth", "permanent"]
_T = TypeVar("_T")


# -- time -------------------------------------------------------------------------------------


class Clock(Protocol):
    """Where the retry loop and the rate limiter read time and sleep; tests pass a fake."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """`time.monotonic` and `time.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock whose `sleep` returns at once and moves time forward; it records every sleep.

    Example:
        >>> clock = FakeClock()
        >>> clock.sleep(2.5); clock.monotonic(), clock.sleeps
        (2.5, [2.5])
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(float(seconds))
        self.now += max(0.0, float(seconds))

    @property
    def slept(self) -> float:
        """Seconds slept in all."""
        return sum(self.sleeps)


# -- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how often a failed batch is retried.

    Attributes:
        max_retries: retries per batch after the first attempt (0: never retry).
        base_delay: seconds of the first backoff; doubles each retry.
        max_delay: the cap on one backoff.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one fails at once.
        malformed_retries: how many of the retries a malformed reply may use.
    """

    max_retries: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 120.0
    malformed_retries: int = 1

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Equal jitter: ``d/2 + uniform(0, d/2)`` with ``d = min(max_delay, base * 2**retry)``."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(retry, 60))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    raw_ms = lower.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = lower.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        value = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, value)
    return value if math.isfinite(value) and value >= 0 else None


# -- rate limits ------------------------------------------------------------------------------


class RateLimiter:
    """Requests- and tokens-per-minute over a sliding 60 s window.

    `acquire` sleeps (on the given clock) until one more request of ``tokens`` fits in both
    budgets. A request bigger than the whole token budget waits for an empty window and then
    goes alone: the batch planner keeps batches within ``tokens_per_minute``, so that only
    happens to a single over-long text.
    """

    WINDOW: ClassVar[float] = 60.0

    def __init__(self, requests_per_minute: int | None, tokens_per_minute: int | None) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ConfigError(f"{name} must be a positive number or unset, got {value!r}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._events: deque[tuple[float, int]] = deque()

    @property
    def active(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def acquire(self, tokens: int, clock: Clock) -> float:
        """Wait until the request fits; return the seconds waited."""
        if not self.active:
            return 0.0
        waited = 0.0
        while True:
            now = clock.monotonic()
            while self._events and self._events[0][0] <= now - self.WINDOW:
                self._events.popleft()
            used = sum(t for _, t in self._events)
            rpm_ok = (
                self.requests_per_minute is None or len(self._events) < self.requests_per_minute
            )
            tpm_ok = (
                self.tokens_per_minute is None
                or used + tokens <= self.tokens_per_minute
                or not self._events
            )
            if rpm_ok and tpm_ok:
                self._events.append((now, tokens))
                return waited
            # The oldest request leaves the window first; wait for exactly that moment.
            pause = max(self._events[0][0] + self.WINDOW - now, 1e-3)
            clock.sleep(pause)
            waited += pause


# -- tokens -----------------------------------------------------------------------------------


class TokenCounter(Protocol):
    """Counts tokens and cuts a text to a token budget."""

    name: str

    def count(self, text: str) -> int: ...

    def truncate(self, text: str, limit: int) -> str: ...


class ByteCounter:
    """UTF-8 bytes as tokens: an upper bound for byte-level tokenizers, needing no download."""

    name = "utf8-bytes"

    def count(self, text: str) -> int:
        return len(text.encode("utf-8", "surrogatepass"))

    def truncate(self, text: str, limit: int) -> str:
        # "ignore" drops a character cut in half at the end, so the result stays within limit.
        return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


class TiktokenCounter:
    """Exact OpenAI token counts with tiktoken (which may download its BPE file once)."""

    def __init__(self, model: str) -> None:
        try:
            import tiktoken
        except ImportError as exc:
            raise MissingDependency(
                "tokenizer='tiktoken' needs the 'tiktoken' package. Install it with "
                "pip install 'embedgate[openai]', or use tokenizer='bytes'."
            ) from exc
        try:
            try:
                self._encoding = tiktoken.encoding_for_model(model)
            except KeyError:
                self._encoding = tiktoken.get_encoding("cl100k_base")
        except Exception as exc:  # tiktoken raises plain network and IO errors when offline
            raise ModelError(
                f"tiktoken cannot load the encoding for {model!r} ({type(exc).__name__}: {exc}). "
                "Offline, put the encoding file in TIKTOKEN_CACHE_DIR, or use tokenizer='bytes'."
            ) from exc
        self.name = f"tiktoken:{self._encoding.name}"

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def truncate(self, text: str, limit: int) -> str:
        ids = self._encoding.encode(text, disallowed_special=())
        cut = self._encoding.decode(ids[:limit])
        # Decoding a prefix and encoding it again can merge differently; shrink until it fits.
        while self.count(cut) > limit and cut:
            cut = cut[:-1]
        return cut


# -- secrets and endpoints --------------------------------------------------------------------


def endpoint_of(url: str) -> str:
    """``host[:port]/path`` of a base URL, without scheme, user info, query or fragment.

    Example:
        >>> endpoint_of("https://user:pw@llm.internal:8443/v1/?api-key=x#frag")
        'llm.internal:8443/v1'
    """
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port is not None else host
    return f"{netloc}{parts.path.rstrip('/')}"


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret (of 4 characters or more) replaced by ``[redacted]``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _chain_mentions(exc: BaseException, secrets: Sequence[str]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        blob = f"{current!s} {current!r}"
        if any(s and len(s) >= 4 and s in blob for s in secrets):
            return True
        current = current.__cause__ or current.__context__
    return False


# -- usage ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Usage:
    """What one adapter has sent and been billed for since it was built."""

    requests: int = 0
    retries: int = 0
    failed_batches: int = 0
    texts: int = 0
    input_tokens: int = 0
    provider_tokens: int = 0
    estimated_tokens: int = 0
    truncated_inputs: int = 0
    waited_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt, classified: what it was, what to say, how long the server asks."""

    kind: FailureKind
    detail: str
    retry_after: float | None = None


class MalformedReplyError(Exception):
    """A reply that does not match the request (internal; becomes `MalformedResponse`)."""


@dataclass(frozen=True, slots=True)
class _Item:
    text: str
    tokens: int
    truncated: bool


@dataclass(slots=True)
class _RoleCounters:
    batches: int = 0
    texts: int = 0


_ERRORS: Final[Mapping[FailureKind, type[ProviderError]]] = {
    "rate_limited": RateLimited,
    "transient": TransientProviderError,
    "malformed": MalformedResponse,
    "auth": ProviderError,
    "permanent": ProviderError,
}


# -- the request loop -------------------------------------------------------------------------


class _LoopCounts(Protocol):
    """The usage counters the retry loop moves."""

    requests: int
    retries: int
    waited_s: float


class RemoteAPI:
    """An API behind a key: the key read on first use, the lazy SDK client, and the retry loop.

    The base of `RemoteEmbedder` and of the chat adapters. Subclasses set `PROVIDER` and
    `_NO_KEY_TAIL`; their ``__init__`` sets `_model`, `_label`, `_endpoint`, `_limiter` and
    `_usage` and calls `_set_timeout_and_retries`; they implement `_key_env_vars`,
    `_make_client` (which also sets `_sdk`), `_classify` and `_advice`.

    Attributes:
        clock: where waits happen; set a `FakeClock` in tests.
        rng: the jitter source (a private `random.Random`; never the global one).
        retry: the `RetryPolicy`.
    """

    PROVIDER: ClassVar[str] = ""
    #: What the missing-key message says after the variables to set.
    _NO_KEY_TAIL: ClassVar[str] = "."

    _model: str
    _label: str
    _endpoint: str
    _timeout: float
    _limiter: RateLimiter
    _usage: _LoopCounts
    retry: RetryPolicy

    def __init__(self) -> None:
        self.clock: Clock = SystemClock()
        self.rng = random.Random()
        self._client: Any = None
        self._sdk: Any = None
        self._secret = ""

    def _set_timeout_and_retries(self, timeout: float, max_retries: int) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(
                f"{self._label}: timeout must be a positive number of seconds, got {timeout!r}"
            )
        self._timeout = float(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"{self._label}: max_retries must be 0 or more, got {max_retries!r}")
        self.retry = RetryPolicy(max_retries=max_retries)

    # -- what subclasses provide --------------------------------------------------------

    def _key_env_vars(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _make_client(self, key: str) -> Any:
        raise NotImplementedError

    def _classify(self, exc: Exception) -> Failure | None:
        """What a failed request was, or ``None`` for an exception that is not the provider's."""
        raise NotImplementedError

    def _advice(self, kind: FailureKind) -> str:
        """What to do about a failure of this kind, the last sentence of the error."""
        raise NotImplementedError

    def _gave_up(self) -> None:
        """Called once when `_with_retries` stops retrying and raises."""

    # -- internals ----------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model!r}, endpoint={self._endpoint!r})"

    def _ensure_client(self) -> Any:
        if self._client is not None:
            return self._client
        key = self._read_key()
        self._client = self._make_client(key)
        self._secret = key
        return self._client

    def _read_key(self) -> str:
        names = self._key_env_vars()
        if not names:
            return ""
        for env in names:
            value = os.environ.get(env, "").strip()
            if value:
                return value
        wanted = " or ".join(f"${n}" for n in names)
        raise MissingCredentials(f"{self._label}: no API key; set {wanted}{self._NO_KEY_TAIL}")

    def _with_retries(self, attempt: Callable[[], _T], *, where: str, tokens: int) -> _T:
        """``attempt()`` after the rate limiter, retried by `retry`; ``where`` heads messages.

        `attempt` raises `MalformedReplyError` for a reply that does not match the request;
        any other exception goes through `_classify`, and one it does not know is re-raised.
        """
        retries = malformed = 0
        while True:
            self._usage.waited_s += self._limiter.acquire(tokens, self.clock)
            self._usage.requests += 1
            cause: Exception
            try:
                return attempt()
            except MalformedReplyError as exc:
                failure, cause = Failure("malformed", str(exc)), exc
            except Exception as exc:
                classified = self._classify(exc)
                if classified is None:
                    raise
                failure, cause = classified, exc
            retryable = failure.kind in ("rate_limited", "transient") or (
                failure.kind == "malformed" and malformed < self.retry.malformed_retries
            )
            delay = None
            if retryable and retries < self.retry.max_retries:
                delay = self._delay(failure, retries)
            if delay is None:
                self._gave_up()
                raise self._error(failure, where, retries, cause)
            log.warning(
                "%s: %s; retry %d of %d in %.1f s",
                where,
                redact(failure.detail, [self._secret]),
                retries + 1,
                self.retry.max_retries,
                delay,
            )
            self.clock.sleep(delay)
            self._usage.retries += 1
            self._usage.waited_s += delay
            retries += 1
            malformed += failure.kind == "malformed"

    def _delay(self, failure: Failure, retries: int) -> float | None:
        if failure.retry_after is not None:
            if failure.retry_after > self.retry.max_retry_after:
                return None
            return failure.retry_after * (1 + 0.1 * self.rng.random())
        return self.retry.backoff(retries, self.rng)

    def _error(self, failure: Failure, where: str, retries: int, cause: Exception) -> ProviderError:
        parts = [f"{where}: {redact(failure.detail, [self._secret])}"]
        if retries:
            parts.append(f"still failing after {retries} retr{'y' if retries == 1 else 'ies'}")
        if failure.retry_after is not None and failure.retry_after > self.retry.max_retry_after:
            parts.append(
                f"the provider asks to wait {failure.retry_after:.0f} s, longer than the "
                f"{self.retry.max_retry_after:.0f} s embedgate waits (a spent quota?)"
            )
        error = _ERRORS[failure.kind]("; ".join(parts) + ". " + self._advice(failure.kind))
        if _chain_mentions(cause, [self._secret]):
            # The SDK's exception quotes the key; keep it out of every traceback.
            error.__cause__ = None
            error.__suppress_context__ = True
        else:
            error.__cause__ = cause
        return error

    def _key_advice(self) -> str:
        names = " or ".join(f"${n}" for n in self._key_env_vars()) or "the key"
        return f"Check the API key in {names}."


# -- the adapter base -------------------------------------------------------------------------


class RemoteEmbedder(RemoteAPI):
    """The request loop shared by the API adapters; subclasses fill in the provider.

    Subclasses set `PROVIDER`, `MAX_BATCH_SIZE`, `MAX_BATCH_TOKENS`, `MAX_INPUT_TOKENS`, and
    implement `_key_env_vars`, `_make_client`, `_request` and `_classify`.

    Attributes:
        clock: where waits happen; set a `FakeClock` in tests.
        rng: the jitter source (a private `random.Random`; never the global one).
        retry: the `RetryPolicy`.
        batch_size: texts per request at most (what the pipeline hands `embed` at once).
    """

    _NO_KEY_TAIL = (
        ". Runs whose embeddings are all in the cache need no key; this one has texts to embed."
    )
    MAX_BATCH_SIZE: ClassVar[int] = 1
    MAX_BATCH_TOKENS: ClassVar[int | None] = None
    MAX_INPUT_TOKENS: ClassVar[int] = 8192

    def __init__(
        self,
        model: str,
        *,
        name: str | None,
        dimensions: int | None,
        base_url: str,
        api_key_env: str | None,
        batch_size: int | None,
        max_batch_tokens: int | None,
        max_input_tokens: int | None,
        truncate: str,
        tokenizer: str,
        timeout: float,
        max_retries: int,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        price_per_million: float | None,
        normalize: bool,
        native_dimensions: int | None,
    ) -> None:
        super().__init__()
        self._model = model
        self._name = name or model
        self._label = f"{self.PROVIDER} {model}"
        if not model:
            raise ConfigError(f"{self.PROVIDER}: no model name given.")
        self._dimensions = _positive_or_none("dimensions", dimensions, self._label)
        self._native_dimensions = native_dimensions
        self._expected_dimensions = self._dimensions or native_dimensions
        self._base_url = base_url
        self._endpoint = endpoint_of(base_url)
        self._api_key_env = api_key_env
        cap = self.MAX_BATCH_SIZE
        self.batch_size = _positive_or_none("batch_size", batch_size, self._label) or cap
        if self.batch_size > cap:
            raise ConfigError(
                f"{self._label}: batch_size {self.batch_size} is over the provider's limit of "
                f"{cap} inputs per request. Use at most {cap}."
            )
        self._max_batch_tokens = (
            _positive_or_none("max_batch_tokens", max_batch_tokens, self._label)
            or self.MAX_BATCH_TOKENS
        )
        self._max_input_tokens = (
            _positive_or_none("max_input_tokens", max_input_tokens, self._label)
            or self.MAX_INPUT_TOKENS
        )
        if truncate not in _TRUNCATE_POLICIES:
            raise ConfigError(
                f"{self._label}: truncate={truncate!r} is not a policy. Use one of "
                f"{', '.join(_TRUNCATE_POLICIES)}: 'truncate' cuts texts over max_input_tokens, "
                "'error' refuses them before any request, 'none' sends them as they are."
            )
        self._truncate: TruncatePolicy = truncate  # type: ignore[assignment]
        if tokenizer not in _TOKENIZERS:
            raise ConfigError(
                f"{self._label}: tokenizer={tokenizer!r} is unknown. Use 'bytes' (UTF-8 bytes, "
                "an offline upper bound) or 'tiktoken' (exact OpenAI counts)."
            )
        self._tokenizer_name = tokenizer
        self._counter: TokenCounter | None = ByteCounter() if tokenizer == "bytes" else None
        self._set_timeout_and_retries(timeout, max_retries)
        self._limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        if tokens_per_minute is not None:
            # A batch must fit in one minute's budget, or it could never be sent.
            self._max_batch_tokens = min(
                self._max_batch_tokens or tokens_per_minute, tokens_per_minute
            )
        if price_per_million is not None and (
            isinstance(price_per_million, bool)
            or not isinstance(price_per_million, int | float)
            or price_per_million < 0
        ):
            raise ConfigError(
                f"{self._label}: price_per_million must be a number of USD >= 0, got "
                f"{price_per_million!r}"
            )
        self._price_option = None if price_per_million is None else float(price_per_million)
        self._normalize = bool(normalize)
        self._usage: Usage = Usage()
        self._counters = {role: _RoleCounters() for role in Role}

    # -- what subclasses provide --------------------------------------------------------

    def _request(
        self, client: Any, texts: Sequence[str], role: Role
    ) -> tuple[list[Any], int | None]:
        """One request: ``(rows of numbers or base64 strings, billed tokens or None)``."""
        raise NotImplementedError

    def _info_extra(self) -> dict[str, Any]:
        return {}

    # -- the Embedder protocol ----------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self._name,
            provider=self.PROVIDER,
            model=self._model,
            dimensions=self._expected_dimensions,
            max_tokens=self._max_input_tokens,
            extra={
                "endpoint": self._endpoint,
                "truncate": self._truncate,
                "tokenizer": self._tokenizer_label(),
                "normalize": self._normalize,
                **self._info_extra(),
            },
        )

    def _identity_base(self) -> dict[str, Any]:
        truncation: dict[str, Any]
        if self._truncate == "truncate":
            truncation = {
                "policy": "truncate",
                "max_input_tokens": self._max_input_tokens,
                "counter": self._tokenizer_label(),
            }
        else:
            # 'error' and 'none' both send every text whole, so their vectors are the same.
            truncation = {"policy": "whole"}
        return {
            "provider": self.PROVIDER,
            "model": self._model,
            "endpoint": self._endpoint,
            # The configured size, never one learned from a reply: the identity must be the
            # same before and after the first request, or the cache would split in two.
            "dimensions": self._dimensions or self._native_dimensions,
            "normalize": self._normalize,
            "truncation": truncation,
        }

    def identity(self) -> Mapping[str, Any]:
        return self._identity_base()

    def usage(self) -> dict[str, Any]:
        """Requests, retries, tokens and the estimated cost so far, JSON-ready.

        ``input_tokens`` are the provider's counts where its reply gives them, else the
        UTF-8-byte upper bound (``estimated_tokens`` says how many were estimated). The cost
        is ``input_tokens / 1e6 * price``; ``None`` when no price is known.
        """
        u = self._usage
        price, source = self._price()
        cost = None if price is None else u.input_tokens / 1e6 * price
        return {
            "provider": self.PROVIDER,
            "model": self._model,
            "requests": u.requests,
            "retries": u.retries,
            "failed_batches": u.failed_batches,
            "texts": u.texts,
            "input_tokens": u.input_tokens,
            "provider_tokens": u.provider_tokens,
            "estimated_tokens": u.estimated_tokens,
            "truncated_inputs": u.truncated_inputs,
            "waited_s": round(u.waited_s, 3),
            "price_per_million_usd": price,
            "price_source": source,
            "estimated_cost_usd": cost,
        }

    def _price(self) -> tuple[float | None, str | None]:
        if self._price_option is not None:
            return self._price_option, "option price_per_million"
        if not self._is_official_endpoint():
            return None, None
        price = price_per_million(self.PROVIDER, self._model)
        if price is None:
            return None, None
        return price, f"embedgate price table as of {PRICES_AS_OF}"

    def _is_official_endpoint(self) -> bool:
        return False

    def plan_batches(self, texts: Sequence[str]) -> list[int]:
        """Sizes of consecutive batches of ``texts``, each one request within every limit.

        Limits: ``batch_size`` inputs, ``max_batch_tokens`` tokens (and ``tokens_per_minute``
        when set); texts over ``max_input_tokens`` count as truncated (or raise, with
        ``truncate='error'``). Needs no key and sends nothing.

        Example:
            >>> from embedgate.models.openai import OpenAIEmbedder
            >>> OpenAIEmbedder(batch_size=2, max_batch_tokens=10).plan_batches(
            ...     ["abcd", "efgh", "ij", "klmnopqrst"])
            [2, 1, 1]
        """
        items = self._prepare(texts)
        return self._plan([i.tokens for i in items])

    def estimate_tokens(self, texts: Sequence[str]) -> tuple[int, str]:
        """What ``texts`` would cost in input tokens, and how they were counted.

        Counts as a request would (after truncation; empty texts are free) with this
        adapter's counter, so with the default ``utf8-bytes`` counter the figure is an upper
        bound. Needs no key and sends nothing: it prices what the cache answered.
        """
        return sum(item.tokens for item in self._prepare(texts)), self._count().name

    def embed(self, texts: Sequence[str], role: Role) -> npt.NDArray[np.float32]:
        """Embed ``texts`` as ``role``: float32 ``(len(texts), dimensions)``, in order.

        Splits into as many requests as the limits need (see `plan_batches`).

        Raises:
            MissingCredentials: no key in the environment (checked before any request).
            RateLimited, TransientProviderError: still failing after the retries.
            MalformedResponse: a reply with the wrong count, dimensions or NaN, twice.
            ProviderError: a rejected key, an unknown model, a refused request.
            ModelError: a text over the limit with ``truncate='error'``.

        Empty texts (real corpora have some; providers refuse them) are not sent: they get a
        zero vector, which no query is similar to.
        """
        role = Role(role)
        items = self._prepare(texts)
        sent = [i for i in items if i.text]
        if not sent:
            return np.zeros((len(items), self._expected_dimensions or 0), dtype=np.float32)
        client = self._ensure_client()
        parts: list[npt.NDArray[np.float32]] = []
        start = 0
        for size in self._plan([i.tokens for i in sent]):
            parts.append(self._send(client, sent[start : start + size], role))
            start += size
        vectors = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if len(sent) == len(items):
            return vectors
        out = np.zeros((len(items), vectors.shape[1]), dtype=np.float32)
        out[[k for k, i in enumerate(items) if i.text]] = vectors
        return out

    # -- internals ----------------------------------------------------------------------

    def _tokenizer_label(self) -> str:
        return ByteCounter.name if self._tokenizer_name == "bytes" else f"tiktoken:{self._model}"

    def _count(self) -> TokenCounter:
        if self._counter is None:
            self._counter = TiktokenCounter(self._model)
        return self._counter

    def _prepare(self, texts: Sequence[str]) -> list[_Item]:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one str")
        if not texts:
            return []
        counter = self._count()
        limit = self._max_input_tokens
        items: list[_Item] = []
        over: list[int] = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i + 1} is {type(text).__name__}, not str")
            if not text:
                items.append(_Item("", 0, False))  # not sent; embed() gives it a zero vector
                continue
            tokens = counter.count(text)
            if tokens > limit and self._truncate == "truncate":
                cut = counter.truncate(text, limit)
                items.append(_Item(cut, counter.count(cut), True))
            else:
                if tokens > limit:
                    over.append(i)
                items.append(_Item(text, tokens, False))
        if over and self._truncate == "error":
            first = over[0]
            raise ModelError(
                f"{self._label}: {len(over)} text(s) are over max_input_tokens={limit} "
                f"(counted as {counter.name}), first text {first + 1} of {len(texts)} given, with "
                f"{items[first].tokens}. Set truncate='truncate' to cut them, truncate='none' "
                "to let the provider decide, or shorten them in the dataset."
            )
        return items

    def _plan(self, tokens: Sequence[int]) -> list[int]:
        cap_n = self.batch_size
        cap_t = self._max_batch_tokens
        sizes: list[int] = []
        count = used = 0
        for t in tokens:
            if count and (count + 1 > cap_n or (cap_t is not None and used + t > cap_t)):
                sizes.append(count)
                count = used = 0
            count += 1
            used += t
        if count:
            sizes.append(count)
        return sizes

    def _send(self, client: Any, items: Sequence[_Item], role: Role) -> npt.NDArray[np.float32]:
        counters = self._counters[role]
        first = counters.texts + 1
        where = (
            f"{self._label}, {role.value} batch {counters.batches + 1} "
            f"(texts {first}\u2013{first + len(items) - 1})"
        )
        texts = [i.text for i in items]
        estimate = sum(i.tokens for i in items)

        def attempt() -> tuple[npt.NDArray[np.float32], int | None]:
            rows, billed = self._request(client, texts, role)
            return self._validate(rows, len(texts)), billed

        vectors, billed = self._with_retries(attempt, where=where, tokens=estimate)
        self._record_success(items, billed, estimate)
        counters.batches += 1
        counters.texts += len(items)
        return vectors

    def _gave_up(self) -> None:
        self._usage.failed_batches += 1

    def _advice(self, kind: FailureKind) -> str:
        cached = "Vectors received before this batch are cached; a rerun asks only for the rest."
        if kind == "rate_limited":
            return f"Lower requests_per_minute or tokens_per_minute, or rerun later. {cached}"
        if kind == "transient":
            return f"Rerun later, or raise timeout / max_retries. {cached}"
        if kind == "malformed":
            return (
                "The reply does not match the request; if the server is OpenAI-compatible, "
                "check that it supports the options set (dimensions, encoding_format)."
            )
        if kind == "auth":
            return self._key_advice()
        return "Check the model name, endpoint and options."

    def _validate(self, rows: Sequence[Any], n: int) -> npt.NDArray[np.float32]:
        if len(rows) != n:
            raise MalformedReplyError(f"the reply holds {len(rows)} vectors for {n} texts")
        decoded = [self._decode(row, i) for i, row in enumerate(rows)]
        sizes = {v.shape[0] for v in decoded}
        if len(sizes) > 1:
            raise MalformedReplyError(f"the reply mixes vector lengths {sorted(sizes)}")
        dims = sizes.pop()
        if dims == 0:
            raise MalformedReplyError("the reply holds empty vectors")
        expected = self._expected_dimensions
        if expected is not None and dims != expected:
            asked = "asked for" if self._dimensions else "expected"
            raise MalformedReplyError(
                f"the reply has {dims}-dimensional vectors; {asked} {expected}"
            )
        matrix = np.stack(decoded)
        finite = np.isfinite(matrix).all(axis=1)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise MalformedReplyError(f"vector {bad + 1} of the reply has a NaN or infinite value")
        if self._normalize:
            norms = np.linalg.norm(matrix.astype(np.float64), axis=1, keepdims=True)
            if (norms == 0).any():
                raise MalformedReplyError(
                    "the reply holds an all-zero vector, which cannot be normalized"
                )
            matrix = (matrix / norms).astype(np.float32)
        if self._expected_dimensions is None:
            # A compatible server's model without a known size: the first reply sets it.
            self._expected_dimensions = dims
        return np.ascontiguousarray(matrix, dtype=np.float32)

    @staticmethod
    def _decode(row: Any, i: int) -> npt.NDArray[np.float32]:
        if isinstance(row, str | bytes):
            try:
                raw = base64.b64decode(row, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedReplyError(f"vector {i + 1} is not valid base64 ({exc})") from exc
            if len(raw) % 4:
                raise MalformedReplyError(
                    f"vector {i + 1} holds {len(raw)} bytes, not float32 values"
                )
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        if row is None:
            raise MalformedReplyError(f"vector {i + 1} of the reply is missing")
        try:
            array = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise MalformedReplyError(f"vector {i + 1} is not a list of numbers ({exc})") from exc
        if array.ndim != 1:
            raise MalformedReplyError(f"vector {i + 1} has shape {array.shape}, not a flat list")
        with np.errstate(over="ignore"):
            return array.astype(np.float32)

    def _record_success(self, items: Sequence[_Item], billed: int | None, estimate: int) -> None:
        u = self._usage
        u.texts += len(items)
        u.truncated_inputs += sum(i.truncated for i in items)
        if billed is not None and billed >= 0:
            u.provider_tokens += billed
            u.input_tokens += billed
        else:
            u.estimated_tokens += estimate
            u.input_tokens += estimate
        truncated = sum(i.truncated for i in items)
        if truncated:
            log.warning(
                "%s: cut %d text(s) to max_input_tokens=%d (counted as %s). "
                "Their vectors describe only the start of each text.",
                self._label,
                truncated,
                self._max_input_tokens,
                self._tokenizer_label(),
            )


def _positive_or_none(name: str, value: Any, label: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{label}: {name} must be a positive whole number, got {value!r}")
    return value


def transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """``(timeouts, other transport errors)`` of whichever of httpx and httpx2 are installed."""
    import importlib

    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


def describe_transport(exc: BaseException, timeout: float) -> Failure | None:
    """A `Failure` for an httpx/httpx2 timeout or connection error, else ``None``."""
    timeouts, transport = transport_errors()
    if isinstance(exc, timeouts):
        return Failure("transient", f"no reply within the {timeout:g} s timeout")
    if isinstance(exc, transport):
        return Failure("transient", f"the connection failed ({_short(exc)})")
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def status_kind(status: int) -> FailureKind:
    """The failure kind of an HTTP status: 429 rate limit, 401/403 auth, 408/409/5xx transient."""
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status in (408, 409) or status >= 500:
        return "transient"
    return "permanent"


_WS = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    """A provider message on one line, cut to ``limit`` characters."""
    flat = _WS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"
