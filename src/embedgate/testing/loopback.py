"""A loopback embedding and chat server that speaks the OpenAI and Gemini wire formats.

The API adapters are tested through the real ``openai`` and ``google-genai`` SDKs against
this server on ``127.0.0.1``, so no test needs a network or a key, and every fault a provider
can produce (429 with or without ``Retry-After``, 5xx, a reply slower than the client's
timeout, a dropped connection, malformed or short replies) can be injected on cue. It ships
in the package so that a team can run its own suite against it in CI.

Endpoints::

    POST /v1/embeddings                                  OpenAI (and OpenAI-compatible servers)
    POST /{version}/models/{model}:batchEmbedContents    Gemini, one embedding per request item
    POST /{version}/models/{model}:embedContent          Gemini, one content
    POST /v1/chat/completions                            OpenAI chat (the golden-set builder)
    POST /{version}/models/{model}:generateContent       Gemini chat (the golden-set builder)

Vectors are deterministic and text-dependent: a standard normal draw seeded by the sha256 of
(api, model, task type, text), L2-normalized at the model's full size. A smaller size keeps
the leading components (Matryoshka); OpenAI re-normalizes them, Gemini does not, as the real
services do. ``vector()`` gives the exact vector a request would get, for assertions.

Chat replies are deterministic and depend on the prompt (see `LoopbackServer.chat_text`):
queries made of the longest words of the passage the prompt quotes, in the JSON shape the
golden-set builder asks for, so a build through this server is reproducible and its queries
are answerable from their passages. The same faults apply to the chat endpoints, plus
``not_json`` (a reply whose text is not the JSON asked for, as a careless model writes).

Keys: an OpenAI request must carry ``Authorization: Bearer <openai_key>`` (401 otherwise) and
a Gemini request ``x-goog-api-key: <gemini_key>`` (400 ``API_KEY_INVALID`` otherwise, as
Gemini answers). Recorded requests never hold a key.

Example:
    >>> import openai
    >>> with LoopbackServer(openai_key="sk-test") as server:
    ...     client = openai.OpenAI(api_key="sk-test", base_url=server.openai_base_url)
    ...     reply = client.embeddings.create(
    ...         model="text-embedding-3-small", input=["a", "b"], dimensions=8,
    ...         encoding_format="float")
    ...     print(len(reply.data), len(reply.data[0].embedding), server.batch_sizes)
    2 8 [2]
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import TracebackType

__all__ = [
    "FAULT_KINDS",
    "GEMINI_DIMENSIONS",
    "OPENAI_DIMENSIONS",
    "Fault",
    "LoopbackServer",
    "RecordedRequest",
]

Api = Literal["openai", "gemini"]

#: Full output sizes of the models the server knows; others get ``default_dimensions``.
OPENAI_DIMENSIONS: Final[Mapping[str, int]] = MappingProxyType(
    {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
)
GEMINI_DIMENSIONS: Final[Mapping[str, int]] = MappingProxyType(
    {"gemini-embedding-001": 3072, "text-embedding-004": 768}
)

#: What `LoopbackServer.inject` accepts, and what each does to the request it hits.
FAULT_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "rate_limit": "429, with Retry-After when retry_after is given",
        "server_error": "500",
        "unavailable": "503",
        "status": "any status code given as status=, with an error body",
        "timeout": "wait `delay` seconds (default 5), then answer normally",
        "reset": "close the connection with a TCP reset, no reply",
        "malformed_json": "200 with a body cut off mid-JSON",
        "short": "200 with one vector fewer than inputs",
        "wrong_dimensions": "200 with vectors of another length",
        "nan": "200 with a NaN in the first vector",
        "unauthorized": "401 whatever the key",
        "echo_key": "400 whose message quotes the key it received (a leaky proxy)",
        "not_json": "200 whose chat reply text is prose, not JSON (chat endpoints)",
    }
)

_OPENAI_MAX_INPUTS: Final = 2048
_OPENAI_MAX_REQUEST_TOKENS: Final = 300_000
_OPENAI_MAX_INPUT_TOKENS: Final = 8192
_GEMINI_MAX_BATCH: Final = 100
_GEMINI_PATH: Final = re.compile(
    r"^/(?P<version>v\d+(?:alpha|beta)?\d*)/models/(?P<model>[^/:]+):"
    r"(?P<method>batchEmbedContents|embedContent|generateContent)$"
)
_SECRET_HEADERS: Final = frozenset({"authorization", "x-goog-api-key", "api-key", "cookie"})


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; see `FAULT_KINDS`."""

    kind: str
    status: int | None = None
    retry_after: float | str | None = None
    delay: float = 5.0


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received, without its key.

    Attributes:
        index: 0-based arrival order over all requests.
        api: ``"openai"`` or ``"gemini"`` (``"other"`` for unknown paths).
        path: the request path, without a query string.
        model: the model the request named.
        texts: the input texts, in order.
        params: the other request fields that change vectors (``dimensions``,
            ``encoding_format``, ``task_types``, ``output_dimensionality``).
        headers: request headers (lower-case names), with credential headers replaced by
            ``"<redacted>"``.
        authorized: whether the key matched.
        fault: the injected fault kind, if one hit this request.
        status: the status code sent; ``None`` when the connection was reset.
        endpoint: ``"embeddings"`` or ``"chat"``; a chat request's `texts` hold its prompt.
    """

    index: int
    api: str
    path: str
    model: str
    texts: tuple[str, ...]
    params: Mapping[str, Any]
    headers: Mapping[str, str]
    authorized: bool
    fault: str | None
    status: int | None
    endpoint: str = "embeddings"

    @property
    def batch_size(self) -> int:
        return len(self.texts)


def _token_count(text: str) -> int:
    """The server's own token count: one token per 4 UTF-8 bytes, at least one."""
    return max(1, math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4))


def _mask(key: str) -> str:
    return f"{key[:3]}***{key[-2:]}" if len(key) > 8 else "***"


@dataclass(slots=True)
class _Reply:
    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def _json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Reply:
    body = json.dumps(payload, allow_nan=True).encode("utf-8")
    return _Reply(status, body, {"Content-Type": "application/json", **(headers or {})})


class LoopbackServer:
    """An OpenAI- and Gemini-compatible embedding server on ``127.0.0.1``, in a thread.

    Args:
        openai_key: the key OpenAI requests must carry; ``None`` accepts any (or none).
        gemini_key: the key Gemini requests must carry; ``None`` accepts any (or none).
        default_dimensions: the full size of models not in `OPENAI_DIMENSIONS` or
            `GEMINI_DIMENSIONS` (an OpenAI-compatible server's model, say).
        enforce_limits: answer 400 to an OpenAI request over 2,048 inputs, 8,192 tokens per
            input or 300,000 tokens in all (by the server's count of 4 UTF-8 bytes per token),
            and to a Gemini batch over 100 items, as the real services do.
        gemini_usage: put ``usageMetadata.promptTokenCount`` in Gemini replies (the server's
            token count); ``False`` leaves clients to estimate their tokens.

    Use it as a context manager; `openai_base_url` and `gemini_base_url` point clients at it.
    """

    def __init__(
        self,
        *,
        openai_key: str | None = "sk-loopback",
        gemini_key: str | None = "loopback-gemini-key",
        default_dimensions: int = 64,
        enforce_limits: bool = True,
        gemini_usage: bool = True,
    ) -> None:
        self.gemini_usage = gemini_usage
        self.openai_key = openai_key
        self.gemini_key = gemini_key
        self.default_dimensions = default_dimensions
        self.enforce_limits = enforce_limits
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._queued: list[Fault] = []
        self._at: dict[int, Fault] = {}
        self._arrivals = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            loopback = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._stop.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; requests still waiting on a ``timeout`` fault end at once."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the loopback server is not running; use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` for an OpenAI client: ``http://127.0.0.1:PORT/v1``."""
        return f"{self.url}/v1"

    @property
    def gemini_base_url(self) -> str:
        """The ``HttpOptions(base_url=...)`` for a google-genai client."""
        return f"{self.url}/"

    # -- faults -----------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        at: int | None = None,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float = 5.0,
    ) -> None:
        """Make the next ``times`` requests fail with ``kind``, or only request number ``at``.

        Args:
            kind: one of `FAULT_KINDS`.
            times: how many of the next requests (after those already queued) it hits.
            at: the 0-based arrival index of the one request it hits (counting every request
                since the server started or was `reset`); overrides ``times``.
            status: the status code of a ``"status"`` fault.
            retry_after: the ``Retry-After`` header of a ``"rate_limit"`` fault, in seconds or
                as any text (an HTTP date); Gemini replies carry it as ``RetryInfo`` too.
            delay: seconds a ``"timeout"`` fault waits before answering.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if kind == "status" and (status is None or not 400 <= status <= 599):
            raise ValueError("a 'status' fault needs status= between 400 and 599")
        fault = Fault(kind, status, retry_after, delay)
        with self._lock:
            if at is not None:
                self._at[at] = fault
            else:
                self._queued.extend([fault] * times)

    def clear_faults(self) -> None:
        """Drop every fault not yet applied."""
        with self._lock:
            self._queued.clear()
            self._at.clear()

    def reset(self) -> None:
        """Forget recorded requests and pending faults; arrival indices start again at 0."""
        with self._lock:
            self._requests.clear()
            self._queued.clear()
            self._at.clear()
            self._arrivals = 0

    # -- what happened ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def batch_sizes(self) -> list[int]:
        """Inputs per request, in arrival order (failed requests included)."""
        return [r.batch_size for r in self.requests]

    @property
    def embedded_texts(self) -> list[str]:
        """Texts of requests answered with 200 and no fault: what a provider would bill."""
        return [
            t
            for r in self.requests
            if r.status == 200 and r.fault is None and r.endpoint == "embeddings"
            for t in r.texts
        ]

    @property
    def chat_prompts(self) -> list[str]:
        """Prompts of chat requests answered with 200 and no fault: what a provider would bill."""
        return [
            r.texts[0]
            for r in self.requests
            if r.status == 200 and r.fault is None and r.endpoint == "chat" and r.texts
        ]

    # -- chat -------------------------------------------------------------------------------

    def chat_text(self, prompt: str) -> str:
        """The reply text the chat endpoints give ``prompt``: JSON ``{"queries": [...]}``.

        The passage is what the prompt holds between ``<<<`` and ``>>>`` (else the whole
        prompt); the count comes from "Write N", the languages from "Languages: en, de"
        (default 3 queries in English). Query ``i`` joins three of the passage's longest
        words (ranked by length, then by a hash, so the choice is stable), in a question, a
        keyword or a problem form and a template of its language; the fourth query of a reply
        quotes the passage's first eight words, so the copy filter has something to catch.
        """
        passage = _between(prompt, "<<<", ">>>")
        count_match = re.search(r"Write (\d+)", prompt)
        count = int(count_match.group(1)) if count_match else 3
        langs_match = re.search(r"Languages: ([A-Za-z, _-]+)", prompt)
        langs = (
            [x.strip() for x in langs_match.group(1).split(",") if x.strip()]
            if langs_match
            else ["en"]
        ) or ["en"]
        tokens = re.findall(r"[^\W\d_]+", passage)
        words = list(dict.fromkeys(t.lower() for t in tokens if len(t) >= 5))
        if not words:
            words = list(dict.fromkeys(t.lower() for t in tokens)) or ["nothing"]
        words.sort(key=lambda w: (-len(w), hashlib.sha256(w.encode()).hexdigest()))
        queries = []
        for i in range(count):
            lang = langs[i % len(langs)]
            if i == 3 and len(tokens) >= 8:
                text, form = " ".join(tokens[:8]), "copy"
            else:
                a, b, c = (words[(2 * i + j) % len(words)] for j in range(3))
                form = _FORMS[i % len(_FORMS)]
                text = _TEMPLATES.get(lang, _TEMPLATES["en"])[form].format(a=a, b=b, c=c)
            queries.append({"text": text, "lang": lang, "form": form, "difficulty": _LEVELS[i % 3]})
        return json.dumps({"queries": queries}, ensure_ascii=False)

    # -- vectors ----------------------------------------------------------------------------

    def full_dimensions(self, api: Api, model: str) -> int:
        table = OPENAI_DIMENSIONS if api == "openai" else GEMINI_DIMENSIONS
        return table.get(model.removeprefix("models/"), self.default_dimensions)

    def vector(
        self,
        text: str,
        *,
        api: Api,
        model: str,
        dimensions: int | None = None,
        task_type: str | None = None,
    ) -> npt.NDArray[np.float32]:
        """The exact float32 vector the server returns for ``text`` in such a request."""
        model = model.removeprefix("models/")
        full = self.full_dimensions(api, model)
        tag = (task_type or "") if api == "gemini" else ""
        seed = hashlib.sha256(
            "\x00".join((api, model, tag, text)).encode("utf-8", "surrogatepass")
        ).digest()
        rng = np.random.default_rng(int.from_bytes(seed[:8], "little"))
        vec = rng.standard_normal(full)
        vec /= np.linalg.norm(vec)
        if dimensions is not None and dimensions < full:
            vec = vec[:dimensions]
            if api == "openai":
                vec = vec / np.linalg.norm(vec)
        return vec.astype(np.float32)

    # -- request handling (called from the handler threads) ---------------------------------

    def _next_fault(self, index: int) -> Fault | None:
        with self._lock:
            if index in self._at:
                return self._at.pop(index)
            if self._queued:
                return self._queued.pop(0)
            return None

    def _arrive(self) -> int:
        with self._lock:
            index = self._arrivals
            self._arrivals += 1
            return index

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._requests.sort(key=lambda r: r.index)

    def handle(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[RecordedRequest, _Reply]:
        index = self._arrive()
        safe_headers = {
            k.lower(): ("<redacted>" if k.lower() in _SECRET_HEADERS else v)
            for k, v in headers.items()
        }
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            payload = None
        gemini = _GEMINI_PATH.match(path)
        chat = path == "/v1/chat/completions" or (
            gemini is not None and gemini["method"] == "generateContent"
        )
        if chat and isinstance(payload, dict):
            return self._handle_chat(index, path, lower, safe_headers, payload, gemini)
        if path == "/v1/embeddings" and isinstance(payload, dict):
            api: Api = "openai"
            model, texts, params = _parse_openai(payload)
            auth = lower.get("authorization", "")
            key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
            authorized = self.openai_key is None or key == self.openai_key
        elif gemini is not None and isinstance(payload, dict):
            api = "gemini"
            model = gemini["model"]
            texts, params = _parse_gemini(payload, gemini["method"])
            key = lower.get("x-goog-api-key", "")
            authorized = self.gemini_key is None or key == self.gemini_key
        else:
            record = RecordedRequest(
                index, "other", path, "", (), {}, safe_headers, False, None, 404
            )
            return record, _json_reply(404, {"error": {"message": f"no route for {path}"}})
        fault = self._next_fault(index) if authorized else None
        if not authorized:
            reply = _unauthorized(api, key)
        elif fault is not None:
            reply = self._faulty(api, fault, model, texts, params, key, gemini)
        elif api == "openai":
            reply = self._openai(model, texts, params)
        else:
            reply = self._gemini(model, texts, params, gemini["method"] if gemini else "")
        record = RecordedRequest(
            index=index,
            api=api,
            path=path,
            model=model,
            texts=tuple(texts),
            params=MappingProxyType(params),
            headers=MappingProxyType(safe_headers),
            authorized=authorized,
            fault=fault.kind if fault is not None else None,
            status=reply.status,
        )
        return record, reply

    def _handle_chat(
        self,
        index: int,
        path: str,
        lower: Mapping[str, str],
        safe_headers: Mapping[str, str],
        payload: Mapping[str, Any],
        gemini: re.Match[str] | None,
    ) -> tuple[RecordedRequest, _Reply]:
        api: Api
        if gemini is None:
            api = "openai"
            model, prompt, params = _parse_openai_chat(payload)
            auth = lower.get("authorization", "")
            key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
            authorized = self.openai_key is None or key == self.openai_key
        else:
            api = "gemini"
            model = gemini["model"]
            prompt, params = _parse_gemini_chat(payload)
            key = lower.get("x-goog-api-key", "")
            authorized = self.gemini_key is None or key == self.gemini_key
        fault = self._next_fault(index) if authorized else None
        if not authorized:
            reply = _unauthorized(api, key)
        elif fault is not None:
            reply = self._chat_faulty(api, fault, model, prompt, key)
        else:
            reply = self._chat_reply(api, model, prompt, self.chat_text(prompt))
        record = RecordedRequest(
            index=index,
            api=api,
            path=path,
            model=model,
            texts=(prompt,),
            params=MappingProxyType(params),
            headers=MappingProxyType(dict(safe_headers)),
            authorized=authorized,
            fault=fault.kind if fault is not None else None,
            status=reply.status,
            endpoint="chat",
        )
        return record, reply

    def _chat_reply(self, api: Api, model: str, prompt: str, text: str | None) -> _Reply:
        """A 200 chat reply carrying ``text``; ``None`` gives one with no choice at all."""
        tokens_in, tokens_out = _token_count(prompt), _token_count(text or "")
        if api == "openai":
            choices = (
                []
                if text is None
                else [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ]
            )
            return _json_reply(
                200,
                {
                    "id": "chatcmpl-loopback",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": choices,
                    "usage": {
                        "prompt_tokens": tokens_in,
                        "completion_tokens": tokens_out,
                        "total_tokens": tokens_in + tokens_out,
                    },
                },
            )
        candidates = (
            []
            if text is None
            else [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ]
        )
        return _json_reply(
            200,
            {
                "candidates": candidates,
                "usageMetadata": {
                    "promptTokenCount": tokens_in,
                    "candidatesTokenCount": tokens_out,
                    "totalTokenCount": tokens_in + tokens_out,
                },
                "modelVersion": model,
            },
        )

    def _chat_faulty(self, api: Api, fault: Fault, model: str, prompt: str, key: str) -> _Reply:
        common = _common_fault(api, fault, key)
        if common is not None:
            return common
        kind = fault.kind
        if kind == "timeout":
            reply = self._chat_reply(api, model, prompt, self.chat_text(prompt))
            reply.delay = fault.delay
            return reply
        if kind == "malformed_json":
            head = b'{"id": "chatcmpl-loopback", "object": "chat.completion", "choices": [{"ind'
            if api == "gemini":
                head = b'{"candidates": [{"content": {"role": "model", "parts": [{"te'
            return _Reply(200, head, {"Content-Type": "application/json"})
        if kind == "not_json":
            return self._chat_reply(
                api, model, prompt, "Sure! Here are some search queries you could try."
            )
        # short, wrong_dimensions, nan: a well-formed reply that holds no answer.
        return self._chat_reply(api, model, prompt, None)

    def _vectors(
        self, api: Api, model: str, texts: Sequence[str], params: Mapping[str, Any]
    ) -> list[npt.NDArray[np.float32]]:
        if api == "openai":
            return [
                self.vector(t, api="openai", model=model, dimensions=params.get("dimensions"))
                for t in texts
            ]
        tasks = params.get("task_types") or [None] * len(texts)
        dims = params.get("output_dimensionality") or [None] * len(texts)
        return [
            self.vector(t, api="gemini", model=model, dimensions=d, task_type=task)
            for t, task, d in zip(texts, tasks, dims, strict=True)
        ]

    def _openai(self, model: str, texts: list[str], params: Mapping[str, Any]) -> _Reply:
        error = self._openai_invalid(model, texts, params)
        if error is not None:
            return _json_reply(
                400,
                {"error": {"message": error, "type": "invalid_request_error", "code": None}},
            )
        vectors = self._vectors("openai", model, texts, params)
        return self._openai_reply(model, texts, vectors, params)

    def _openai_invalid(
        self, model: str, texts: list[str], params: Mapping[str, Any]
    ) -> str | None:
        if not model:
            return "you must provide a model parameter"
        if not texts:
            return "'$.input' is invalid: it must not be empty"
        if any(t == "" for t in texts):
            return "'$.input' is invalid: an input cannot be an empty string"
        if params.get("dimensions") is not None and model == "text-embedding-ada-002":
            return "This model does not support specifying dimensions."
        if not self.enforce_limits:
            return None
        counts = [_token_count(t) for t in texts]
        if len(texts) > _OPENAI_MAX_INPUTS:
            return f"'$.input' is invalid: at most {_OPENAI_MAX_INPUTS} inputs per request"
        if max(counts) > _OPENAI_MAX_INPUT_TOKENS:
            return (
                f"This model's maximum context length is {_OPENAI_MAX_INPUT_TOKENS} tokens, "
                f"however you requested {max(counts)} tokens"
            )
        if sum(counts) > _OPENAI_MAX_REQUEST_TOKENS:
            return (
                f"Requested {sum(counts)} tokens, max {_OPENAI_MAX_REQUEST_TOKENS} tokens per "
                "request"
            )
        return None

    @staticmethod
    def _openai_reply(
        model: str,
        texts: Sequence[str],
        vectors: Sequence[npt.NDArray[np.float32]],
        params: Mapping[str, Any],
    ) -> _Reply:
        as_base64 = params.get("encoding_format") == "base64"
        data = []
        for i, vec in enumerate(vectors):
            values: Any = (
                base64.b64encode(vec.astype("<f4").tobytes()).decode("ascii")
                if as_base64
                else [float(x) for x in vec]
            )
            data.append({"object": "embedding", "index": i, "embedding": values})
        tokens = sum(_token_count(t) for t in texts)
        return _json_reply(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _gemini(
        self, model: str, texts: list[str], params: Mapping[str, Any], method: str
    ) -> _Reply:
        if not texts:
            return _gemini_error(
                400,
                "INVALID_ARGUMENT",
                "* BatchEmbedContentsRequest.requests: contents are required",
            )
        if self.enforce_limits and len(texts) > _GEMINI_MAX_BATCH:
            return _gemini_error(
                400,
                "INVALID_ARGUMENT",
                f"* BatchEmbedContentsRequest.requests: at most {_GEMINI_MAX_BATCH} requests "
                "can be in one batch",
            )
        if any(t == "" for t in texts):
            return _gemini_error(400, "INVALID_ARGUMENT", "The text content is empty.")
        vectors = self._vectors("gemini", model, texts, params)
        return self._gemini_reply(texts, vectors, method)

    def _gemini_reply(
        self, texts: Sequence[str], vectors: Sequence[npt.NDArray[np.float32]], method: str
    ) -> _Reply:
        rows = [{"values": [float(x) for x in vec]} for vec in vectors]
        payload: dict[str, Any] = (
            {"embedding": rows[0] if rows else {}}
            if method == "embedContent"
            else {"embeddings": rows}
        )
        if self.gemini_usage:
            tokens = sum(_token_count(t) for t in texts)
            payload["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
        return _json_reply(200, payload)

    def _faulty(
        self,
        api: Api,
        fault: Fault,
        model: str,
        texts: list[str],
        params: Mapping[str, Any],
        key: str,
        gemini: re.Match[str] | None,
    ) -> _Reply:
        common = _common_fault(api, fault, key)
        if common is not None:
            return common
        kind = fault.kind
        method = gemini["method"] if gemini else ""
        if kind == "timeout":
            reply = (
                self._openai(model, texts, params)
                if api == "openai"
                else self._gemini(model, texts, params, method)
            )
            reply.delay = fault.delay
            return reply
        if kind == "not_json":
            # A chat fault; an embedding request gets a normal answer.
            return (
                self._openai(model, texts, params)
                if api == "openai"
                else self._gemini(model, texts, params, method)
            )
        if kind == "malformed_json":
            head = b'{"object": "list", "data": [{"object": "embedding", "index": 0, "embe'
            if api == "gemini":
                head = b'{"embeddings": [{"values": [0.1, 0.2'
            return _Reply(200, head, {"Content-Type": "application/json"})
        vectors = self._vectors(api, model, texts, params)
        if kind == "short":
            vectors = vectors[:-1]
        elif kind == "wrong_dimensions":
            vectors = [np.concatenate([v, np.zeros(3, np.float32)]) for v in vectors]
        elif kind == "nan" and vectors:
            vectors[0] = vectors[0].copy()
            vectors[0][0] = np.nan
        if api == "openai":
            return self._openai_reply(model, texts, vectors, params)
        return self._gemini_reply(texts, vectors, method)


def _common_fault(api: Api, fault: Fault, key: str) -> _Reply | None:
    """The reply to a fault every endpoint answers alike (reset, status, echo_key), else None."""
    kind = fault.kind
    if kind == "reset":
        return _Reply(None)
    if kind in {"rate_limit", "server_error", "unavailable", "status", "unauthorized"}:
        status = {
            "rate_limit": 429,
            "server_error": 500,
            "unavailable": 503,
            "unauthorized": 401,
        }.get(kind, fault.status or 500)
        return _status_error(api, status, fault.retry_after)
    if kind == "echo_key":
        message = f"proxy rejected the request carrying key {key!r}"
        if api == "openai":
            return _json_reply(400, {"error": {"message": message, "type": "proxy"}})
        return _gemini_error(400, "INVALID_ARGUMENT", message)
    return None


def _parse_openai(payload: Mapping[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    raw = payload.get("input")
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and all(isinstance(t, int) for t in raw):
        texts = [" ".join(map(str, raw))]  # one input given as token ids
    elif isinstance(raw, list):
        texts = [t if isinstance(t, str) else " ".join(map(str, t)) for t in raw]
    else:
        texts = []
    params = {
        "dimensions": payload.get("dimensions"),
        "encoding_format": payload.get("encoding_format", "float"),
    }
    return str(payload.get("model", "")), texts, params


_FORMS: Final = ("question", "keywords", "problem")
_LEVELS: Final = ("easy", "medium", "hard")
_TEMPLATES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "en": {
            "question": "how do {a} and {b} work with {c}?",
            "keywords": "{a} {b} {c}",
            "problem": "my {a} has a problem with {b} {c}",
        },
        "de": {
            "question": "wie funktionieren {a} und {b} mit {c}?",
            "keywords": "{a} {b} {c}",
            "problem": "Problem mit {a} bei {b} {c}",
        },
        "es": {
            "question": "¿cómo funcionan {a} y {b} con {c}?",
            "keywords": "{a} {b} {c}",
            "problem": "tengo un problema con {a} en {b} {c}",
        },
    }
)


def _between(text: str, start: str, end: str) -> str:
    head = text.find(start)
    tail = text.rfind(end)
    if head < 0 or tail < head:
        return text
    return text[head + len(start) : tail]


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _parse_openai_chat(payload: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    messages = payload.get("messages")
    messages = messages if isinstance(messages, list) else []
    prompt = "\n".join(
        _message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    )
    system = [
        _message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") in ("system", "developer")
    ]
    params = {
        "temperature": payload.get("temperature"),
        "response_format": payload.get("response_format"),
        "system": "\n".join(system) or None,
    }
    return str(payload.get("model", "")), prompt, params


def _parse_gemini_chat(payload: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    contents = payload.get("contents")
    contents = contents if isinstance(contents, list) else []
    prompt = "\n".join(
        _content_text(c)
        for c in contents
        if isinstance(c, dict) and c.get("role", "user") == "user"
    )
    config = payload.get("generationConfig")
    config = config if isinstance(config, dict) else {}
    system = payload.get("systemInstruction")
    params = {
        "temperature": config.get("temperature"),
        "response_mime_type": config.get("responseMimeType"),
        "system": _content_text(system) if isinstance(system, dict) else None,
    }
    return prompt, params


def _content_text(content: Any) -> str:
    parts = content.get("parts", []) if isinstance(content, dict) else []
    # Several parts in one content make one embedding, as multimodal Gemini models do.
    return " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _parse_gemini(payload: Mapping[str, Any], method: str) -> tuple[list[str], dict[str, Any]]:
    items = payload.get("requests", []) if method == "batchEmbedContents" else [payload]
    items = [i for i in items if isinstance(i, dict)]
    texts = [_content_text(i.get("content")) for i in items]
    params = {
        "task_types": [i.get("taskType") for i in items],
        "output_dimensionality": [i.get("outputDimensionality") for i in items],
    }
    return texts, params


def _gemini_error(
    status: int, state: str, message: str, details: list[Any] | None = None
) -> _Reply:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if details:
        error["details"] = details
    return _json_reply(status, {"error": error})


def _unauthorized(api: str, key: str) -> _Reply:
    if api == "openai":
        return _json_reply(
            401,
            {
                "error": {
                    "message": f"Incorrect API key provided: {_mask(key)}. You can find your "
                    "API key at https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )
    return _gemini_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
    )


def _status_error(api: str, status: int, retry_after: float | str | None) -> _Reply:
    headers = {} if retry_after is None else {"Retry-After": _header_value(retry_after)}
    if api == "openai":
        message = {
            429: "Rate limit reached for requests. Please try again later.",
            401: "Incorrect API key provided.",
        }.get(status, "The server had an error while processing your request.")
        return _json_reply(
            status, {"error": {"message": message, "type": "loopback", "code": None}}, headers
        )
    states = {429: "RESOURCE_EXHAUSTED", 401: "UNAUTHENTICATED", 503: "UNAVAILABLE"}
    details = []
    if status == 429 and isinstance(retry_after, int | float):
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}
        )
    reply = _gemini_error(
        status, states.get(status, "INTERNAL"), "injected by the loopback server", details
    )
    reply.headers.update(headers)
    return reply


def _header_value(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _Handler(BaseHTTPRequestHandler):
    loopback: LoopbackServer
    protocol_version = "HTTP/1.1"
    server_version = "embedgate-loopback/1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; Nagle plus delayed ACKs would add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read `LoopbackServer.requests` instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        headers = dict(self.headers.items())
        record, reply = self.loopback.handle(path, headers, body)
        self.loopback._record(record)
        if reply.delay and self.loopback._stop.wait(reply.delay):
            self.close_connection = True
            return
        if reply.status is None:
            self._reset()
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            # The client gave up (a `timeout` fault); nothing is listening any more.
            self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST: a dropped connection.
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
