"""Fixtures for the API adapters: the loopback server, a fake clock and planted keys.

Every key here is fake and planted per test; the root conftest has already cleared the real
ones from the environment.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pytest

from embedgate.testing import FakeClock, LoopbackServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from embedgate.models.gemini import GeminiEmbedder
    from embedgate.models.openai import OpenAIEmbedder

#: Planted keys: any output that contains one of these has leaked a credential.
OPENAI_KEY = "sk-planted-SECRET-123"
GEMINI_KEY = "AIza-planted-SECRET-456"


def _corpus(n: int, size: int = 40, prefix: str = "doc") -> list[str]:
    texts = []
    for i in range(n):
        head = f"{prefix} {i}: "
        filler = hashlib.sha256(head.encode()).hexdigest() * (size // 64 + 1)
        texts.append((head + filler)[: max(size, len(head) + 1)])
    return texts


@pytest.fixture
def corpus() -> Callable[..., list[str]]:
    """``corpus(n, size=40, prefix="doc")``: ``n`` distinct ASCII texts of ``size`` bytes."""
    return _corpus


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(openai_key=OPENAI_KEY, gemini_key=GEMINI_KEY) as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    return OPENAI_KEY


@pytest.fixture
def gemini_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    return GEMINI_KEY


@pytest.fixture
def make_openai(server: LoopbackServer, clock: FakeClock) -> Callable[..., OpenAIEmbedder]:
    """An OpenAI adapter pointed at the loopback server, waiting on the fake clock."""
    from embedgate.models.openai import OpenAIEmbedder

    def make(model: str = "text-embedding-3-small", **options: Any) -> OpenAIEmbedder:
        options.setdefault("base_url", server.openai_base_url)
        options.setdefault("timeout", 5.0)
        if model in {"text-embedding-3-small", "text-embedding-3-large"}:
            options.setdefault("dimensions", 16)
        adapter = OpenAIEmbedder(model, **options)
        adapter.clock = clock
        return adapter

    return make


@pytest.fixture
def make_gemini(server: LoopbackServer, clock: FakeClock) -> Callable[..., GeminiEmbedder]:
    """A Gemini adapter pointed at the loopback server, waiting on the fake clock."""
    from embedgate.models.gemini import GeminiEmbedder

    def make(model: str = "gemini-embedding-001", **options: Any) -> GeminiEmbedder:
        options.setdefault("base_url", server.gemini_base_url)
        options.setdefault("timeout", 5.0)
        if model == "gemini-embedding-001":
            options.setdefault("output_dimensionality", 16)
        adapter = GeminiEmbedder(model, **options)
        adapter.clock = clock
        return adapter

    return make
