"""The loopback server's own contract, over plain HTTP: the wire formats, keys and faults."""

from __future__ import annotations

import base64
import http.client
import json
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from embedgate.testing import FAULT_KINDS, LoopbackServer

if TYPE_CHECKING:
    from collections.abc import Iterator

KEY = "sk-loopback-test"
GKEY = "gemini-loopback-test"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(openai_key=KEY, gemini_key=GKEY, default_dimensions=8) as srv:
        yield srv


def post(
    server: LoopbackServer,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, payload, {"Content-Type": "application/json", **(headers or {})})
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def openai(
    server: LoopbackServer, body: dict[str, Any], key: str = KEY
) -> tuple[int, dict[str, str], Any]:
    status, headers, raw = post(server, "/v1/embeddings", body, {"Authorization": f"Bearer {key}"})
    try:
        return status, headers, json.loads(raw)
    except json.JSONDecodeError:
        return status, headers, raw


def gemini(
    server: LoopbackServer, model: str, body: dict[str, Any], method: str = "batchEmbedContents"
) -> tuple[int, dict[str, str], Any]:
    status, headers, raw = post(
        server, f"/v1beta/models/{model}:{method}", body, {"x-goog-api-key": GKEY}
    )
    return status, headers, json.loads(raw)


def gemini_request(text: str, task: str | None = None, dims: int | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": text}], "role": "user"},
    }
    if task:
        item["taskType"] = task
    if dims:
        item["outputDimensionality"] = dims
    return item


# -- OpenAI wire format -----------------------------------------------------------------------


def test_openai_float_and_base64_replies_carry_the_same_vectors(server: LoopbackServer) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8}
    status, _, as_float = openai(server, {**body, "encoding_format": "float"})
    assert status == 200
    _, _, as_b64 = openai(server, {**body, "encoding_format": "base64"})
    floats = np.array([d["embedding"] for d in as_float["data"]], dtype=np.float32)
    decoded = np.stack(
        [np.frombuffer(base64.b64decode(d["embedding"]), "<f4") for d in as_b64["data"]]
    )
    np.testing.assert_array_equal(floats, decoded)
    np.testing.assert_array_equal(
        floats[0], server.vector("a", api="openai", model="text-embedding-3-small", dimensions=8)
    )
    assert [d["index"] for d in as_float["data"]] == [0, 1]
    assert as_float["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


def test_openai_dimensions_are_a_renormalized_prefix(server: LoopbackServer) -> None:
    full = server.vector("t", api="openai", model="text-embedding-3-large")
    short = server.vector("t", api="openai", model="text-embedding-3-large", dimensions=256)
    assert full.shape == (3072,)
    np.testing.assert_allclose(np.linalg.norm(short), 1.0, atol=1e-6)
    np.testing.assert_allclose(short, full[:256] / np.linalg.norm(full[:256]), atol=1e-6)


def test_vectors_depend_on_text_model_and_gemini_task_type(server: LoopbackServer) -> None:
    def vec(text: str, **kw: Any) -> Any:
        return server.vector(text, **{"api": "gemini", "model": "gemini-embedding-001", **kw})

    assert np.array_equal(vec("a"), vec("a"))
    assert not np.allclose(vec("a"), vec("b"))
    assert not np.allclose(
        vec("a", task_type="RETRIEVAL_QUERY"), vec("a", task_type="RETRIEVAL_DOCUMENT")
    )
    assert not np.allclose(vec("a")[:8], vec("a", model="text-embedding-004")[:8])


def test_openai_requests_need_the_key(server: LoopbackServer) -> None:
    status, _, body = openai(server, {"model": "m", "input": ["a"]}, key="sk-wrong-key-12345")
    assert status == 401
    assert body["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key-12345" not in json.dumps(body)  # masked, as OpenAI does
    assert server.requests[0].authorized is False


def test_openai_refuses_what_openai_refuses(server: LoopbackServer) -> None:
    cases: list[dict[str, Any]] = [
        {"model": "text-embedding-ada-002", "input": ["a"], "dimensions": 8},
        {"model": "m", "input": [""]},
        {"model": "m", "input": ["a"] * 2049},
        {"model": "m", "input": ["x" * 40_000]},
        {"model": "m", "input": ["x" * 4_000] * 301},
    ]
    for body in cases:
        status, _, reply = openai(server, body)
        assert status == 400, reply
    assert openai(server, {"model": "m", "input": ["x" * 4_000] * 300})[0] == 200


def test_requests_are_recorded_without_keys(server: LoopbackServer) -> None:
    openai(server, {"model": "m", "input": ["a", "b"], "dimensions": 4})
    gemini(server, "gemini-embedding-001", {"requests": [gemini_request("c", "CLUSTERING")]})
    first, second = server.requests
    assert (first.index, first.api, first.model, first.texts) == (0, "openai", "m", ("a", "b"))
    assert first.params["dimensions"] == 4
    assert first.headers["authorization"] == "<redacted>"
    assert (second.api, second.texts, second.params["task_types"]) == (
        "gemini",
        ("c",),
        ["CLUSTERING"],
    )
    assert second.headers["x-goog-api-key"] == "<redacted>"
    assert KEY not in repr(server.requests)
    assert GKEY not in repr(server.requests)
    assert server.batch_sizes == [2, 1]
    assert server.embedded_texts == ["a", "b", "c"]


# -- Gemini wire format -----------------------------------------------------------------------


def test_gemini_batch_replies_one_embedding_per_request_item(server: LoopbackServer) -> None:
    items = [gemini_request("a", "RETRIEVAL_QUERY", 16), gemini_request("b", "RETRIEVAL_QUERY", 16)]
    status, _, body = gemini(server, "gemini-embedding-001", {"requests": items})
    assert status == 200
    values = np.array([e["values"] for e in body["embeddings"]], dtype=np.float32)
    want = server.vector(
        "a", api="gemini", model="gemini-embedding-001", dimensions=16, task_type="RETRIEVAL_QUERY"
    )
    np.testing.assert_array_equal(values[0], want)
    assert np.linalg.norm(values[0]) < 0.5  # Gemini does not renormalize a prefix
    assert body["usageMetadata"]["promptTokenCount"] == 2


def test_gemini_single_embed_content_and_the_batch_limit(server: LoopbackServer) -> None:
    status, _, body = gemini(
        server, "text-embedding-004", gemini_request("a"), method="embedContent"
    )
    assert status == 200
    assert len(body["embedding"]["values"]) == 768
    status, _, body = gemini(
        server, "gemini-embedding-001", {"requests": [gemini_request("a")] * 101}
    )
    assert status == 400
    assert "at most 100" in body["error"]["message"]


def test_gemini_answers_a_bad_key_with_400_api_key_invalid(server: LoopbackServer) -> None:
    status, _, raw = post(
        server,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents",
        {"requests": [gemini_request("a")]},
        {"x-goog-api-key": "nope"},
    )
    body = json.loads(raw)
    assert status == 400
    assert body["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_an_unknown_path_is_404(server: LoopbackServer) -> None:
    assert post(server, "/v1/completions", {})[0] == 404


# -- faults -----------------------------------------------------------------------------------


def test_faults_hit_the_next_requests_in_order(server: LoopbackServer) -> None:
    server.inject("rate_limit", retry_after=3)
    server.inject("unavailable", times=2)
    body = {"model": "m", "input": ["a"]}
    statuses = [openai(server, body)[:2] for _ in range(4)]
    assert [s for s, _ in statuses] == [429, 503, 503, 200]
    assert statuses[0][1]["Retry-After"] == "3"
    assert "Retry-After" not in statuses[1][1]
    assert [r.fault for r in server.requests] == ["rate_limit", "unavailable", "unavailable", None]


def test_a_fault_at_an_index_hits_only_that_request(server: LoopbackServer) -> None:
    server.inject("status", status=502, at=2)
    statuses = [openai(server, {"model": "m", "input": ["a"]})[0] for _ in range(4)]
    assert statuses == [200, 200, 502, 200]


def test_gemini_rate_limits_carry_retry_info(server: LoopbackServer) -> None:
    server.inject("rate_limit", retry_after=13)
    status, headers, body = gemini(
        server, "gemini-embedding-001", {"requests": [gemini_request("a")]}
    )
    assert (status, headers["Retry-After"]) == (429, "13")
    assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert body["error"]["details"][0]["retryDelay"] == "13s"


def test_malformed_short_wrong_size_and_nan_replies(server: LoopbackServer) -> None:
    body = {"model": "m", "input": ["a", "b"], "encoding_format": "float"}
    server.inject("malformed_json")
    status, _, raw = openai(server, body)
    assert status == 200
    assert isinstance(raw, bytes)  # not parseable
    server.inject("short")
    assert len(openai(server, body)[2]["data"]) == 1
    server.inject("wrong_dimensions")
    assert len(openai(server, body)[2]["data"][0]["embedding"]) == 8 + 3
    server.inject("nan")
    assert math.isnan(openai(server, body)[2]["data"][0]["embedding"][0])


def test_a_reset_closes_the_connection_without_a_reply(server: LoopbackServer) -> None:
    server.inject("reset")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        openai(server, {"model": "m", "input": ["a"]})
    assert server.requests[0].status is None
    assert openai(server, {"model": "m", "input": ["a"]})[0] == 200


def test_a_timeout_fault_answers_only_after_the_delay(server: LoopbackServer) -> None:
    server.inject("timeout", delay=0.3)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        post(
            server,
            "/v1/embeddings",
            {"model": "m", "input": ["a"]},
            {"Authorization": f"Bearer {KEY}"},
            timeout=0.1,
        )
    assert time.monotonic() - start < 0.3


def test_echo_key_quotes_the_key_it_received(server: LoopbackServer) -> None:
    server.inject("echo_key")
    status, _, body = openai(server, {"model": "m", "input": ["a"]})
    assert status == 400
    assert KEY in body["error"]["message"]


def test_unknown_faults_are_refused_with_the_list() -> None:
    server = LoopbackServer()
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        server.inject("boom")
    with pytest.raises(ValueError, match="status="):
        server.inject("status")
    assert set(FAULT_KINDS) >= {"rate_limit", "reset", "timeout", "nan"}


def test_reset_forgets_requests_and_faults(server: LoopbackServer) -> None:
    server.inject("server_error", times=3)
    openai(server, {"model": "m", "input": ["a"]})
    server.reset()
    assert server.request_count == 0
    assert openai(server, {"model": "m", "input": ["a"]})[0] == 200
    assert server.requests[0].index == 0


def test_close_ends_a_pending_timeout_at_once() -> None:
    server = LoopbackServer(openai_key=None).start()
    server.inject("timeout", delay=30)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=0.1)
    conn.request("POST", "/v1/embeddings", json.dumps({"model": "m", "input": ["a"]}))
    with pytest.raises(TimeoutError):
        conn.getresponse()
    conn.close()
    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 2
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port
