"""Speed and memory of exact dense search.

Three ways to get the exact top 100 of 1,000 queries over 200,000 documents of 384 dimensions,
in one pytest-benchmark group so the table shows them side by side:

- ``exact_search``: ours, blocked, threshold-filtered, trec_eval tie order, returns a `Run`;
- ``faiss.IndexFlatIP.search``: the usual reference for exact inner-product search;
- one full ``q @ d.T`` followed by ``np.argpartition``: what a few lines of numpy do, holding
  the whole 1,000 x 200,000 score matrix (and its int64 partition indices).

Run::

    python -m pytest benchmarks/library/test_search_speed.py -p no:randomly

The scale check (10,000 queries over 1,000,000 documents, whose full score matrix would take
40 GB) is marked ``slow`` and runs only with ``EMBEDGATE_RUN_SLOW=1`` (see this folder's
conftest); add ``-s`` to see its peak memory and time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from embedgate.retrieval.dense import exact_search

if TYPE_CHECKING:
    import numpy.typing as npt

N_QUERIES, N_DOCS, DIM, K = 1_000, 200_000, 384, 100
GROUP = f"exact top-{K}: {N_QUERIES:,} queries x {N_DOCS:,} docs x {DIM}"
ROUNDS = 5


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> npt.NDArray[np.float32]:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


@pytest.fixture(scope="module")
def vectors() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    rng = np.random.default_rng(20240601)
    return unit_rows(rng, N_QUERIES, DIM), unit_rows(rng, N_DOCS, DIM)


@pytest.fixture(scope="module")
def ids() -> tuple[list[str], list[str]]:
    return [f"q{i}" for i in range(N_QUERIES)], [f"d{i}" for i in range(N_DOCS)]


def full_matrix_top_k(
    q: npt.NDArray[np.float32], d: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    scores = q @ d.T
    top = np.argpartition(scores, -k, axis=1)[:, -k:]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)


def test_blocked_exact_search(benchmark: Any, vectors: Any, ids: Any) -> None:
    q, d = vectors
    query_ids, doc_ids = ids
    benchmark.group = GROUP

    run = benchmark.pedantic(
        exact_search,
        args=(q, d),
        kwargs={"query_ids": query_ids, "doc_ids": doc_ids, "k": K},
        rounds=ROUNDS,
        warmup_rounds=1,
    )

    assert run.indices.shape == (N_QUERIES, K)
    assert (np.diff(run.scores, axis=1) <= 0).all()


def test_faiss_index_flat_ip(benchmark: Any, vectors: Any, ids: Any) -> None:
    faiss = pytest.importorskip("faiss")
    q, d = vectors
    index = faiss.IndexFlatIP(DIM)
    index.add(d)
    benchmark.group = GROUP

    scores, found = benchmark.pedantic(index.search, args=(q, K), rounds=ROUNDS, warmup_rounds=1)

    # The same neighbours as ours, up to float32 rounding of near-equal scores.
    ours = exact_search(q[:20], d, query_ids=ids[0][:20], doc_ids=ids[1], k=K)
    np.testing.assert_allclose(ours.scores, scores[:20], rtol=0, atol=1e-5)
    assert np.mean(ours.indices == found[:20]) > 0.99


def test_full_matrix_numpy(benchmark: Any, vectors: Any) -> None:
    q, d = vectors
    benchmark.group = GROUP

    found, _ = benchmark.pedantic(full_matrix_top_k, args=(q, d, K), rounds=ROUNDS, warmup_rounds=1)

    assert found.shape == (N_QUERIES, K)


# --- scale: bounded memory --------------------------------------------------------------

SCALE_QUERIES, SCALE_DOCS = 10_000, 1_000_000

_SCALE_SCRIPT = """
import json, resource, sys, time, tracemalloc
import numpy as np
from embedgate.retrieval.dense import exact_search

n_q, n_d, dim, k = (int(a) for a in sys.argv[1:5])

def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()

def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

def unit_rows(rng, n):
    x = np.empty((n, dim), dtype=np.float32)
    for a in range(0, n, 65536):  # in chunks, so making the data adds no temporaries
        block = x[a : a + 65536]
        rng.standard_normal(out=block, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return x

rng = np.random.default_rng(7)
docs = unit_rows(rng, n_d)
queries = unit_rows(rng, n_q)
doc_ids = [f"d{i}" for i in range(n_d)]
query_ids = [f"q{i}" for i in range(n_q)]
rss_before = rss_bytes()
peak_before = peak_rss_bytes()

tracemalloc.start()
start = time.perf_counter()
run = exact_search(queries, docs, query_ids=query_ids, doc_ids=doc_ids, k=k)
seconds = time.perf_counter() - start
traced_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()

print(json.dumps({
    "seconds": seconds,
    "inputs_bytes": docs.nbytes + queries.nbytes,
    "rss_before": rss_before,
    "peak_rss_before": peak_before,
    "peak_rss_after": peak_rss_bytes(),
    "traced_peak": traced_peak,
    "run_bytes": run.indices.nbytes + run.scores.nbytes,
    "shape": list(run.indices.shape),
}))
"""


@pytest.mark.slow  # 10,000 x 1,000,000 x 384: minutes and ~2 GB; EMBEDGATE_RUN_SLOW=1
def test_search_of_a_million_documents_never_holds_the_score_matrix() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _SCALE_SCRIPT, str(SCALE_QUERIES), str(SCALE_DOCS), str(DIM), "100"],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    m = json.loads(proc.stdout)
    full_matrix = SCALE_QUERIES * SCALE_DOCS * 4
    extra_rss = m["peak_rss_after"] - max(m["rss_before"], m["peak_rss_before"])
    gib = 2**30
    print(
        f"\n{SCALE_QUERIES:,} queries x {SCALE_DOCS:,} docs x {DIM}, k=100: "
        f"{m['seconds']:.1f} s; inputs {m['inputs_bytes'] / gib:.2f} GiB; "
        f"peak RSS {m['peak_rss_after'] / gib:.2f} GiB "
        f"(+{max(extra_rss, 0) / 2**20:.0f} MiB during the search); "
        f"numpy peak during the search {m['traced_peak'] / 2**20:.0f} MiB "
        f"(output {m['run_bytes'] / 2**20:.0f} MiB); "
        f"the full score matrix would be {full_matrix / 1e9:.0f} GB"
    )

    assert m["shape"] == [SCALE_QUERIES, 100]
    assert m["traced_peak"] < 1 * gib
    assert extra_rss < 1 * gib
    assert m["peak_rss_after"] < m["inputs_bytes"] + 2 * gib < full_matrix / 10
