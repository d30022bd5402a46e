"""The OpenAI adapter, through the real ``openai`` SDK against the loopback server.

Nothing here reaches the network: every request goes to 127.0.0.1, every wait is on a fake
clock, and every key is planted by the test.
"""

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
    ModelError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from embedgate.models import Embedder, Role, fingerprint_identity, load_model
from embedgate.models._remote import RetryPolicy
from embedgate.models.openai import OpenAIEmbedder
from embedgate.models.pricing import PRICES_AS_OF
from embedgate.specs import parse_model_spec

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import numpy.typing as npt

    from embedgate.testing import FakeClock, LoopbackServer

    MakeOpenAI = Callable[..., OpenAIEmbedder]
    Corpus = Callable[..., list[str]]

MODEL = "text-embedding-3-small"


def expected(
    server: LoopbackServer, texts: Sequence[str], dims: int = 16, model: str = MODEL
) -> npt.NDArray[np.float32]:
    rows = [server.vector(t, api="openai", model=model, dimensions=dims) for t in texts]
    return np.stack(rows)


# -- embedding --------------------------------------------------------------------------------


def test_embeds_through_the_sdk_into_the_servers_unit_vectors(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    model = make_openai()
    texts = ["How do I reset my password?", "Passwort zurücksetzen", "退款"]
    vectors = model.embed(texts, Role.QUERY)
    assert isinstance(model, Embedder)
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 16)
    np.testing.assert_allclose(vectors, expected(server, texts), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    (request,) = server.requests
    assert request.texts == tuple(texts)
    assert request.params["dimensions"] == 16
    assert request.headers["authorization"] == "<redacted>"


def test_float_and_base64_replies_decode_to_identical_vectors(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    texts = ["alpha", "beta", "gamma"]
    as_base64 = make_openai(encoding_format="base64").embed(texts, Role.DOCUMENT)
    as_float = make_openai(encoding_format="float").embed(texts, Role.DOCUMENT)
    assert [r.params["encoding_format"] for r in server.requests] == ["base64", "float"]
    np.testing.assert_array_equal(as_base64, as_float)


def test_queries_and_documents_get_the_same_vectors_since_openai_has_no_task_types(
    make_openai: MakeOpenAI, openai_key: str
) -> None:
    model = make_openai()
    np.testing.assert_array_equal(
        model.embed(["same text"], Role.QUERY), model.embed(["same text"], Role.DOCUMENT)
    )


def test_an_empty_list_makes_no_request_and_needs_no_key(
    server: LoopbackServer, make_openai: MakeOpenAI
) -> None:
    vectors = make_openai().embed([], Role.QUERY)
    assert vectors.shape == (0, 16)
    assert server.request_count == 0


def test_an_empty_text_is_not_sent_and_gets_a_zero_vector(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    vectors = make_openai().embed(["a", "", "c"], Role.QUERY)
    assert server.embedded_texts == ["a", "c"]
    assert not vectors[1].any()
    assert np.linalg.norm(vectors[[0, 2]], axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_only_empty_texts_make_no_request_and_need_no_key(
    server: LoopbackServer, make_openai: MakeOpenAI
) -> None:
    vectors = make_openai().embed(["", ""], Role.DOCUMENT)
    assert vectors.shape == (2, 16)
    assert not vectors.any()
    assert server.request_count == 0


# -- batching ---------------------------------------------------------------------------------


def test_a_corpus_larger_than_one_request_is_split_within_the_input_count_limit(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, corpus: Corpus
) -> None:
    texts = corpus(5000, size=24)
    model = make_openai(dimensions=4)
    vectors = model.embed(texts, Role.DOCUMENT)
    assert server.batch_sizes == [2048, 2048, 904]
    assert all(r.status == 200 for r in server.requests)
    np.testing.assert_allclose(
        vectors[[0, 2048, 4999]],
        expected(server, [texts[0], texts[2048], texts[4999]], 4),
        atol=1e-6,
    )


def test_requests_stay_under_the_per_request_token_limit(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, corpus: Corpus
) -> None:
    # 700 texts of 1,000 bytes: 700,000 counted tokens, so at least three requests of
    # at most 300,000; the server answers 400 to any request over its own limits.
    texts = corpus(700, size=1000)
    model = make_openai(dimensions=4)
    model.embed(texts, Role.DOCUMENT)
    assert server.batch_sizes == [300, 300, 100]
    assert all(r.status == 200 for r in server.requests)
    assert max(sum(len(t.encode()) for t in r.texts) for r in server.requests) <= 300_000


def test_plan_batches_predicts_one_request_per_planned_batch(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, corpus: Corpus
) -> None:
    model = make_openai(batch_size=50, max_batch_tokens=2_000)
    texts = corpus(120, size=30) + corpus(5, size=900, prefix="long")
    plan = model.plan_batches(texts)
    assert sum(plan) == len(texts)
    assert server.request_count == 0  # planning sends nothing and needs no key
    start = 0
    for size in plan:
        model.embed(texts[start : start + size], Role.DOCUMENT)
        start += size
    assert server.batch_sizes == plan
    for request in server.requests:
        assert len(request.texts) <= 50
        assert sum(len(t.encode()) for t in request.texts) <= 2_000


def test_batch_size_over_the_provider_limit_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="limit of 2048 inputs"):
        OpenAIEmbedder(batch_size=4096)


# -- truncation -------------------------------------------------------------------------------


def test_texts_over_the_input_limit_are_cut_to_it_and_counted(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = make_openai(max_input_tokens=15)
    long_ascii, long_accented = "x" * 40, "é" * 20  # 40 UTF-8 bytes each
    with caplog.at_level(logging.WARNING, logger="embedgate"):
        vectors = model.embed(["short", long_ascii, long_accented], Role.DOCUMENT)
    sent = server.requests[0].texts
    assert sent == ("short", "x" * 15, "é" * 7)  # never half a character
    np.testing.assert_allclose(vectors, expected(server, sent), atol=1e-6)
    assert model.usage()["truncated_inputs"] == 2
    assert "cut 2 text(s) to max_input_tokens=15" in caplog.text


def test_estimate_tokens_prices_texts_as_a_request_would_without_sending(
    server: LoopbackServer, make_openai: MakeOpenAI
) -> None:
    model = make_openai(max_input_tokens=15)
    # 5 bytes; 40 bytes cut to 15; 20 two-byte characters cut to 7 (14 bytes); empty is free
    assert model.estimate_tokens(["short", "x" * 40, "é" * 20, ""]) == (34, "utf8-bytes")
    assert server.request_count == 0


def test_truncate_error_refuses_long_texts_before_any_request(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    model = make_openai(max_input_tokens=15, truncate="error")
    with pytest.raises(ModelError, match=r"1 text\(s\) are over max_input_tokens=15.*text 2 of 2"):
        model.embed(["short", "y" * 16], Role.DOCUMENT)
    with pytest.raises(ModelError):
        model.plan_batches(["y" * 16])
    assert server.request_count == 0


def test_truncate_none_sends_texts_whole_and_shares_the_error_policys_identity(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    whole = make_openai(max_input_tokens=15, truncate="none")
    whole.embed(["z" * 40], Role.DOCUMENT)
    assert server.requests[0].texts == ("z" * 40,)
    refusing = make_openai(max_input_tokens=15, truncate="error")
    cutting = make_openai(max_input_tokens=15, truncate="truncate")
    assert whole.identity() == refusing.identity()
    assert whole.identity() != cutting.identity()


def test_an_unknown_truncate_policy_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="truncate, error, none"):
        OpenAIEmbedder(truncate="cut")


# -- dimensions -------------------------------------------------------------------------------


def test_ada_002_refuses_the_dimensions_option() -> None:
    with pytest.raises(ConfigError, match="'dimensions' option is not supported"):
        OpenAIEmbedder("text-embedding-ada-002", dimensions=256)


def test_dimensions_above_the_models_size_are_refused() -> None:
    with pytest.raises(ConfigError, match="more than the model's 1536"):
        OpenAIEmbedder(MODEL, dimensions=2048)


def test_ada_002_embeds_at_its_full_size_without_sending_dimensions(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    vectors = make_openai("text-embedding-ada-002").embed(["a"], Role.QUERY)
    assert vectors.shape == (1, 1536)
    assert server.requests[0].params["dimensions"] is None


def test_a_compatible_server_learns_its_models_size_from_the_first_reply(
    server: LoopbackServer, clock: FakeClock
) -> None:
    server.openai_key = None  # a local server that wants no key
    model = OpenAIEmbedder(
        "BAAI/bge-small-en-v1.5", base_url=server.openai_base_url, api_key_env="none"
    )
    model.clock = clock
    identity = dict(model.identity())
    assert model.info.dimensions is None
    assert model.embed(["a", "b"], Role.QUERY).shape == (2, server.default_dimensions)
    assert model.info.dimensions == server.default_dimensions
    assert model.identity() == identity  # what was learned never moves the cache key
    assert model.usage()["price_per_million_usd"] is None  # no price for a local server


# -- transient faults are survived ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("rate_limit", {}),
        ("rate_limit", {"retry_after": 7}),
        ("server_error", {}),
        ("unavailable", {}),
        ("status", {"status": 502}),
        ("reset", {}),
        ("malformed_json", {}),
        ("short", {}),
        ("wrong_dimensions", {}),
        ("nan", {}),
    ],
)
def test_a_transient_fault_is_retried_once_and_the_vectors_are_right(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    clock: FakeClock,
    fault: str,
    options: dict[str, Any],
) -> None:
    model = make_openai()
    server.inject(fault, **options)
    vectors = model.embed(["one", "two", "three"], Role.DOCUMENT)
    np.testing.assert_allclose(vectors, expected(server, ["one", "two", "three"]), atol=1e-6)
    assert server.request_count == 2
    assert [r.fault for r in server.requests] == [fault, None]
    assert len(clock.sleeps) == 1
    usage = model.usage()
    assert (usage["requests"], usage["retries"], usage["texts"]) == (2, 1, 3)


def test_a_reply_slower_than_the_timeout_is_retried(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai(timeout=0.2)
    server.inject("timeout", delay=2.0)
    vectors = model.embed(["slow"], Role.QUERY)
    np.testing.assert_allclose(vectors, expected(server, ["slow"]), atol=1e-6)
    assert server.request_count == 2
    assert model.usage()["retries"] == 1


def test_retry_after_is_honoured_and_otherwise_backoff_doubles_with_jitter(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai()
    server.inject("rate_limit", retry_after=7)
    model.embed(["a"], Role.QUERY)
    assert 7.0 <= clock.sleeps[0] <= 7.7
    clock.sleeps.clear()
    server.inject("unavailable", times=4)
    model.embed(["b"], Role.QUERY)
    # Equal jitter: retry k waits between 2**k / 2 and 2**k seconds.
    assert len(clock.sleeps) == 4
    for k, slept in enumerate(clock.sleeps):
        assert 2**k / 2 <= slept <= 2**k


def test_retry_after_in_milliseconds_and_as_a_date_are_understood(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai()
    server.inject("rate_limit", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")  # in the past
    model.embed(["a"], Role.QUERY)
    assert clock.sleeps == [0.0]


# -- permanent failures are reported ----------------------------------------------------------


def test_a_fault_that_outlasts_the_retries_names_provider_model_and_batch(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, corpus: Corpus
) -> None:
    model = make_openai(batch_size=64, max_retries=2)
    for attempt in range(3):
        server.inject("unavailable", at=2 + attempt)  # the third batch, every attempt
    with pytest.raises(TransientProviderError) as caught:
        model.embed(corpus(192), Role.DOCUMENT)
    message = str(caught.value)
    assert message.startswith(
        "openai text-embedding-3-small, document batch 3 (texts 129\u2013192): HTTP 503"
    )
    assert "still failing after 2 retries" in message
    assert server.request_count == 5
    assert isinstance(caught.value.__cause__, Exception)  # the SDK's exception, chained
    assert model.usage()["failed_batches"] == 1


def test_a_persistent_429_raises_rate_limited(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    model = make_openai(max_retries=3)
    server.inject("rate_limit", times=4)
    with pytest.raises(RateLimited, match=r"HTTP 429.*still failing after 3 retries"):
        model.embed(["a"], Role.QUERY)
    assert server.request_count == 4


def test_a_retry_after_longer_than_two_minutes_fails_at_once(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    server.inject("rate_limit", retry_after=3600)
    with pytest.raises(RateLimited, match="asks to wait 3600 s"):
        make_openai().embed(["a"], Role.QUERY)
    assert server.request_count == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("fault", ["short", "wrong_dimensions", "nan", "malformed_json"])
def test_a_malformed_reply_is_retried_once_then_reported(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, fault: str
) -> None:
    server.inject(fault, times=5)
    with pytest.raises(MalformedResponse, match=r"openai text-embedding-3-small, query batch 1"):
        make_openai().embed(["a", "b"], Role.QUERY)
    assert server.request_count == 2


def test_max_retries_zero_never_retries(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    server.inject("server_error")
    with pytest.raises(TransientProviderError):
        make_openai(max_retries=0).embed(["a"], Role.QUERY)
    assert server.request_count == 1


def test_a_bad_request_is_not_retried(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    server.inject("status", status=400)
    with pytest.raises(ProviderError, match="HTTP 400") as caught:
        make_openai().embed(["a"], Role.QUERY)
    assert type(caught.value) is ProviderError
    assert server.request_count == 1


def test_a_rejected_key_says_which_env_var_to_check(
    server: LoopbackServer, make_openai: MakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-987654")
    with pytest.raises(ProviderError, match=r"refused the API key \(HTTP 401\).*\$OPENAI_API_KEY"):
        make_openai().embed(["a"], Role.QUERY)
    assert server.request_count == 1


# -- keys -------------------------------------------------------------------------------------


def test_without_a_key_the_adapter_builds_and_the_first_embed_names_the_env_var(
    server: LoopbackServer, make_openai: MakeOpenAI
) -> None:
    model = make_openai()  # no OPENAI_API_KEY: building is fine
    assert model.identity()["model"] == MODEL
    with pytest.raises(MissingCredentials, match=r"set \$OPENAI_API_KEY"):
        model.embed(["a"], Role.QUERY)
    assert server.request_count == 0


def test_api_key_env_names_another_variable(
    server: LoopbackServer, make_openai: MakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_openai(api_key_env="TEAM_OPENAI_KEY")
    with pytest.raises(MissingCredentials, match=r"\$TEAM_OPENAI_KEY"):
        model.embed(["a"], Role.QUERY)
    monkeypatch.setenv("TEAM_OPENAI_KEY", server.openai_key or "")
    assert model.embed(["a"], Role.QUERY).shape == (1, 16)


def test_no_planted_key_reaches_any_output(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outputs: list[str] = []
    caplog.set_level(logging.DEBUG)
    model = make_openai(max_retries=2)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        server.inject("rate_limit")
        server.inject("malformed_json")
        embed_with_cache(
            lambda batch: model.embed(batch, Role.DOCUMENT),
            ["a", "b", "c"],
            cache=cache,
            fingerprint=fingerprint_identity(model.identity()),
            role="document",
            identity=model.identity(),
        )
        for fault in ("echo_key", "unauthorized", "reset"):
            server.inject(fault, times=3)
            with pytest.raises(ProviderError) as caught:
                model.embed([f"text for {fault}"], Role.QUERY)
            outputs += [str(caught.value), repr(caught.value)]
            outputs += traceback.format_exception(caught.value)
            server.clear_faults()
    outputs += [
        json.dumps(model.identity()),
        json.dumps(model.info.to_dict()),
        json.dumps(model.usage()),
        repr(model),
        caplog.text,
        *(repr(r.getMessage()) + repr(r.args) for r in caplog.records),
        *(repr(r.headers) for r in server.requests),
    ]
    assert "[redacted]" in " ".join(outputs)  # the leaky proxy's message was scrubbed
    blob = "\n".join(outputs)
    assert openai_key not in blob
    assert openai_key[3:] not in blob
    for path in tmp_path.iterdir():
        assert openai_key.encode() not in path.read_bytes(), path


# -- the cache: resume after a failure, all-cached runs ---------------------------------------


def test_a_run_interrupted_in_batch_3_resumes_paying_only_for_the_missing_texts(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    tmp_path: Path,
    corpus: Corpus,
) -> None:
    texts = corpus(200)
    path = tmp_path / "cache.sqlite"

    def run(model: OpenAIEmbedder) -> Any:
        with EmbeddingCache(path) as cache:
            return embed_with_cache(
                lambda batch: model.embed(batch, Role.DOCUMENT),
                texts,
                cache=cache,
                fingerprint=fingerprint_identity(model.identity()),
                role="document",
                batch_size=model.batch_size,
                identity=model.identity(),
            )

    first = make_openai(batch_size=64, max_retries=1, price_per_million=0.02)
    server.inject("unavailable", at=2)
    server.inject("unavailable", at=3)
    with pytest.raises(TransientProviderError, match="document batch 3 \\(texts 129"):
        run(first)
    assert first.usage()["texts"] == 128
    server.reset()

    second = make_openai(batch_size=64, price_per_million=0.02)
    vectors, stats = run(second)
    assert (stats.hits, stats.embedded) == (128, 72)
    assert server.batch_sizes == [64, 8]
    assert server.embedded_texts == texts[128:]
    np.testing.assert_allclose(vectors, expected(server, texts), atol=1e-6)
    tokens = sum(-(-len(t.encode()) // 4) for t in texts[128:])  # the server's count
    usage = second.usage()
    assert (usage["texts"], usage["input_tokens"], usage["provider_tokens"]) == (72, tokens, tokens)
    assert usage["estimated_cost_usd"] == pytest.approx(tokens / 1e6 * 0.02)


def test_an_all_cached_run_makes_no_request_and_needs_no_key(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = ["cached one", "cached two"]
    monkeypatch.setenv("OPENAI_API_KEY", server.openai_key or "")
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        warm = make_openai()
        embed_with_cache(
            lambda b: warm.embed(b, Role.QUERY),
            texts,
            cache=cache,
            fingerprint=fingerprint_identity(warm.identity()),
            role="query",
        )
        monkeypatch.delenv("OPENAI_API_KEY")
        server.reset()
        cold = make_openai()
        vectors, stats = embed_with_cache(
            lambda b: cold.embed(b, Role.QUERY),
            texts,
            cache=cache,
            fingerprint=fingerprint_identity(cold.identity()),
            role="query",
        )
    assert (stats.hits, stats.embedded) == (2, 0)
    assert server.request_count == 0
    assert cold.usage()["requests"] == 0
    np.testing.assert_allclose(vectors, expected(server, texts), atol=1e-6)


# -- identity, info, usage --------------------------------------------------------------------


def test_identity_holds_everything_that_changes_vectors_and_no_key(
    server: LoopbackServer, openai_key: str
) -> None:
    base = OpenAIEmbedder(MODEL, dimensions=256, base_url=server.openai_base_url)
    identity = base.identity()
    assert identity == {
        "provider": "openai",
        "model": MODEL,
        "endpoint": f"127.0.0.1:{server.port}/v1",
        "dimensions": 256,
        "normalize": True,
        "truncation": {"policy": "truncate", "max_input_tokens": 8192, "counter": "utf8-bytes"},
    }
    variants = [
        OpenAIEmbedder(MODEL, dimensions=512, base_url=server.openai_base_url),
        OpenAIEmbedder(MODEL, dimensions=256, base_url="http://127.0.0.1:1/v1"),
        OpenAIEmbedder(MODEL, dimensions=256, base_url=server.openai_base_url, normalize=False),
        OpenAIEmbedder(
            MODEL, dimensions=256, base_url=server.openai_base_url, max_input_tokens=512
        ),
        OpenAIEmbedder("text-embedding-3-large", dimensions=256, base_url=server.openai_base_url),
    ]
    prints = {fingerprint_identity(m.identity()) for m in [base, *variants]}
    assert len(prints) == 6
    same = OpenAIEmbedder(
        MODEL,
        dimensions=256,
        base_url=server.openai_base_url,
        batch_size=10,
        timeout=3,
        max_retries=0,
        encoding_format="float",
        requests_per_minute=10,
        price_per_million=1.0,
    )
    assert same.identity() == identity  # none of those change a vector
    assert openai_key not in json.dumps(identity)


def test_the_endpoint_drops_user_info_query_and_fragment() -> None:
    model = OpenAIEmbedder(base_url="https://bob:hunter2@llm.corp:8443/v1/?api-key=sk-abc#x")
    assert model.identity()["endpoint"] == "llm.corp:8443/v1"
    assert "hunter2" not in repr(model) + json.dumps(model.info.to_dict())


def test_the_default_endpoint_is_openai_or_openai_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert OpenAIEmbedder().identity()["endpoint"] == "api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://gateway.internal/openai/v1")
    assert OpenAIEmbedder().identity()["endpoint"] == "gateway.internal/openai/v1"


def test_info_describes_the_model(server: LoopbackServer) -> None:
    info = OpenAIEmbedder(MODEL, name="small", base_url=server.openai_base_url).info
    assert (info.name, info.provider, info.model) == ("small", "openai", MODEL)
    assert (info.dimensions, info.max_tokens, info.parameters) == (1536, 8192, None)
    assert info.extra["endpoint"] == f"127.0.0.1:{server.port}/v1"


def test_the_price_table_prices_openai_itself_and_the_option_overrides_it() -> None:
    usage = OpenAIEmbedder(MODEL).usage()
    assert usage["price_per_million_usd"] == 0.02
    assert usage["price_source"] == f"embedgate price table as of {PRICES_AS_OF}"
    assert usage["estimated_cost_usd"] == 0.0
    override = OpenAIEmbedder(MODEL, price_per_million=0.5).usage()
    assert (override["price_per_million_usd"], override["price_source"]) == (
        0.5,
        "option price_per_million",
    )


def test_usage_counts_requests_retries_tokens_and_cost(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str
) -> None:
    model = make_openai(price_per_million=0.13, batch_size=2)
    server.inject("rate_limit")
    model.embed(["aaaa", "bbbbbbbb", "c"], Role.DOCUMENT)  # server tokens: 1 + 2 + 1
    usage = model.usage()
    assert usage["requests"] == 3
    assert usage["retries"] == 1
    assert usage["texts"] == 3
    assert usage["input_tokens"] == 4
    assert usage["estimated_cost_usd"] == pytest.approx(4 / 1e6 * 0.13)
    assert usage["waited_s"] > 0


# -- rate limits ------------------------------------------------------------------------------


def test_requests_per_minute_spaces_requests_on_the_clock(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai(batch_size=1, requests_per_minute=2)
    model.embed(["a", "b", "c", "d", "e"], Role.QUERY)
    assert server.request_count == 5
    # Two per window: requests 3 and 5 each wait for a minute to pass.
    assert clock.slept == pytest.approx(120.0)


def test_tokens_per_minute_caps_batches_and_waits(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai(tokens_per_minute=100)
    model.embed(["x" * 40] * 5, Role.QUERY)
    assert server.batch_sizes == [2, 2, 1]
    assert clock.slept == pytest.approx(120.0)


# -- configuration ----------------------------------------------------------------------------


def test_load_model_builds_the_adapter_from_a_spec_string(server: LoopbackServer) -> None:
    spec = parse_model_spec(
        f"small=openai:{MODEL}?dimensions=64&base_url={server.openai_base_url}&truncate=error"
    )
    model = load_model(spec)
    assert isinstance(model, OpenAIEmbedder)
    assert model.info.name == "small"
    assert model.identity()["dimensions"] == 64


def test_an_unknown_option_lists_the_openai_options() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown option.*api_key.*Options for openai:.*dimensions"
    ):
        load_model(parse_model_spec(f"openai:{MODEL}?api_key=sk-nope"))


def test_a_missing_sdk_says_which_extra_to_install(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = make_openai()
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(MissingDependency, match=r"pip install 'embedgate\[openai\]'"):
        model.embed(["a"], Role.QUERY)


def test_tiktoken_counts_when_asked(
    server: LoopbackServer,
    make_openai: MakeOpenAI,
    openai_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Encoding:  # a word-level stand-in: tiktoken's real files need a download
        name = "fake_words"

        def encode(self, text: str, disallowed_special: Any = ()) -> list[str]:
            return text.split()

        def decode(self, tokens: list[str]) -> str:
            return " ".join(tokens)

    class FakeTiktoken:
        @staticmethod
        def encoding_for_model(model: str) -> Encoding:
            return Encoding()

    monkeypatch.setitem(sys.modules, "tiktoken", FakeTiktoken)
    model = make_openai(tokenizer="tiktoken", max_input_tokens=3)
    model.embed(["one two three four five"], Role.DOCUMENT)
    assert server.requests[0].texts == ("one two three",)
    assert model.identity()["truncation"]["counter"] == f"tiktoken:{MODEL}"


def test_retry_policy_can_be_replaced(
    server: LoopbackServer, make_openai: MakeOpenAI, openai_key: str, clock: FakeClock
) -> None:
    model = make_openai()
    model.retry = RetryPolicy(max_retries=1, base_delay=0.25)
    server.inject("server_error", times=2)
    with pytest.raises(TransientProviderError, match="after 1 retry"):
        model.embed(["a"], Role.QUERY)
    assert 0.125 <= clock.sleeps[0] <= 0.25
