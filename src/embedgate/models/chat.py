"""Chat models for the golden-set builder: OpenAI chat completions and Gemini generate_content.

`embedgate.datasets.build` asks an LLM for candidate queries through one narrow seam, a
``generate(prompt) -> reply text`` callable; this module supplies it for two providers, on
their real SDKs (imported on the first request), with the request machinery the embedding
adapters use (`embedgate.models._remote`): keys read from the environment only when a request
needs one and scrubbed from every message, the same `RetryPolicy` (bounded exponential backoff
with equal jitter, ``Retry-After`` honoured up to 120 s), the same `RateLimiter`, a `Clock`
that tests replace with a `FakeClock`, and vendor errors mapped to ours.

Spec examples (``embedgate golden build --llm``)::

    openai:gpt-4o-mini
    gemini:gemini-2.5-flash

A reply is retried when it is a 429, 408/409, 5xx, a timeout, a dropped connection, or a
malformed reply (cut-off JSON, no choice, empty text; once, as for embeddings). What the text
says is the builder's business: a reply that is not the JSON the prompt asked for is a
successful request here.

Why not refactor `RemoteEmbedder._send` into a shared loop: its counters, batch labels and
validation are the embedding's; the loop here is the same twenty lines over the same shared
pieces (`RetryPolicy.backoff`, `parse_retry_after`, `RateLimiter.acquire`, `redact`), so the
policy, its numbers and its log lines are one and the same.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, runtime_checkable

from embedgate._optional import import_optional
from embedgate.errors import ConfigError, MissingCredentials
from embedgate.models._remote import (
    _ERRORS,
    Clock,
    Failure,
    FailureKind,
    MalformedReplyError,
    RateLimiter,
    RetryPolicy,
    SystemClock,
    _chain_mentions,
    describe_transport,
    endpoint_of,
    one_line,
    parse_retry_after,
    redact,
    status_kind,
)
from embedgate.models.gemini import _KEY_ENV as _GEMINI_KEY_ENV
from embedgate.models.gemini import _retry_info

if TYPE_CHECKING:
    from collections.abc import Mapping

    from embedgate.errors import ProviderError

__all__ = [
    "CHAT_PROVIDERS",
    "ChatModel",
    "GeminiChat",
    "OpenAIChat",
    "load_chat_model",
]

log = logging.getLogger("embedgate.models")

_STATUS_PREFIX: Final = re.compile(r"^Error code: \d+ - ")
_NO_KEY: Final = frozenset({"", "none"})


@runtime_checkable
class ChatModel(Protocol):
    """What the builder needs from an LLM: one prompt in, the reply's text out."""

    @property
    def label(self) -> str:
        """``provider model``, for messages and the dataset card."""
        ...

    def identity(self) -> Mapping[str, Any]:
        """Provider, model, endpoint and sampling settings (never a key)."""
        ...

    def generate(self, prompt: str, *, system: str | None = None) -> str:
        """The reply text to ``prompt`` (a user message), after ``system`` instructions."""
        ...


@dataclass(slots=True)
class _ChatUsage:
    requests: int = 0
    retries: int = 0
    replies: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    waited_s: float = 0.0


class _RemoteChat:
    """The request loop both chat adapters share; subclasses fill in the provider."""

    PROVIDER: ClassVar[str] = ""

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key_env: str | None,
        temperature: float,
        max_output_tokens: int | None,
        json_mode: bool,
        timeout: float,
        max_retries: int,
        requests_per_minute: int | None,
    ) -> None:
        if not model:
            raise ConfigError(f"{self.PROVIDER}: no chat model name given.")
        self._model = model
        self._label = f"{self.PROVIDER} {model}"
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 <= temperature <= 2
        ):
            raise ConfigError(
                f"{self._label}: temperature must be a number from 0 to 2, got {temperature!r}"
            )
        if max_output_tokens is not None and (
            isinstance(max_output_tokens, bool)
            or not isinstance(max_output_tokens, int)
            or max_output_tokens < 1
        ):
            raise ConfigError(
                f"{self._label}: max_output_tokens must be a positive whole number or unset, "
                f"got {max_output_tokens!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(
                f"{self._label}: timeout must be a positive number of seconds, got {timeout!r}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"{self._label}: max_retries must be 0 or more, got {max_retries!r}")
        self._base_url = base_url
        self._endpoint = endpoint_of(base_url)
        self._api_key_env = api_key_env
        self._temperature = float(temperature)
        self._max_output_tokens = max_output_tokens
        self._json_mode = bool(json_mode)
        self._timeout = float(timeout)
        self.retry = RetryPolicy(max_retries=max_retries)
        self._limiter = RateLimiter(requests_per_minute, None)
        self.clock: Clock = SystemClock()
        self.rng = random.Random()
        self._usage = _ChatUsage()
        self._client: Any = None
        self._sdk: Any = None
        self._secret = ""

    # -- what subclasses provide --------------------------------------------------------

    def _key_env_vars(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _make_client(self, key: str) -> Any:
        raise NotImplementedError

    def _request(
        self, client: Any, prompt: str, system: str | None
    ) -> tuple[str, int | None, int | None]:
        """One request: ``(reply text, input tokens or None, output tokens or None)``."""
        raise NotImplementedError

    def _classify(self, exc: Exception) -> Failure | None:
        raise NotImplementedError

    # -- the ChatModel protocol ---------------------------------------------------------

    @property
    def label(self) -> str:
        return self._label

    def identity(self) -> Mapping[str, Any]:
        return {
            "provider": self.PROVIDER,
            "model": self._model,
            "endpoint": self._endpoint,
            "temperature": self._temperature,
            "max_output_tokens": self._max_output_tokens,
            "json_mode": self._json_mode,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model!r}, endpoint={self._endpoint!r})"

    def check_credentials(self) -> None:
        """Read the key now (and build the client), so a missing one stops a run at once.

        Raises:
            MissingCredentials: no key in any of the variables; the message names them.
        """
        self._ensure_client()

    def usage(self) -> dict[str, Any]:
        """Requests, retries and tokens so far, JSON-ready (the provider's counts)."""
        u = self._usage
        return {
            "provider": self.PROVIDER,
            "model": self._model,
            "requests": u.requests,
            "retries": u.retries,
            "replies": u.replies,
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "waited_s": round(u.waited_s, 3),
        }

    def generate(self, prompt: str, *, system: str | None = None) -> str:
        """Send ``prompt`` and return the reply's text, retrying what a retry can heal.

        Raises:
            MissingCredentials: no key in the environment (before any request).
            RateLimited, TransientProviderError: still failing after the retries.
            MalformedResponse: a reply with no text, twice.
            ProviderError: a rejected key, an unknown model, a refused request.
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConfigError(f"{self._label}: generate() needs a non-empty prompt string.")
        client = self._ensure_client()
        where = f"{self._label} at {self._endpoint}, request {self._usage.replies + 1}"
        retries = malformed = 0
        while True:
            self._usage.waited_s += self._limiter.acquire(1, self.clock)
            self._usage.requests += 1
            cause: Exception
            try:
                text, tokens_in, tokens_out = self._request(client, prompt, system)
                if not isinstance(text, str) or not text.strip():
                    raise MalformedReplyError("the reply holds no text")
            except MalformedReplyError as exc:
                failure, cause = Failure("malformed", str(exc)), exc
            except Exception as exc:
                classified = self._classify(exc)
                if classified is None:
                    raise
                failure, cause = classified, exc
            else:
                self._usage.replies += 1
                self._usage.input_tokens += tokens_in or 0
                self._usage.output_tokens += tokens_out or 0
                return text
            retryable = failure.kind in ("rate_limited", "transient") or (
                failure.kind == "malformed" and malformed < self.retry.malformed_retries
            )
            delay = None
            if retryable and retries < self.retry.max_retries:
                delay = self._delay(failure, retries)
            if delay is None:
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

    # -- internals ----------------------------------------------------------------------

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
        raise MissingCredentials(
            f"{self._label}: no API key; set {wanted} to generate queries with this model. "
            "Nothing was sent."
        )

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

    def _advice(self, kind: FailureKind) -> str:
        kept = "Replies received so far are kept; a rerun asks only for the rest."
        if kind == "rate_limited":
            return f"Lower --requests-per-minute, or rerun later. {kept}"
        if kind == "transient":
            return f"Rerun later, or raise --timeout / --max-retries. {kept}"
        if kind == "malformed":
            return (
                "The reply does not match the request; if the server is OpenAI-compatible, "
                f"check that it supports chat completions. {kept}"
            )
        if kind == "auth":
            names = " or ".join(f"${n}" for n in self._key_env_vars()) or "the key"
            return f"Check the API key in {names}."
        return "Check the model name, endpoint and options."


class OpenAIChat(_RemoteChat):
    """An OpenAI chat model, or any server speaking ``POST /v1/chat/completions``.

    Args:
        model: the chat model (default ``gpt-4o-mini``).
        base_url: the API root; default ``$OPENAI_BASE_URL`` or ``https://api.openai.com/v1``.
        api_key_env: the env var holding the key (default ``OPENAI_API_KEY``); ``"none"`` for
            a local server that wants none.
        temperature: sampling temperature, 0 to 2 (default 0.7: varied queries).
        max_output_tokens: a cap on the reply (``max_tokens``); unset: the server's.
        json_mode: ask for a JSON object (``response_format``); turn off for servers that
            refuse the option.
        timeout: seconds to wait for one reply.
        max_retries: retries per prompt for 429, 5xx, timeouts, resets and malformed replies.
        requests_per_minute: a client-side rate limit; unset: none.

    Example:
        >>> OpenAIChat("gpt-4o-mini").identity()["endpoint"]
        'api.openai.com/v1'
    """

    PROVIDER = "openai"

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.7,
        max_output_tokens: int | None = None,
        json_mode: bool = True,
        timeout: float = 120.0,
        max_retries: int = 6,
        requests_per_minute: int | None = None,
    ) -> None:
        if not isinstance(api_key_env, str):
            raise ConfigError(f"openai {model}: api_key_env must be an env var name or 'none'.")
        super().__init__(
            model,
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
            api_key_env=api_key_env,
            temperature=temperature,
            max_output_tokens=max_output_tokens,
            json_mode=json_mode,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_minute=requests_per_minute,
        )

    def _key_env_vars(self) -> tuple[str, ...]:
        env = self._api_key_env or ""
        return () if env.strip().lower() in _NO_KEY else (env,)

    def _make_client(self, key: str) -> Any:
        self._sdk = import_optional("openai", "openai")
        # Our loop owns backoff, logging and error mapping, so the SDK must not retry too.
        return self._sdk.OpenAI(
            api_key=key or "no-key",
            base_url=self._base_url,
            timeout=self._timeout,
            max_retries=0,
        )

    def _request(
        self, client: Any, prompt: str, system: str | None
    ) -> tuple[str, int | None, int | None]:
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        options: dict[str, Any] = {"temperature": self._temperature}
        if self._json_mode:
            options["response_format"] = {"type": "json_object"}
        if self._max_output_tokens is not None:
            options["max_tokens"] = self._max_output_tokens
        reply = client.chat.completions.create(model=self._model, messages=messages, **options)
        choices = getattr(reply, "choices", None)
        if not choices:
            raise MalformedReplyError("the reply holds no choice")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str):
            raise MalformedReplyError("the reply's first choice has no text")
        usage = getattr(reply, "usage", None)
        return (
            text,
            _int(getattr(usage, "prompt_tokens", None)),
            _int(getattr(usage, "completion_tokens", None)),
        )

    def _classify(self, exc: Exception) -> Failure | None:
        sdk = self._sdk
        if sdk is None:
            return None
        if isinstance(exc, sdk.APITimeoutError):
            return Failure("transient", f"no reply within the {self._timeout:g} s timeout")
        if isinstance(exc, sdk.APIConnectionError):
            cause = exc.__cause__
            why = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
            return Failure("transient", f"the connection failed ({one_line(why, 160)})")
        if isinstance(exc, sdk.APIStatusError):
            status = int(exc.status_code)
            kind = status_kind(status)
            if kind == "auth":
                # OpenAI's 401 message quotes part of the key; say what happened without it.
                return Failure(kind, f"the provider refused the API key (HTTP {status})")
            message = one_line(_STATUS_PREFIX.sub("", str(getattr(exc, "message", "") or exc)))
            if status == 404:
                return Failure(
                    kind,
                    f"chat model {self._model!r} was not found at {self._endpoint} "
                    f"(HTTP 404: {message})",
                )
            retry_after = None
            if kind in ("rate_limited", "transient"):
                retry_after = parse_retry_after(getattr(exc.response, "headers", None))
            return Failure(kind, f"HTTP {status}: {message}", retry_after)
        if isinstance(exc, sdk.APIResponseValidationError | json.JSONDecodeError):
            return Failure(
                "malformed", f"the reply is not the JSON asked for ({one_line(str(exc), 160)})"
            )
        if isinstance(exc, sdk.OpenAIError):
            return Failure("permanent", one_line(str(exc)))
        return describe_transport(exc, self._timeout)


class GeminiChat(_RemoteChat):
    """A Gemini model through ``google-genai``'s ``models.generate_content``.

    Args:
        model: the model (default ``gemini-2.5-flash``; ``models/`` optional).
        base_url: the API root; default ``$GOOGLE_GEMINI_BASE_URL`` or Google's.
        api_key_env: the env var holding the key; default ``GOOGLE_API_KEY``, then
            ``GEMINI_API_KEY`` (the SDK's order, as for `GeminiEmbedder`).
        temperature, max_output_tokens, json_mode, timeout, max_retries,
        requests_per_minute: as for `OpenAIChat` (``json_mode`` sets
            ``response_mime_type="application/json"``).

    Example:
        >>> GeminiChat().identity()["endpoint"]
        'generativelanguage.googleapis.com'
    """

    PROVIDER = "gemini"

    def __init__(
        self,
        model: str = "gemini-2.5-flash",
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        temperature: float = 0.7,
        max_output_tokens: int | None = None,
        json_mode: bool = True,
        timeout: float = 120.0,
        max_retries: int = 6,
        requests_per_minute: int | None = None,
    ) -> None:
        super().__init__(
            model.removeprefix("models/"),
            base_url=base_url
            or os.environ.get("GOOGLE_GEMINI_BASE_URL")
            or "https://generativelanguage.googleapis.com/",
            api_key_env=api_key_env,
            temperature=temperature,
            max_output_tokens=max_output_tokens,
            json_mode=json_mode,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_minute=requests_per_minute,
        )

    def _key_env_vars(self) -> tuple[str, ...]:
        return (self._api_key_env,) if self._api_key_env else _GEMINI_KEY_ENV

    def _make_client(self, key: str) -> Any:
        genai = import_optional("google.genai", "gemini")
        self._sdk = genai
        # No retry_options: the SDK then tries once, and our loop owns retries.
        options = genai.types.HttpOptions(
            base_url=self._base_url, timeout=max(1, round(self._timeout * 1000))
        )
        return genai.Client(api_key=key, vertexai=False, http_options=options)

    def _request(
        self, client: Any, prompt: str, system: str | None
    ) -> tuple[str, int | None, int | None]:
        config = self._sdk.types.GenerateContentConfig(
            temperature=self._temperature,
            max_output_tokens=self._max_output_tokens,
            response_mime_type="application/json" if self._json_mode else None,
            system_instruction=system or None,
        )
        reply = client.models.generate_content(model=self._model, contents=prompt, config=config)
        candidates = getattr(reply, "candidates", None) or []
        if not candidates:
            raise MalformedReplyError("the reply holds no candidate")
        content = getattr(candidates[0], "content", None)
        parts = getattr(content, "parts", None) or []
        # Read the parts ourselves: `reply.text` warns on non-text parts, and warnings fail
        # a strict test run.
        text = "".join(p.text for p in parts if isinstance(getattr(p, "text", None), str))
        usage = getattr(reply, "usage_metadata", None)
        return (
            text,
            _int(getattr(usage, "prompt_token_count", None)),
            _int(getattr(usage, "candidates_token_count", None)),
        )

    def _classify(self, exc: Exception) -> Failure | None:
        sdk = self._sdk
        if sdk is None:
            return None
        if isinstance(exc, sdk.errors.APIError):
            code = int(exc.code or 0)
            state = exc.status or ""
            message = one_line(str(exc.message or ""))
            details = json.dumps(exc.details, default=str) if exc.details is not None else ""
            if "API_KEY_INVALID" in details or "API key not valid" in message:
                return Failure("auth", f"the provider refused the API key (HTTP {code} {state})")
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
                return Failure(
                    kind,
                    f"chat model {self._model!r} was not found at {self._endpoint} "
                    f"(HTTP 404: {message})",
                )
            detail = f"HTTP {code} {state}: {message}".replace("  ", " ")
            return Failure(kind, detail, retry_after)
        if isinstance(exc, json.JSONDecodeError):
            return Failure("malformed", f"the reply is not valid JSON ({one_line(str(exc), 160)})")
        if type(exc).__module__.startswith("pydantic") and type(exc).__name__ == "ValidationError":
            return Failure(
                "malformed", f"the reply is not the shape asked for ({one_line(str(exc), 160)})"
            )
        return describe_transport(exc, self._timeout)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: ``provider -> adapter class`` for `load_chat_model`.
CHAT_PROVIDERS: Final[Mapping[str, type[_RemoteChat]]] = {
    "openai": OpenAIChat,
    "gemini": GeminiChat,
}


def load_chat_model(spec: str, **options: Any) -> OpenAIChat | GeminiChat:
    """A chat adapter from ``"provider:model"`` (``openai:gpt-4o-mini``).

    Args:
        spec: ``openai:MODEL`` or ``gemini:MODEL``; a bare provider takes its default model.
        options: keyword options of the adapter (``base_url``, ``temperature``, ...);
            ``None`` values are left out.

    Raises:
        ConfigError: an unknown provider or option.

    Example:
        >>> load_chat_model("gemini:gemini-2.5-flash", temperature=0.2).label
        'gemini gemini-2.5-flash'
    """
    provider, _, model = spec.partition(":")
    provider = provider.strip().lower()
    if provider not in CHAT_PROVIDERS:
        raise ConfigError(
            f"chat model {spec!r}: unknown provider {provider!r}. Use one of "
            f"{', '.join(f'{p}:MODEL' for p in CHAT_PROVIDERS)} (e.g. openai:gpt-4o-mini)."
        )
    kwargs = {k: v for k, v in options.items() if v is not None}
    if model.strip():
        kwargs["model"] = model.strip()
    factory = OpenAIChat if provider == "openai" else GeminiChat
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"chat model {spec!r}: {exc}") from exc
