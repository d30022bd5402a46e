"""Chat models for the golden-set builder: OpenAI chat completions and Gemini generate_content.

`embedgate.datasets.build` asks an LLM for candidate queries through one narrow seam, a
``generate(prompt) -> reply text`` callable; this module supplies it for two providers, on
their real SDKs (imported on the first request), with the request machinery the embedding
adapters use (`embedgate.models._remote.RemoteAPI`): keys read from the environment only when
a request needs one and scrubbed from every message, the same retry loop and `RetryPolicy`
(bounded exponential backoff with equal jitter, ``Retry-After`` honoured up to 120 s), the
same `RateLimiter`, a `Clock` that tests replace with a `FakeClock`, and vendor errors mapped
to ours by the embedding adapters' own readers (`embedgate.models.openai.openai_failure`,
`embedgate.models.gemini.gemini_failure`), on SDK clients built the same way.

Spec examples (``embedgate golden build --llm``)::

    openai:gpt-4o-mini
    gemini:gemini-2.5-flash

A reply is retried when it is a 429, 408/409, 5xx, a timeout, a dropped connection, or a
malformed reply (cut-off JSON, no choice, empty text; once, as for embeddings). What the text
says is the builder's business: a reply that is not the JSON the prompt asked for is a
successful request here.

`generate` and `RemoteEmbedder._send` run the same loop (`RemoteAPI._with_retries`), so the
policy, its numbers and its log lines are one and the same; the embedding keeps its counters,
batch labels and validation to itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from embedgate._optional import import_optional
from embedgate.errors import ConfigError
from embedgate.models._remote import (
    MalformedReplyError,
    RateLimiter,
    RemoteAPI,
    endpoint_of,
)
from embedgate.models.gemini import _KEY_ENV as _GEMINI_KEY_ENV
from embedgate.models.gemini import gemini_client, gemini_failure
from embedgate.models.openai import openai_client, openai_failure

if TYPE_CHECKING:
    from collections.abc import Mapping

    from embedgate.models._remote import Failure, FailureKind

__all__ = [
    "CHAT_PROVIDERS",
    "ChatModel",
    "GeminiChat",
    "OpenAIChat",
    "load_chat_model",
]

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


class _RemoteChat(RemoteAPI):
    """The request loop both chat adapters share; subclasses fill in the provider."""

    _NO_KEY_TAIL = " to generate queries with this model. Nothing was sent."

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
        super().__init__()
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
        self._set_timeout_and_retries(timeout, max_retries)
        self._base_url = base_url
        self._endpoint = endpoint_of(base_url)
        self._api_key_env = api_key_env
        self._temperature = float(temperature)
        self._max_output_tokens = max_output_tokens
        self._json_mode = bool(json_mode)
        self._limiter = RateLimiter(requests_per_minute, None)
        self._usage: _ChatUsage = _ChatUsage()

    # -- what subclasses provide --------------------------------------------------------

    def _request(
        self, client: Any, prompt: str, system: str | None
    ) -> tuple[str, int | None, int | None]:
        """One request: ``(reply text, input tokens or None, output tokens or None)``."""
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

        def attempt() -> tuple[str, int | None, int | None]:
            text, tokens_in, tokens_out = self._request(client, prompt, system)
            if not isinstance(text, str) or not text.strip():
                raise MalformedReplyError("the reply holds no text")
            return text, tokens_in, tokens_out

        text, tokens_in, tokens_out = self._with_retries(attempt, where=where, tokens=1)
        self._usage.replies += 1
        self._usage.input_tokens += tokens_in or 0
        self._usage.output_tokens += tokens_out or 0
        return text

    # -- internals ----------------------------------------------------------------------

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
            return self._key_advice()
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
        return openai_client(self._sdk, key, self._base_url, self._timeout)

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
        return openai_failure(exc, self, noun="chat model")


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
        self._sdk = import_optional("google.genai", "gemini")
        return gemini_client(self._sdk, key, self._base_url, self._timeout)

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
        return gemini_failure(exc, self, noun="chat model")


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
