"""The Gemini adapter, through the real ``google-genai`` SDK against the loopback server."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from embedgate.cache import EmbeddingCache, embed_with_cache
from embedgate.errors import (
    ConfigError,
    MalformedResponse,
    MissingCredentials,
    MissingDependency,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from embedgate.models import Embedder, Role, fingerprint_identity, load_model
from embedgate.models.gemini import GeminiEmbedder, _retry_info
from embedgate.models.pricing import PRICES_AS_OF
from embedgate.specs import parse_model_spec

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import numpy.typing as npt

    from embedgate.testing import FakeClock, LoopbackServer

    MakeGemini = Callable[..., GeminiEmbedder]
    Corpus = Callable[..., list[str]]

MODEL = "gemini-embedding-001"


def expected(
    server: LoopbackServer,
    texts: Sequence[str],
    task_type: str = "RETRIEVAL_DOCUMENT",
    dims: int | None = 16,
    model: str = MODEL,
) -> npt.NDArray[np.float32]:
    """The server's vectors, L2-normalized as the adapter returns them."""
    rows = np.stack(
        [
            server.vector(t, api="gemini", model=model, dimensions=dims, task_type=task_type)
            for t in texts
        ]
    )
    normalized: npt.NDArray[np.float32] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalized


def test_embeds_through_the_sdk_with_a_task_type_per_role(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    model = make_gemini()
    texts = ["reset my password", "Passwort zurücksetzen"]
    queries = model.embed(texts, Role.QUERY)
    documents = model.embed(texts, Role.DOCUMENT)
    assert isinstance(model, Embedder)
    assert queries.dtype == np.float32
    assert queries.shape == documents.shape == (2, 16)
    np.testing.assert_allclose(queries, expected(server, texts, "RETRIEVAL_QUERY"), atol=1e-6)
    np.testing.assert_allclose(documents, expected(server, texts, "RETRIEVAL_DOCUMENT"), atol=1e-6)
    assert not np.allclose(queries, documents)
    first, second = server.requests
    assert first.path == f"/v1/models/{MODEL}:batchEmbedContents"
    assert first.params["task_types"] == ["RETRIEVAL_QUERY"] * 2
    assert second.params["task_types"] == ["RETRIEVAL_DOCUMENT"] * 2
    assert first.params["output_dimensionality"] == [16, 16]
    assert first.headers["x-goog-api-key"] == "<redacted>"


def test_task_types_are_configurable_and_part_of_the_identity(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    default = make_gemini()
    similar = make_gemini(query_task_type="semantic_similarity", document_task_type="none")
    similar.embed(["a"], Role.QUERY)
    similar.embed(["a"], Role.DOCUMENT)
    assert [r.params["task_types"] for r in server.requests] == [["SEMANTIC_SIMILARITY"], [None]]
    assert similar.identity()["task_types"] == {"query": "SEMANTIC_SIMILARITY", "document": None}
    assert fingerprint_identity(similar.identity()) != fingerprint_identity(default.identity())


def test_a_malformed_task_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"is not a task type.*RETRIEVAL_QUERY"):
        GeminiEmbedder(query_task_type="retrieval query!")


def test_matryoshka_sizes_are_renormalized_client_side(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    raw = server.vector(
        "text", api="gemini", model=MODEL, dimensions=32, task_type="RETRIEVAL_QUERY"
    )
    assert np.linalg.norm(raw) < 0.5  # what Gemini sends for a 32-d prefix of a 3072-d vector
    normalized = make_gemini(output_dimensionality=32).embed(["text"], Role.QUERY)
    np.testing.assert_allclose(np.linalg.norm(normalized), 1.0, atol=1e-6)
    np.testing.assert_allclose(normalized[0], raw / np.linalg.norm(raw), atol=1e-6)
    as_sent = make_gemini(output_dimensionality=32, normalize=False).embed(["text"], Role.QUERY)
    np.testing.assert_allclose(as_sent[0], raw, atol=1e-7)


def test_the_full_size_is_3072_and_already_unit_length(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    model = make_gemini(output_dimensionality=None)
    vectors = model.embed(["text"], Role.DOCUMENT)
    assert vectors.shape == (1, 3072)
    assert server.requests[0].params["output_dimensionality"] == [None]
    np.testing.assert_allclose(np.linalg.norm(vectors), 1.0, atol=1e-6)


def test_output_dimensionality_above_the_full_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="more than the model's 3072"):
        GeminiEmbedder(output_dimensionality=4096)


def test_batches_hold_at_most_100_texts(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str, corpus: Corpus
) -> None:
    texts = corpus(250)
    vectors = make_gemini().embed(texts, Role.DOCUMENT)
    assert server.batch_sizes == [100, 100, 50]
    assert all(r.status == 200 for r in server.requests)
    np.testing.assert_allclose(
        vectors[[0, 249]], expected(server, [texts[0], texts[249]]), atol=1e-6
    )
    with pytest.raises(ConfigError, match="limit of 100"):
        GeminiEmbedder(batch_size=101)


def test_models_that_fold_a_list_into_one_embedding_are_sent_one_text_per_request(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    texts = ["first", "second", "third"]
    model = make_gemini("gemini-embedding-2-preview")
    assert model.batch_size == 1
    assert model.plan_batches(texts) == [1, 1, 1]
    vectors = model.embed(texts, Role.DOCUMENT)
    assert server.batch_sizes == [1, 1, 1]
    want = expected(server, texts, dims=None, model="gemini-embedding-2-preview")
    np.testing.assert_allclose(vectors, want, atol=1e-6)
    # Sent as one list, the SDK merges the texts into one content and gets one vector back.
    batched = make_gemini("gemini-embedding-2-preview", one_per_request=False, max_retries=1)
    with pytest.raises(MalformedResponse, match="1 vectors for 3 texts"):
        batched.embed(texts, Role.DOCUMENT)


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("rate_limit", {}),
        ("rate_limit", {"retry_after": 5}),
        ("unavailable", {}),
        ("server_error", {}),
        ("reset", {}),
        ("malformed_json", {}),
        ("short", {}),
        ("wrong_dimensions", {}),
        ("nan", {}),
    ],
)
def test_a_transient_fault_is_retried_and_the_vectors_are_right(
    server: LoopbackServer,
    make_gemini: MakeGemini,
    gemini_key: str,
    clock: FakeClock,
    fault: str,
    options: dict[str, Any],
) -> None:
    model = make_gemini()
    server.inject(fault, **options)
    vectors = model.embed(["one", "two"], Role.DOCUMENT)
    np.testing.assert_allclose(vectors, expected(server, ["one", "two"]), atol=1e-6)
    assert server.request_count == 2
    assert model.usage()["retries"] == 1
    if "retry_after" in options:
        assert 5.0 <= clock.sleeps[0] <= 5.5


def test_a_reply_slower_than_the_timeout_is_retried(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    model = make_gemini(timeout=0.2)
    server.inject("timeout", delay=2.0)
    np.testing.assert_allclose(
        model.embed(["slow"], Role.QUERY), expected(server, ["slow"], "RETRIEVAL_QUERY"), atol=1e-6
    )
    assert server.request_count == 2


def test_a_persistent_fault_names_provider_model_and_batch(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str, corpus: Corpus
) -> None:
    model = make_gemini(batch_size=10, max_retries=1)
    server.inject("unavailable", at=1)
    server.inject("unavailable", at=2)
    with pytest.raises(TransientProviderError) as caught:
        model.embed(corpus(20), Role.QUERY)
    assert str(caught.value).startswith(
        "gemini gemini-embedding-001, query batch 2 (texts 11\u201320): HTTP 503 UNAVAILABLE"
    )
    server.inject("rate_limit", times=2)
    with pytest.raises(RateLimited, match="HTTP 429 RESOURCE_EXHAUSTED"):
        model.embed(["x"], Role.QUERY)


def test_a_bad_key_is_reported_without_the_key(
    server: LoopbackServer, make_gemini: MakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-wrong-key-000000")
    with pytest.raises(ProviderError, match=r"refused the API key.*\$GEMINI_API_KEY") as caught:
        make_gemini().embed(["a"], Role.QUERY)
    assert "AIza-wrong-key-000000" not in "".join(traceback.format_exception(caught.value))
    assert server.request_count == 1


def test_without_a_key_the_first_embed_names_both_env_vars(
    server: LoopbackServer, make_gemini: MakeGemini
) -> None:
    model = make_gemini()
    with pytest.raises(MissingCredentials, match=r"\$GOOGLE_API_KEY or \$GEMINI_API_KEY"):
        model.embed(["a"], Role.QUERY)
    assert server.request_count == 0


def test_google_api_key_works_too(
    server: LoopbackServer, make_gemini: MakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", server.gemini_key or "")
    assert make_gemini().embed(["a"], Role.QUERY).shape == (1, 16)


def test_no_planted_key_reaches_any_output(
    server: LoopbackServer,
    make_gemini: MakeGemini,
    gemini_key: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: list[str] = []
    model = make_gemini(max_retries=1)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        server.inject("unavailable")
        embed_with_cache(
            lambda batch: model.embed(batch, Role.DOCUMENT),
            ["a", "b"],
            cache=cache,
            fingerprint=fingerprint_identity(model.identity()),
            role="document",
            identity=model.identity(),
        )
        for fault in ("echo_key", "unauthorized", "rate_limit"):
            server.inject(fault, times=2)
            with pytest.raises(ProviderError) as caught:
                model.embed([f"for {fault}"], Role.QUERY)
            outputs += [str(caught.value), repr(caught.value)]
            outputs += traceback.format_exception(caught.value)
            server.clear_faults()
    outputs += [
        json.dumps(model.identity()),
        json.dumps(model.info.to_dict()),
        json.dumps(model.usage()),
        repr(model),
        caplog.text,
        *(repr(r.headers) for r in server.requests),
    ]
    blob = "\n".join(outputs)
    assert "[redacted]" in blob
    assert gemini_key not in blob
    for path in tmp_path.iterdir():
        assert gemini_key.encode() not in path.read_bytes(), path


def test_a_resumed_run_embeds_only_what_the_cache_lacks(
    server: LoopbackServer,
    make_gemini: MakeGemini,
    gemini_key: str,
    tmp_path: Path,
    corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = corpus(30)

    def run(model: GeminiEmbedder) -> Any:
        with EmbeddingCache(tmp_path / "c.sqlite") as cache:
            return embed_with_cache(
                lambda b: model.embed(b, Role.QUERY),
                texts,
                cache=cache,
                fingerprint=fingerprint_identity(model.identity()),
                role="query",
                batch_size=model.batch_size,
            )

    server.inject("server_error", at=2)
    with pytest.raises(TransientProviderError, match="query batch 3 \\(texts 21"):
        run(make_gemini(batch_size=10, max_retries=0))
    server.reset()
    vectors, stats = run(make_gemini(batch_size=10))
    assert (stats.hits, stats.embedded) == (20, 10)
    assert server.embedded_texts == texts[20:]
    np.testing.assert_allclose(vectors, expected(server, texts, "RETRIEVAL_QUERY"), atol=1e-6)
    # Everything cached: no key, no request.
    monkeypatch.delenv("GEMINI_API_KEY")
    server.reset()
    _, stats = run(make_gemini(batch_size=10))
    assert (stats.hits, server.request_count) == (30, 0)


def test_usage_takes_the_servers_token_counts_or_estimates_them(
    server: LoopbackServer, make_gemini: MakeGemini, gemini_key: str
) -> None:
    model = make_gemini(price_per_million=0.15)
    model.embed(["aaaa", "bbbbbbbbb"], Role.DOCUMENT)  # the server counts 1 + 3
    usage = model.usage()
    assert (usage["input_tokens"], usage["provider_tokens"], usage["estimated_tokens"]) == (4, 4, 0)
    assert usage["estimated_cost_usd"] == pytest.approx(4 / 1e6 * 0.15)
    server.gemini_usage = False
    model.embed(["cc"], Role.DOCUMENT)  # no usageMetadata: 2 UTF-8 bytes, an upper bound
    usage = model.usage()
    assert (usage["input_tokens"], usage["estimated_tokens"]) == (6, 2)


def test_the_price_table_prices_gemini_itself() -> None:
    usage = GeminiEmbedder().usage()
    assert usage["price_per_million_usd"] == 0.15
    assert usage["price_source"] == f"embedgate price table as of {PRICES_AS_OF}"


def test_identity_holds_everything_that_changes_vectors(server: LoopbackServer) -> None:
    model = GeminiEmbedder(output_dimensionality=768, base_url=server.gemini_base_url)
    assert model.identity() == {
        "provider": "gemini",
        "model": MODEL,
        "endpoint": f"127.0.0.1:{server.port}",
        "dimensions": 768,
        "normalize": True,
        "truncation": {"policy": "truncate", "max_input_tokens": 2048, "counter": "utf8-bytes"},
        "task_types": {"query": "RETRIEVAL_QUERY", "document": "RETRIEVAL_DOCUMENT"},
    }
    assert GeminiEmbedder().identity()["endpoint"] == "generativelanguage.googleapis.com"
    assert GeminiEmbedder(f"models/{MODEL}").identity()["model"] == MODEL


def test_tiktoken_is_not_a_gemini_tokenizer() -> None:
    with pytest.raises(ConfigError, match="tokenizer='tiktoken' is not available"):
        GeminiEmbedder(tokenizer="tiktoken")


def test_load_model_builds_the_adapter_from_a_spec_string() -> None:
    model = load_model(
        parse_model_spec("gem=gemini:gemini-embedding-001?output_dimensionality=768")
    )
    assert isinstance(model, GeminiEmbedder)
    assert (model.info.name, model.info.dimensions) == ("gem", 768)


def test_a_missing_sdk_says_which_extra_to_install(
    make_gemini: MakeGemini, gemini_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_gemini()
    monkeypatch.setitem(sys.modules, "google.genai", None)
    with pytest.raises(MissingDependency, match=r"pip install 'embedgate\[gemini\]'"):
        model.embed(["a"], Role.QUERY)


def test_retry_info_in_the_error_body_gives_the_wait() -> None:
    body = {
        "error": {
            "code": 429,
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"},
            ],
        }
    }
    assert _retry_info(body) == 13.0
    assert _retry_info({"error": {"details": []}}) is None
    assert _retry_info("not a dict") is None
