"""The parts every API adapter shares: retry timing, rate limits, token counts, validation."""

from __future__ import annotations

import email.utils
import random
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedgate.errors import ConfigError
from embedgate.models._remote import (
    ByteCounter,
    FakeClock,
    MalformedReplyError,
    RateLimiter,
    RetryPolicy,
    endpoint_of,
    parse_retry_after,
    redact,
)
from embedgate.models.openai import OpenAIEmbedder
from embedgate.models.pricing import PRICES, price_per_million

# -- Retry-After ------------------------------------------------------------------------------


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == pytest.approx(30, abs=1)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0


@pytest.mark.parametrize("value", ["soon", "-3", "nan", "inf", ""])
def test_retry_after_ignores_what_it_cannot_read(value: str) -> None:
    assert parse_retry_after({"Retry-After": value}) is None


def test_no_headers_means_no_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after({}) is None


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_with_equal_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=60.0)
    rng = random.Random(0)
    for retry in range(12):
        ceiling = min(60.0, 2.0**retry)
        for _ in range(50):
            assert ceiling / 2 <= policy.backoff(retry, rng) <= ceiling


def test_backoff_survives_absurd_retry_counts() -> None:
    assert RetryPolicy().backoff(10_000, random.Random(1)) <= 60.0


# -- rate limits ------------------------------------------------------------------------------


def test_requests_per_minute_waits_for_the_oldest_request_to_leave_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=3, tokens_per_minute=None)
    waits = [limiter.acquire(1, clock) for _ in range(7)]
    assert waits == [0, 0, 0, 60, 0, 0, 60]
    assert clock.slept == 120


def test_tokens_per_minute_lets_the_budget_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=None, tokens_per_minute=100)
    assert limiter.acquire(60, clock) == 0
    clock.sleep(10)
    assert limiter.acquire(40, clock) == 0
    assert limiter.acquire(30, clock) == pytest.approx(50)  # the first 60 leave at t=60
    assert clock.now == pytest.approx(60)


def test_a_request_over_the_whole_token_budget_goes_alone_into_an_empty_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=None, tokens_per_minute=100)
    limiter.acquire(10, clock)
    assert limiter.acquire(500, clock) == pytest.approx(60)


def test_without_limits_nothing_waits() -> None:
    limiter = RateLimiter(None, None)
    assert not limiter.active
    assert limiter.acquire(10**9, FakeClock()) == 0


@pytest.mark.parametrize("bad", [0, -5, True])
def test_rate_limits_must_be_positive(bad: int) -> None:
    with pytest.raises(ConfigError, match="requests_per_minute must be a positive"):
        RateLimiter(requests_per_minute=bad, tokens_per_minute=None)


# -- token counts -----------------------------------------------------------------------------


def test_bytes_count_utf8_bytes() -> None:
    counter = ByteCounter()
    assert counter.count("abc") == 3
    assert counter.count("é") == 2
    assert counter.count("退款") == 6
    assert counter.count("🙂") == 4


@given(st.text(min_size=0, max_size=200), st.integers(min_value=1, max_value=120))
def test_byte_truncation_fits_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    counter = ByteCounter()
    cut = counter.truncate(text, limit)
    assert counter.count(cut) <= limit
    assert text.startswith(cut)
    if counter.count(text) <= limit:
        assert cut == text
    else:
        assert counter.count(cut) > limit - 4  # at most one character is dropped whole


# -- endpoints and secrets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://api.openai.com/v1", "api.openai.com/v1"),
        ("https://api.openai.com/v1/", "api.openai.com/v1"),
        ("http://user:secret@host:8000/v1?key=abc#frag", "host:8000/v1"),
        ("http://[::1]:8080/v1", "[::1]:8080/v1"),
        ("https://generativelanguage.googleapis.com/", "generativelanguage.googleapis.com"),
        ("localhost:11434/v1", "localhost:11434/v1"),
    ],
)
def test_endpoint_keeps_host_port_and_path_only(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint


def test_redact_replaces_every_occurrence_of_a_secret() -> None:
    assert redact("key sk-abc123 and sk-abc123", ["sk-abc123"]) == "key [redacted] and [redacted]"
    assert redact("nothing here", ["", "ab"]) == "nothing here"  # too short to be a key


# -- batch planning and validation ------------------------------------------------------------


def test_the_planner_respects_count_and_token_caps() -> None:
    model = OpenAIEmbedder(batch_size=3, max_batch_tokens=10)
    assert model.plan_batches(["aaaa", "bbbb", "cc", "d", "e", "f", "g"]) == [3, 3, 1]
    assert model.plan_batches(["aaaa", "bbbb", "ccc", "dddddd"]) == [2, 2]
    assert model.plan_batches(["x" * 20, "y"]) == [1, 1]  # an over-long text goes alone
    assert model.plan_batches([]) == []


def test_tokens_per_minute_caps_the_batch_tokens() -> None:
    model = OpenAIEmbedder(tokens_per_minute=5)
    assert model.plan_batches(["aaa", "bbb", "c"]) == [1, 2]


def test_validation_normalizes_and_rejects_zero_vectors() -> None:
    model = OpenAIEmbedder("some-server-model", base_url="http://127.0.0.1:9/v1")
    out = model._validate([[3.0, 4.0], [0.0, 2.0]], 2)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 1.0]])
    assert model.info.dimensions == 2  # learned from the first reply
    with pytest.raises(MalformedReplyError, match="all-zero"):
        model._validate([[0.0, 0.0]], 1)
    with pytest.raises(MalformedReplyError, match="3-dimensional vectors; expected 2"):
        model._validate([[1.0, 2.0, 3.0]], 1)
    with pytest.raises(MalformedReplyError, match="mixes vector lengths"):
        model._validate([[1.0, 2.0], [1.0]], 2)
    with pytest.raises(MalformedReplyError, match="not valid base64"):
        model._validate(["***"], 1)
    with pytest.raises(MalformedReplyError, match="vector 1 of the reply is missing"):
        model._validate([None], 1)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("batch_size", 0, "batch_size must be a positive whole number"),
        ("max_input_tokens", 1.5, "max_input_tokens must be a positive whole number"),
        ("timeout", 0, "timeout must be a positive number"),
        ("max_retries", -1, "max_retries must be 0 or more"),
        ("price_per_million", -1, "price_per_million must be a number"),
        ("tokenizer", "words", "tokenizer='words' is unknown"),
        ("encoding_format", "hex", "use 'base64' or 'float'"),
    ],
)
def test_bad_options_are_config_errors_naming_the_option(
    option: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        OpenAIEmbedder(**{option: value})  # type: ignore[arg-type]


# -- prices -----------------------------------------------------------------------------------


def test_the_price_table_covers_the_models_it_names() -> None:
    assert price_per_million("openai", "text-embedding-3-small") == 0.02
    assert price_per_million("openai", "text-embedding-3-large") == 0.13
    assert price_per_million("openai", "text-embedding-ada-002") == 0.10
    assert price_per_million("gemini", "models/gemini-embedding-001") == 0.15
    assert price_per_million("gemini", "unknown") is None
    assert all(price > 0 for price in PRICES.values())
