"""The chat adapters, through the real ``openai`` and ``google-genai`` SDKs against the loopback.

Every request goes to 127.0.0.1, every wait is on a fake clock, and every key is planted by the
test (see conftest.py). Each behaviour is checked for both providers.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from embedgate.errors import (
    ConfigError,
    MalformedResponse,
    MissingCredentials,
    ProviderError,
    RateLimited,
    TransientProviderError,
)
from embedgate.models.chat import GeminiChat, OpenAIChat, load_chat_model

if TYPE_CHECKING:
    from embedgate.testing import FakeClock, LoopbackServer

PROMPT = (
    "Write 3 search queries that the passage below answers.\nLanguages: en, de\n<<<\n"
    "Refunds for annual plans are prorated within fourteen days by the billing team.\n>>>"
)

Make = Callable[..., Any]


@pytest.fixture(params=["openai", "gemini"])
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_chat(server: LoopbackServer, clock: FakeClock, provider: str) -> Make:
    """A chat adapter of ``provider`` pointed at the loopback server, on the fake clock."""

    def make(**options: Any) -> OpenAIChat | GeminiChat:
        options.setdefault("timeout", 5.0)
        if provider == "openai":
            options.setdefault("base_url", server.openai_base_url)
            model: OpenAIChat | GeminiChat = OpenAIChat("gpt-test", **options)
        else:
            options.setdefault("base_url", server.gemini_base_url)
            model = GeminiChat("gemini-test", **options)
        model.clock = clock
        return model

    return make


@pytest.fixture
def key(provider: str, openai_key: str, gemini_key: str) -> str:
    return openai_key if provider == "openai" else gemini_key


def test_a_reply_is_the_servers_text_for_the_prompt(
    server: LoopbackServer, make_chat: Make, key: str, provider: str
) -> None:
    chat = make_chat(temperature=0.2)
    reply = chat.generate(PROMPT, system="You write queries.")
    assert reply == server.chat_text(PROMPT)
    assert len(json.loads(reply)["queries"]) == 3
    (request,) = server.requests
    assert request.endpoint == "chat"
    assert request.texts == (PROMPT,)
    assert request.params["system"] == "You write queries."
    assert request.params["temperature"] == pytest.approx(0.2)
    json_option = "response_format" if provider == "openai" else "response_mime_type"
    assert request.params[json_option] in ({"type": "json_object"}, "application/json")
    usage = chat.usage()
    assert (usage["requests"], usage["replies"], usage["retries"]) == (1, 1, 0)
    assert usage["input_tokens"] > 0
    assert server.embedded_texts == []
    assert server.chat_prompts == [PROMPT]


def test_a_429_with_retry_after_waits_as_told(
    server: LoopbackServer, make_chat: Make, key: str, clock: FakeClock
) -> None:
    server.inject("rate_limit", retry_after=7)
    assert make_chat().generate(PROMPT) == server.chat_text(PROMPT)
    assert server.request_count == 2
    assert len(clock.sleeps) == 1
    assert 7.0 <= clock.sleeps[0] <= 7.7  # the server's wait plus up to 10 % jitter


def test_a_429_without_retry_after_backs_off_exponentially(
    server: LoopbackServer, make_chat: Make, key: str, clock: FakeClock
) -> None:
    server.inject("rate_limit", times=3)
    make_chat().generate(PROMPT)
    assert server.request_count == 4
    # Equal jitter on 1, 2, 4 s: each wait is within [d/2, d].
    for wait, ceiling in zip(clock.sleeps, (1, 2, 4), strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_a_rate_limit_that_outlasts_the_retries_is_rate_limited(
    server: LoopbackServer, make_chat: Make, key: str
) -> None:
    server.inject("rate_limit", times=5)
    with pytest.raises(RateLimited, match=r"still failing after 2 retries.*rerun later"):
        make_chat(max_retries=2).generate(PROMPT)
    assert server.request_count == 3


def test_5xx_and_resets_are_retried_then_reported_as_transient(
    server: LoopbackServer, make_chat: Make, key: str
) -> None:
    server.inject("server_error")
    server.inject("reset")
    chat = make_chat(max_retries=3)
    assert chat.generate(PROMPT) == server.chat_text(PROMPT)
    assert chat.usage()["retries"] == 2
    server.inject("unavailable", times=4)
    with pytest.raises(TransientProviderError, match="still failing after 3 retries"):
        chat.generate(PROMPT)


def test_a_reply_slower_than_the_timeout_is_retried(
    server: LoopbackServer, make_chat: Make, key: str
) -> None:
    server.inject("timeout", delay=3.0)
    chat = make_chat(timeout=1.0)
    assert chat.generate(PROMPT) == server.chat_text(PROMPT)
    assert server.request_count == 2
    assert chat.usage()["retries"] == 1


@pytest.mark.parametrize("fault", ["malformed_json", "short"])
def test_a_malformed_reply_is_retried_once(
    server: LoopbackServer, make_chat: Make, key: str, fault: str
) -> None:
    server.inject(fault)
    assert make_chat().generate(PROMPT) == server.chat_text(PROMPT)
    server.inject(fault, times=2)
    with pytest.raises(MalformedResponse, match="still failing after 1 retry"):
        make_chat().generate(PROMPT)


def test_prose_instead_of_json_is_returned_for_the_builder_to_judge(
    server: LoopbackServer, make_chat: Make, key: str
) -> None:
    server.inject("not_json")
    reply = make_chat().generate(PROMPT)
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply)


def test_without_a_key_nothing_is_sent_and_the_variable_is_named(
    server: LoopbackServer, make_chat: Make, provider: str
) -> None:
    chat = make_chat()
    wanted = (
        r"\$OPENAI_API_KEY" if provider == "openai" else r"\$GOOGLE_API_KEY or \$GEMINI_API_KEY"
    )
    with pytest.raises(MissingCredentials, match=rf"no API key; set {wanted}.*Nothing was sent"):
        chat.check_credentials()
    with pytest.raises(MissingCredentials):
        chat.generate(PROMPT)
    assert server.request_count == 0


def test_a_rejected_key_names_the_variable_to_check(
    server: LoopbackServer, make_chat: Make, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY" if provider == "openai" else "GOOGLE_API_KEY", "wrong-k3y")
    with pytest.raises(ProviderError, match=r"refused the API key.*Check the API key in \$"):
        make_chat().generate(PROMPT)
    assert server.request_count == 1


def test_no_planted_key_reaches_any_output(
    server: LoopbackServer, make_chat: Make, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = make_chat(max_retries=2)
    outputs: list[str] = []
    server.inject("rate_limit")
    server.inject("malformed_json")
    outputs.append(chat.generate(PROMPT))
    for fault in ("echo_key", "unauthorized", "reset"):
        server.inject(fault, times=3)
        with pytest.raises(ProviderError) as caught:
            chat.generate(PROMPT)
        outputs += [str(caught.value), repr(caught.value)]
        outputs += traceback.format_exception(caught.value)
        server.clear_faults()
    outputs += [
        json.dumps(chat.identity()),
        json.dumps(chat.usage()),
        repr(chat),
        caplog.text,
        *(repr(r.getMessage()) + repr(r.args) for r in caplog.records),
        *(repr(r.headers) for r in server.requests),
    ]
    blob = "\n".join(outputs)
    assert "[redacted]" in blob  # the leaky proxy's message was scrubbed, not dropped
    assert key not in blob
    assert key[4:] not in blob


def test_specs_pick_the_provider_and_unknown_ones_list_the_known(server: LoopbackServer) -> None:
    chat = load_chat_model("openai:gpt-x", base_url=server.openai_base_url, temperature=None)
    assert (chat.label, chat.identity()["temperature"]) == ("openai gpt-x", 0.7)
    assert load_chat_model("gemini").label == "gemini gemini-2.5-flash"
    with pytest.raises(ConfigError, match=r"unknown provider 'claude'.*openai:MODEL, gemini:MODEL"):
        load_chat_model("claude:x")
    with pytest.raises(ConfigError, match="temperature must be a number from 0 to 2"):
        load_chat_model("openai:gpt-x", temperature=3)
