"""The embedding cache: exact round trips, misses, dedup, resumable runs, processes, bad files."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedgate.cache import (
    SCHEMA_VERSION,
    CacheStats,
    EmbeddingCache,
    embed_with_cache,
    text_digest,
)
from embedgate.errors import CacheError, MalformedResponse
from embedgate.models.base import Role

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

FP = "a" * 64
OTHER_FP = "b" * 64
DIMS = 8


def fake_vectors(texts: Sequence[str], dims: int = DIMS) -> npt.NDArray[np.float32]:
    """A deterministic fake embedder: the same text gives the same vector in every process."""
    rows = [np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8)[:dims] for t in texts]
    if not rows:
        return np.zeros((0, dims), dtype=np.float32)
    return (np.stack(rows).astype(np.float32) - 127.5) / 127.5


class CountingEmbedder:
    """Wraps `fake_vectors`, recording every batch it is asked for; may fail on one call."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.batches.append(list(texts))
        if self.fail_on_call is not None and len(self.batches) == self.fail_on_call:
            raise ConnectionError("provider went away")
        return fake_vectors(texts)

    @property
    def texts(self) -> list[str]:
        return [t for b in self.batches for t in b]


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "embeddings.sqlite"


@pytest.fixture
def cache(cache_path: Path) -> Iterator[EmbeddingCache]:
    with EmbeddingCache(cache_path) as c:
        yield c


def file_bytes(path: Path) -> bytes:
    """The database with its WAL and shared-memory files, as a CI artifact might hold them."""
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


# -- round trips and misses -----------------------------------------------------------------


def test_vectors_round_trip_with_exact_float32_bytes(cache: EmbeddingCache) -> None:
    tiny = np.finfo(np.float32).smallest_subnormal
    vectors = np.array(
        [[-0.0, 1e-38, tiny, 3.4e38], [np.pi, -np.e, 1 / 3, -1 / 7]], dtype=np.float32
    )
    assert cache.put_many(FP, "document", ["x", "y"], vectors) == 2

    got, found = cache.get_many(FP, "document", ["x", "y"])

    assert found.all()
    assert got.dtype == np.float32
    assert got.flags.writeable
    assert got.tobytes() == vectors.tobytes()


def test_lookups_come_back_in_input_order_with_repeats(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a", "b"], fake_vectors(["a", "b"]))

    got, found = cache.get_many(FP, "query", ["b", "missing", "a", "b"])

    assert found.tolist() == [True, False, True, True]
    np.testing.assert_array_equal(got[[0, 2, 3]], fake_vectors(["b", "a", "b"]))
    np.testing.assert_array_equal(got[1], np.zeros(DIMS, dtype=np.float32))


@pytest.mark.parametrize(
    ("fingerprint", "role", "text"),
    [
        pytest.param(OTHER_FP, "query", "hello", id="other-fingerprint"),
        pytest.param(FP, "document", "hello", id="other-role"),
        pytest.param(FP, "query", "hello ", id="other-text"),
        pytest.param(FP, "query", "Hello", id="other-case"),
    ],
)
def test_a_different_fingerprint_role_or_text_is_a_miss(
    cache: EmbeddingCache, fingerprint: str, role: str, text: str
) -> None:
    cache.put_many(FP, "query", ["hello"], fake_vectors(["hello"]))

    _, found = cache.get_many(fingerprint, role, [text])

    assert found.tolist() == [False]


def test_an_unknown_fingerprint_gives_zero_width_vectors(cache: EmbeddingCache) -> None:
    got, found = cache.get_many(FP, "query", ["a", "b"])

    assert got.shape == (2, 0)
    assert not found.any()


def test_a_known_fingerprint_gives_its_width_even_when_every_text_misses(
    cache: EmbeddingCache,
) -> None:
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"]))

    got, found = cache.get_many(FP, "document", ["a"])

    assert got.shape == (1, DIMS)
    assert not found.any()


def test_thousands_of_texts_are_found_past_the_sql_variable_limit(
    cache: EmbeddingCache,
) -> None:
    texts = [f"document number {i}" for i in range(5_000)]
    cache.put_many(FP, "document", texts, fake_vectors(texts))
    asked = [*texts[::-1], "not cached"]

    got, found = cache.get_many(FP, "document", asked)

    assert found.sum() == 5_000
    assert not found[-1]
    np.testing.assert_array_equal(got[:-1], fake_vectors(texts[::-1]))


def test_the_role_enum_from_the_models_seam_is_accepted(cache: EmbeddingCache) -> None:
    cache.put_many(FP, Role.QUERY, ["a"], fake_vectors(["a"]))

    _, found = cache.get_many(FP, "query", ["a"])

    assert found.all()
    assert cache.count(FP, Role.QUERY) == 1


def test_a_role_other_than_query_or_document_is_refused(cache: EmbeddingCache) -> None:
    with pytest.raises(ValueError, match="role must be one of"):
        cache.get_many(FP, "passage", ["a"])


def test_a_key_written_twice_keeps_its_first_vector(cache: EmbeddingCache) -> None:
    first = fake_vectors(["a"])
    assert cache.put_many(FP, "query", ["a"], first) == 1

    assert cache.put_many(FP, "query", ["a", "b"], fake_vectors(["z", "b"])) == 1

    got, _ = cache.get_many(FP, "query", ["a"])
    np.testing.assert_array_equal(got, first)


@pytest.mark.parametrize(
    ("vectors", "message"),
    [
        pytest.param(np.ones((2, DIMS)), r"shape \(1, dimensions\)", id="too-many-rows"),
        pytest.param(np.ones(DIMS), r"shape \(1, dimensions\)", id="one-dimensional"),
        pytest.param(np.full((1, DIMS), np.nan), "NaN or infinite", id="nan"),
        pytest.param(np.full((1, DIMS), 1e300), "NaN or infinite", id="overflows-float32"),
        pytest.param(np.array([["a"] * DIMS]), "real numbers", id="strings"),
        pytest.param(np.ones((1, 0)), "0 dimensions", id="no-dimensions"),
    ],
)
def test_put_many_refuses_vectors_it_cannot_store_faithfully(
    cache: EmbeddingCache, vectors: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cache.put_many(FP, "query", ["a"], vectors)

    assert cache.count() == 0


def test_a_dimension_change_under_one_fingerprint_is_refused(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"], dims=8))

    with pytest.raises(CacheError, match=r"8-dimensional.*4-dimensional.*identity"):
        cache.put_many(FP, "document", ["b"], fake_vectors(["b"], dims=4))

    assert cache.count() == 1


def test_float64_vectors_are_stored_as_float32(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a"], np.array([[0.1, 0.2]], dtype=np.float64))

    got, _ = cache.get_many(FP, "query", ["a"])

    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([[0.1, 0.2]], dtype=np.float32))


def test_the_text_itself_is_never_written_only_its_hash(
    cache: EmbeddingCache, cache_path: Path
) -> None:
    secret_text = "Patient 4471 was diagnosed with a confidential condition"
    cache.put_many(FP, "document", [secret_text], fake_vectors([secret_text]))

    raw = file_bytes(cache_path)

    assert secret_text.encode() not in raw
    assert text_digest(secret_text) in raw


def test_text_digest_is_sha256_of_utf8() -> None:
    assert text_digest("héllo") == hashlib.sha256("héllo".encode()).digest()
    with pytest.raises(TypeError, match="str texts"):
        text_digest(b"bytes")  # type: ignore[arg-type]


# -- embed_with_cache -------------------------------------------------------------------------


def test_repeated_texts_are_embedded_once(cache: EmbeddingCache) -> None:
    embed = CountingEmbedder()
    texts = ["a", "b", "a", "c", "b", "a"]

    vectors, stats = embed_with_cache(
        embed, texts, cache=cache, fingerprint=FP, role="query", batch_size=2
    )

    assert embed.batches == [["a", "b"], ["c"]]
    assert stats == CacheStats(hits=0, misses=6, embedded=3)
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


def test_a_second_run_over_the_same_texts_calls_embed_zero_times(
    cache: EmbeddingCache,
) -> None:
    texts = [f"t{i}" for i in range(25)]
    first, _ = embed_with_cache(
        CountingEmbedder(), texts, cache=cache, fingerprint=FP, role="document", batch_size=4
    )
    embed = CountingEmbedder()

    second, stats = embed_with_cache(
        embed, texts, cache=cache, fingerprint=FP, role="document", batch_size=4
    )

    assert embed.batches == []
    assert stats == CacheStats(hits=25, misses=0, embedded=0)
    assert second.tobytes() == first.tobytes()


def test_a_second_run_survives_closing_and_reopening_the_file(cache_path: Path) -> None:
    texts = ["a", "b", "c"]
    with EmbeddingCache(cache_path) as c:
        embed_with_cache(CountingEmbedder(), texts, cache=c, fingerprint=FP, role="query")
    embed = CountingEmbedder()

    with EmbeddingCache(cache_path) as c:
        vectors, _ = embed_with_cache(embed, texts, cache=c, fingerprint=FP, role="query")

    assert embed.batches == []
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


def test_an_exception_in_the_middle_batch_keeps_the_earlier_batches(
    cache: EmbeddingCache,
) -> None:
    texts = [f"t{i}" for i in range(9)]
    failing = CountingEmbedder(fail_on_call=2)

    with pytest.raises(ConnectionError, match="provider went away"):
        embed_with_cache(failing, texts, cache=cache, fingerprint=FP, role="query", batch_size=3)

    assert cache.count(FP, "query") == 3
    rerun = CountingEmbedder()
    vectors, stats = embed_with_cache(
        rerun, texts, cache=cache, fingerprint=FP, role="query", batch_size=3
    )
    assert rerun.texts == texts[3:]
    assert stats == CacheStats(hits=3, misses=6, embedded=6)
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


def test_only_missing_texts_are_embedded_and_hits_fill_their_rows(
    cache: EmbeddingCache,
) -> None:
    cache.put_many(FP, "query", ["b", "d"], fake_vectors(["b", "d"]))
    embed = CountingEmbedder()

    vectors, stats = embed_with_cache(
        embed, ["a", "b", "c", "d", "a"], cache=cache, fingerprint=FP, role="query"
    )

    assert embed.texts == ["a", "c"]
    assert stats == CacheStats(hits=2, misses=3, embedded=2)
    np.testing.assert_array_equal(vectors, fake_vectors(["a", "b", "c", "d", "a"]))


def test_progress_reports_distinct_texts_embedded_after_each_batch(
    cache: EmbeddingCache,
) -> None:
    calls: list[tuple[int, int]] = []
    cache.put_many(FP, "query", ["t0"], fake_vectors(["t0"]))

    embed_with_cache(
        CountingEmbedder(),
        [f"t{i}" for i in range(8)] + ["t1"],
        cache=cache,
        fingerprint=FP,
        role="query",
        batch_size=3,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert calls == [(3, 7), (6, 7), (7, 7)]


def test_no_texts_gives_an_empty_matrix_without_calling_embed(cache: EmbeddingCache) -> None:
    embed = CountingEmbedder()

    vectors, stats = embed_with_cache(embed, [], cache=cache, fingerprint=FP, role="query")

    assert vectors.shape == (0, 0)
    assert vectors.dtype == np.float32
    assert stats == CacheStats(hits=0, misses=0, embedded=0)
    assert embed.batches == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param(lambda t: fake_vectors(t)[:-1], r"shape \(2, dimensions\)", id="a-row-short"),
        pytest.param(lambda t: fake_vectors(t)[0], r"shape \(2, dimensions\)", id="1-d"),
        pytest.param(lambda t: fake_vectors(t) * np.nan, "NaN or infinite", id="nan"),
        pytest.param(lambda t: [["x"] * DIMS] * len(t), "real numbers", id="strings"),
        pytest.param(lambda t: None, "real numbers", id="none"),
    ],
)
def test_a_malformed_embed_answer_is_a_clear_error_naming_the_batch(
    cache: EmbeddingCache, answer: Any, message: str
) -> None:
    with pytest.raises(MalformedResponse, match=rf"batch 1 of 1 \(texts 1-2 .*{message}"):
        embed_with_cache(answer, ["a", "b"], cache=cache, fingerprint=FP, role="query")

    assert cache.count() == 0


def test_a_dimension_change_between_batches_is_a_clear_error(cache: EmbeddingCache) -> None:
    widths = iter([DIMS, DIMS + 1])

    def shifty(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return fake_vectors(texts, dims=next(widths))

    with pytest.raises(MalformedResponse, match=r"batch 2 of 2.*9-dimensional.*8 were expected"):
        embed_with_cache(
            shifty, ["a", "b"], cache=cache, fingerprint=FP, role="query", batch_size=1
        )

    assert cache.count() == 1


def test_a_dimension_that_differs_from_the_cache_is_a_clear_error(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"], dims=4))

    with pytest.raises(MalformedResponse, match="8-dimensional vectors where 4"):
        embed_with_cache(CountingEmbedder(), ["b"], cache=cache, fingerprint=FP, role="query")


def test_batch_size_must_be_a_positive_int(cache: EmbeddingCache) -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        embed_with_cache(fake_vectors, ["a"], cache=cache, fingerprint=FP, role="q", batch_size=0)


@settings(max_examples=40, deadline=None)
@given(
    first=st.lists(st.text(max_size=4), max_size=12),
    second=st.lists(st.text(max_size=4), max_size=12),
    batch_size=st.integers(1, 5),
)
def test_cached_embedding_equals_embedding_directly(
    first: list[str], second: list[str], batch_size: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp, EmbeddingCache(Path(tmp) / "c.sqlite") as c:
        embed = CountingEmbedder()
        for texts in (first, second):
            vectors, stats = embed_with_cache(
                embed, texts, cache=c, fingerprint=FP, role="document", batch_size=batch_size
            )
            if texts:
                assert vectors.tobytes() == fake_vectors(texts).tobytes()
            assert stats.hits + stats.misses == len(texts)
        # Every distinct text was embedded exactly once over both runs.
        assert sorted(embed.texts) == sorted(set(first) | set(second))


# -- several processes, killed runs -------------------------------------------------------------


def _write_overlapping(path: str, texts: list[str], barrier: Barrier, results: Queue[Any]) -> None:
    """Spawned worker: open the (possibly not yet created) file and embed in small batches."""
    try:
        barrier.wait(timeout=60)
        with EmbeddingCache(path, timeout=30) as c:
            _, stats = embed_with_cache(
                fake_vectors, texts, cache=c, fingerprint=FP, role="document", batch_size=7
            )
            # A second writer of keys the other process writes too, through the low-level call.
            c.put_many(FP, "document", texts[::3], fake_vectors(texts[::3]))
        results.put(("ok", stats.embedded))
    except BaseException:
        results.put(("error", traceback.format_exc()))


def test_two_processes_writing_overlapping_keys_lose_nothing_and_raise_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite"
    texts = [f"text {i}" for i in range(600)]
    halves = [texts[:400], texts[200:]]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results: Queue[Any] = ctx.Queue()
    workers = [
        ctx.Process(target=_write_overlapping, args=(str(path), half, barrier, results))
        for half in halves
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)

    errors = [detail for status, detail in outcomes if status != "ok"]
    if errors:
        pytest.fail("a writer failed:\n" + "\n".join(errors))
    assert [w.exitcode for w in workers] == [0, 0]
    with EmbeddingCache(path) as c:
        assert c.count() == len(texts)
        vectors, found = c.get_many(FP, "document", texts)
    assert found.all()
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


_SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from embedgate.cache import EmbeddingCache, embed_with_cache

    def slow(texts):
        time.sleep(0.05)
        rows = [np.frombuffer(__import__("hashlib").sha256(t.encode()).digest(), np.uint8)[:8]
                for t in texts]
        return (np.stack(rows).astype(np.float32) - 127.5) / 127.5

    def report(done, total):
        print(done, total, flush=True)

    texts = [f"text {i}" for i in range(int(sys.argv[2]))]
    with EmbeddingCache(sys.argv[1]) as cache:
        embed_with_cache(slow, texts, cache=cache, fingerprint="a" * 64, role="document",
                         batch_size=4, progress=report)
    print("finished", flush=True)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_run_killed_with_sigkill_resumes_embedding_only_what_was_missing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "killed.sqlite"
    n = 200
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_RUN, str(path), str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        # Progress is reported after a batch commits: 5 lines mean at least 20 vectors stored.
        lines = [child.stdout.readline() for _ in range(5)]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert lines[-1].split() == ["20", str(n)]
    assert child.returncode == -signal.SIGKILL

    texts = [f"text {i}" for i in range(n)]
    embed = CountingEmbedder()
    with EmbeddingCache(path) as c:
        kept = c.count()
        vectors, stats = embed_with_cache(
            embed, texts, cache=c, fingerprint=FP, role="document", batch_size=4
        )

    assert 20 <= kept < n
    assert stats == CacheStats(hits=kept, misses=n - kept, embedded=n - kept)
    longest_first = sorted(texts, key=len, reverse=True)  # the order texts are embedded in
    assert embed.texts == longest_first[kept:]
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_cache_carried_across_fork_opens_its_own_connection_in_the_child(
    cache: EmbeddingCache,
) -> None:
    cache.put_many(FP, "query", ["parent"], fake_vectors(["parent"]))
    pid = os.fork()
    if pid == 0:  # the child: write through the inherited object, then leave at once
        code = 1
        try:
            cache.put_many(FP, "query", ["child"], fake_vectors(["child"]))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    _, found = cache.get_many(FP, "query", ["parent", "child"])
    assert found.all()


# -- files that cannot be used ----------------------------------------------------------------


def test_a_corrupt_file_gives_a_cache_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database, just some bytes " * 200)

    with pytest.raises(CacheError, match="not a readable embedgate cache") as info:
        EmbeddingCache(path)

    assert str(path) in str(info.value)
    assert "Delete the file" in str(info.value)


def test_a_damaged_vector_row_gives_a_cache_error(cache: EmbeddingCache, cache_path: Path) -> None:
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"]))
    with sqlite3.connect(cache_path) as raw:
        raw.execute("UPDATE vectors SET vector = x'00'")
    raw.close()

    with pytest.raises(CacheError, match="damaged") as info:
        cache.get_many(FP, "query", ["a"])

    assert str(cache_path) in str(info.value)


def test_another_applications_sqlite_database_is_not_taken_for_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE users (name TEXT)")
    raw.close()

    with pytest.raises(CacheError, match="no embedgate schema") as info:
        EmbeddingCache(path)

    assert str(path) in str(info.value)


def test_a_newer_schema_version_gives_a_cache_error_saying_to_upgrade(cache_path: Path) -> None:
    EmbeddingCache(cache_path).close()
    with sqlite3.connect(cache_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()

    with pytest.raises(CacheError, match=f"schema version {SCHEMA_VERSION + 1}.*Upgrade"):
        EmbeddingCache(cache_path)


def test_a_location_that_cannot_hold_a_file_gives_a_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")

    with pytest.raises(CacheError, match="writable folder") as info:
        EmbeddingCache(blocker / "embeddings.sqlite")

    assert str(blocker) in str(info.value)


def test_a_folder_given_as_the_cache_path_gives_a_cache_error(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="is a folder"):
        EmbeddingCache(tmp_path)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_a_read_only_folder_gives_a_cache_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(CacheError, match="writable") as info:
            EmbeddingCache(locked / "embeddings.sqlite")
    finally:
        locked.chmod(0o755)
    assert str(locked) in str(info.value)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_location_no_one_may_write_gives_a_cache_error() -> None:
    # /proc refuses new files even to root, who ignores permission bits.
    with pytest.raises(CacheError, match="writable folder") as info:
        EmbeddingCache("/proc/embedgate-test.sqlite")

    assert "/proc/embedgate-test.sqlite" in str(info.value)


def test_a_closed_cache_says_so(cache_path: Path) -> None:
    c = EmbeddingCache(cache_path)
    c.close()

    with pytest.raises(CacheError, match="closed"):
        c.get_many(FP, "query", ["a"])


# -- identities and bookkeeping ---------------------------------------------------------------

PLANTED = "sk-planted-FAKE-0123456789abcdef0123456789"


@pytest.mark.parametrize(
    ("identity", "place"),
    [
        pytest.param({"model": "m", "api_key": PLANTED}, "api_key", id="api_key"),
        pytest.param({"model": "m", "apiKey": PLANTED}, "apiKey", id="camelCase"),
        pytest.param({"headers": {"Authorization": PLANTED}}, "headers.Authorization", id="nested"),
        pytest.param({"x-goog-api-key": PLANTED}, "x-goog-api-key", id="header-name"),
        pytest.param({"opts": [{"token": PLANTED}]}, "opts[0].token", id="in-a-list"),
        pytest.param({"model": "m", "note": PLANTED}, "note", id="key-shaped-value"),
    ],
)
def test_an_identity_holding_a_credential_is_refused_and_never_reaches_the_file(
    cache: EmbeddingCache, cache_path: Path, identity: dict[str, Any], place: str
) -> None:
    with pytest.raises(CacheError, match="looks like a credential") as info:
        cache.put_many(FP, "query", ["a"], fake_vectors(["a"]), identity=identity)

    assert repr(place) in str(info.value)
    assert PLANTED not in str(info.value)
    cache.put_many(FP, "query", ["b"], fake_vectors(["b"]), identity={"model": "m"})
    assert PLANTED.encode() not in file_bytes(cache_path)
    assert cache.count() == 1


def test_an_identity_holding_an_environment_key_is_refused(
    cache: EmbeddingCache, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "plain-looking-1234567890-secret-value"
    monkeypatch.setenv("OPENAI_API_KEY", secret)

    with pytest.raises(CacheError, match=r"\$OPENAI_API_KEY") as info:
        cache.put_many(FP, "query", ["a"], fake_vectors(["a"]), identity={"base": secret})

    assert secret not in str(info.value)
    assert secret.encode() not in file_bytes(cache_path)


def test_identity_fields_that_only_mention_tokens_are_kept(cache: EmbeddingCache) -> None:
    identity = {"model": "m", "max_tokens": 512, "tokenizer": "wordpiece", "dimensions": DIMS}

    cache.put_many(FP, "query", ["a"], fake_vectors(["a"]), identity=identity)

    assert cache.models()[0].identity == identity


def test_an_identity_is_recorded_as_the_fingerprint_encodes_it(cache: EmbeddingCache) -> None:
    identity = {"model": "m", "folder": Path("/models/m"), "role": Role.QUERY}

    cache.put_many(FP, "query", ["a"], fake_vectors(["a"]), identity=identity)

    assert cache.models()[0].identity == {"model": "m", "folder": "/models/m", "role": "query"}


def test_using_a_cache_from_another_thread_says_to_open_one_per_thread(
    cache: EmbeddingCache,
) -> None:
    errors: list[BaseException] = []

    def look_up() -> None:
        try:
            cache.get_many(FP, "query", ["a"])
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=look_up)
    worker.start()
    worker.join()

    assert len(errors) == 1
    assert isinstance(errors[0], CacheError)
    assert "one EmbeddingCache per thread" in str(errors[0])


def test_models_lists_identity_dimensions_counts_and_times(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["q1", "q2"], fake_vectors(["q1", "q2"]))
    cache.put_many(FP, "document", ["d"], fake_vectors(["d"]), identity={"model": "first"})
    cache.put_many(FP, "document", ["e"], fake_vectors(["e"]), identity={"model": "second"})
    cache.put_many(OTHER_FP, "query", ["q"], fake_vectors(["q"], dims=4))

    listed = {m.fingerprint: m for m in cache.models()}

    mine = listed[FP]
    assert (mine.identity, mine.dimensions, mine.queries, mine.documents) == (
        {"model": "first"},
        DIMS,
        2,
        2,
    )
    assert mine.created_at <= mine.last_used_at
    assert mine.created_at.endswith("Z")
    assert listed[OTHER_FP].dimensions == 4
    assert listed[OTHER_FP].to_dict()["identity"] is None
    assert cache.dimensions(OTHER_FP) == 4
    assert cache.dimensions("c" * 64) is None
    assert (cache.count(), cache.count(FP), cache.count(role="query")) == (5, 4, 3)


def test_a_hit_updates_the_models_last_used_time(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"]))
    before = cache.models()[0].last_used_at
    time.sleep(0.01)

    with EmbeddingCache(cache.path) as other:
        other.get_many(FP, "query", ["a"])

    assert cache.models()[0].last_used_at > before


def test_prune_removes_a_fingerprint_and_its_vectors_only(cache: EmbeddingCache) -> None:
    cache.put_many(FP, "query", ["a", "b"], fake_vectors(["a", "b"]))
    cache.put_many(OTHER_FP, "query", ["a"], fake_vectors(["a"]))

    assert cache.prune(FP) == 2
    assert cache.prune(FP) == 0

    assert [m.fingerprint for m in cache.models()] == [OTHER_FP]
    assert cache.count() == 1
    # The fingerprint may come back with another dimension after a prune.
    cache.put_many(FP, "query", ["a"], fake_vectors(["a"], dims=3))
    assert cache.dimensions(FP) == 3


def test_the_file_records_its_schema_and_runs_in_wal_mode(
    cache: EmbeddingCache, cache_path: Path
) -> None:
    with sqlite3.connect(cache_path) as raw:
        version = raw.execute("PRAGMA user_version").fetchone()[0]
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    raw.close()

    assert (version, mode) == (SCHEMA_VERSION, "wal")
    assert repr(cache).endswith("open)")


def test_texts_are_embedded_longest_first_so_batches_hold_similar_lengths(
    cache: EmbeddingCache,
) -> None:
    texts = ["a", "ccc", "bb", "dddd", "e"]
    embed = CountingEmbedder()
    vectors, _ = embed_with_cache(
        embed, texts, cache=cache, fingerprint=FP, role="query", batch_size=2
    )
    assert embed.batches == [["dddd", "ccc"], ["bb", "a"], ["e"]]
    np.testing.assert_array_equal(vectors, fake_vectors(texts))


def test_a_plan_sets_the_batch_sizes_and_a_bad_plan_is_refused(cache: EmbeddingCache) -> None:
    texts = [f"t{i}" for i in range(6)]
    embed = CountingEmbedder()
    embed_with_cache(
        embed, texts, cache=cache, fingerprint=FP, role="query", plan=lambda todo: [1, 2, 3]
    )
    assert [len(b) for b in embed.batches] == [1, 2, 3]
    with pytest.raises(ValueError, match=r"plan\(\) returned batch sizes \[2, 2\] for 6 texts"):
        embed_with_cache(
            embed,
            [f"u{i}" for i in range(6)],
            cache=cache,
            fingerprint=FP,
            role="query",
            plan=lambda todo: [2, 2],
        )
