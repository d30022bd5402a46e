"""Exact dense search: equal to a full-matrix reference, ties as trec_eval, bounded blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedgate.retrieval.dense import exact_search, normalize, plan_blocks
from embedgate.retrieval.run import trec_order

if TYPE_CHECKING:
    from pathlib import Path


def reference_search(
    q: npt.NDArray[np.float32], d: npt.NDArray[np.float32], doc_ids: list[str], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The whole score matrix at once, each row sorted by `trec_order`, cut at k."""
    full = q @ d.T
    order = np.array([trec_order(doc_ids, row)[:k] for row in full], dtype=np.int64)
    order = order.reshape(len(q), min(k, len(doc_ids)))
    return order, np.take_along_axis(full, order, axis=1).astype(np.float64)


def small_int_vectors(
    rng: np.random.Generator, n: int, dim: int, levels: int = 2
) -> npt.NDArray[np.float32]:
    # Small integers multiply and add exactly in float32, so every blocking of the product
    # gives bit-identical scores, and with few levels a great many of them tie.
    return rng.integers(-levels, levels + 1, size=(n, dim)).astype(np.float32)


def shuffled_ids(rng: np.random.Generator, n: int) -> list[str]:
    # Ids of different lengths ("d9" vs "d10") so string order differs from numeric order.
    return [f"d{i}" for i in rng.permutation(n)]


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_queries=st.integers(1, 12),
    n_docs=st.integers(1, 150),
    dim=st.integers(1, 5),
    k=st.integers(1, 160),
    query_rows=st.integers(1, 9),
    doc_rows=st.integers(1, 70),
)
def test_exact_search_equals_full_matrix_reference_with_heavy_ties(
    seed: int, n_queries: int, n_docs: int, dim: int, k: int, query_rows: int, doc_rows: int
) -> None:
    rng = np.random.default_rng(seed)
    q = small_int_vectors(rng, n_queries, dim)
    d = small_int_vectors(rng, n_docs, dim)
    doc_ids = shuffled_ids(rng, n_docs)

    run = exact_search(
        q,
        d,
        query_ids=[f"q{i}" for i in range(n_queries)],
        doc_ids=doc_ids,
        k=k,
        block_size=(query_rows, doc_rows),
    )

    want_idx, want_scores = reference_search(q, d, doc_ids, k)
    np.testing.assert_array_equal(run.indices, want_idx)
    np.testing.assert_array_equal(run.scores, want_scores)


@pytest.mark.parametrize("block_size", [None, (1, 1), (3, 7), (64, 256), (500, 5000)])
def test_exact_search_equals_reference_on_normalized_gaussian_vectors(
    block_size: tuple[int, int] | None,
) -> None:
    rng = np.random.default_rng(7)
    q = normalize(rng.standard_normal((40, 32)))
    d = normalize(rng.standard_normal((3000, 32)))
    doc_ids = shuffled_ids(rng, 3000)

    qids = [f"q{i}" for i in range(40)]
    run = exact_search(q, d, query_ids=qids, doc_ids=doc_ids, k=25, block_size=block_size)

    want_idx, want_scores = reference_search(q, d, doc_ids, 25)
    np.testing.assert_array_equal(run.indices, want_idx)
    # Different blockings may round the last bit of a float32 product differently.
    np.testing.assert_allclose(run.scores, want_scores, rtol=0, atol=1e-6)


def test_documents_tied_at_the_kth_place_are_kept_by_larger_doc_id() -> None:
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    d = np.array([[1.0, 0.0]] * 5, dtype=np.float32)
    ids = ["b", "e", "a", "d", "c"]

    for block_size in [None, (1, 1), (1, 2)]:
        run = exact_search(q, d, query_ids=["q"], doc_ids=ids, k=2, block_size=block_size)
        assert [doc for doc, _ in run.ranked(0)] == ["e", "d"]


def test_tied_ids_compare_as_strings_not_numbers() -> None:
    q = np.array([[1.0]], dtype=np.float32)
    d = np.array([[1.0], [1.0], [2.0]], dtype=np.float32)

    run = exact_search(q, d, query_ids=["q"], doc_ids=["10", "9", "1"], k=3)

    assert run.ranked(0) == [("1", 2.0), ("9", 1.0), ("10", 1.0)]


def test_k_larger_than_the_corpus_returns_every_document_once() -> None:
    rng = np.random.default_rng(3)
    q = small_int_vectors(rng, 4, 3)
    d = small_int_vectors(rng, 6, 3)
    ids = shuffled_ids(rng, 6)

    run = exact_search(q, d, query_ids=list("abcd"), doc_ids=ids, k=50)

    assert run.depth == 6
    assert all(sorted(run.indices[r].tolist()) == list(range(6)) for r in range(4))
    np.testing.assert_array_equal(run.indices, reference_search(q, d, ids, 50)[0])


def test_scores_are_the_float32_products_widened_to_float64() -> None:
    rng = np.random.default_rng(11)
    q = normalize(rng.standard_normal((3, 16)))
    d = normalize(rng.standard_normal((50, 16)))

    run = exact_search(q, d, query_ids=["a", "b", "c"], doc_ids=[str(i) for i in range(50)], k=5)

    assert run.scores.dtype == np.float64
    assert np.array_equal(run.scores, run.scores.astype(np.float32).astype(np.float64))
    want = np.take_along_axis(q @ d.T, run.indices, axis=1)
    np.testing.assert_allclose(run.scores, want, rtol=0, atol=1e-6)


def test_scores_rising_through_the_corpus_force_many_merges_and_stay_exact() -> None:
    # Every new block beats the running top k: the threshold never filters, the candidate
    # buffer overflows and grows. The worst case for the running top-k.
    n = 2000
    q = np.ones((2, 1), dtype=np.float32)
    d = (np.arange(n, dtype=np.float32) // 3)[:, None]  # rising, in runs of three ties
    ids = [f"doc{i:05d}" for i in range(n)][::-1]

    run = exact_search(q, d, query_ids=["a", "b"], doc_ids=ids, k=10, block_size=(2, 7))

    np.testing.assert_array_equal(run.indices, reference_search(q, d, ids, 10)[0])


def test_exact_search_reads_a_memmap_in_blocks(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    d = normalize(rng.standard_normal((500, 8)))
    np.save(tmp_path / "docs.npy", d)
    docs = np.load(tmp_path / "docs.npy", mmap_mode="r")
    q = normalize(rng.standard_normal((3, 8)))
    ids = [str(i) for i in range(500)]

    run = exact_search(q, docs, query_ids=["a", "b", "c"], doc_ids=ids, k=7, block_size=(2, 64))

    np.testing.assert_array_equal(run.indices, reference_search(q, d, ids, 7)[0])


def test_exact_search_does_not_modify_its_inputs() -> None:
    rng = np.random.default_rng(2)
    q = normalize(rng.standard_normal((5, 4)))
    d = normalize(rng.standard_normal((30, 4)))
    q_copy, d_copy = q.copy(), d.copy()

    exact_search(q, d, query_ids=list("abcde"), doc_ids=[str(i) for i in range(30)], k=4)

    np.testing.assert_array_equal(q, q_copy)
    np.testing.assert_array_equal(d, d_copy)
    assert q.flags.writeable
    assert d.flags.writeable


def test_no_queries_give_an_empty_run_of_the_right_depth() -> None:
    d = np.eye(3, dtype=np.float32)

    run = exact_search(np.empty((0, 3), np.float32), d, query_ids=[], doc_ids=list("abc"), k=2)

    assert run.indices.shape == (0, 2)
    assert run.query_ids == ()


def test_run_carries_the_ids_and_the_name() -> None:
    d = np.eye(2, dtype=np.float32)

    run = exact_search(d, d, query_ids=["q1", "q2"], doc_ids=["x", "y"], k=1, name="minilm")

    assert run.name == "minilm"
    assert run.query_ids == ("q1", "q2")
    assert run.to_dict() == {"q1": {"x": 1.0}, "q2": {"y": 1.0}}


# --- errors ------------------------------------------------------------------------------

Q = np.zeros((2, 3), dtype=np.float32)
D = np.zeros((4, 3), dtype=np.float32)
QIDS = ["q1", "q2"]
DIDS = ["a", "b", "c", "d"]


def test_different_dimensions_name_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\).*different dimensions"):
        exact_search(Q, np.zeros((4, 5), np.float32), query_ids=QIDS, doc_ids=DIDS, k=1)


def test_one_dimensional_queries_are_rejected_with_their_shape() -> None:
    with pytest.raises(ValueError, match=r"query_vectors must be 2-d.*\(3,\)"):
        exact_search(np.zeros(3, np.float32), D, query_ids=["q"], doc_ids=DIDS, k=1)


def test_float64_vectors_are_rejected_with_a_pointer_to_normalize() -> None:
    with pytest.raises(ValueError, match=r"doc_vectors \(4, 3\) has dtype float64.*normalize"):
        exact_search(Q, D.astype(np.float64), query_ids=QIDS, doc_ids=DIDS, k=1)


def test_lists_are_rejected_as_vectors() -> None:
    with pytest.raises(ValueError, match="query_vectors must be a numpy float32 array"):
        exact_search([[0.0, 0.0, 0.0]], D, query_ids=["q"], doc_ids=DIDS, k=1)  # type: ignore[arg-type]


def test_id_count_must_match_the_rows() -> None:
    with pytest.raises(ValueError, match=r"3 doc_ids for doc_vectors \(4, 3\)"):
        exact_search(Q, D, query_ids=QIDS, doc_ids=DIDS[:3], k=1)
    with pytest.raises(ValueError, match=r"1 query_ids for query_vectors \(2, 3\)"):
        exact_search(Q, D, query_ids=["q1"], doc_ids=DIDS, k=1)


def test_repeated_doc_ids_are_named() -> None:
    with pytest.raises(ValueError, match="doc_ids repeats 'b'"):
        exact_search(Q, D, query_ids=QIDS, doc_ids=["a", "b", "c", "b"], k=1)


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "10"])
def test_k_must_be_a_positive_integer(k: object) -> None:
    with pytest.raises(ValueError, match="k must be a positive integer"):
        exact_search(Q, D, query_ids=QIDS, doc_ids=DIDS, k=k)  # type: ignore[arg-type]


def test_numpy_integer_k_is_accepted() -> None:
    run = exact_search(Q, D, query_ids=QIDS, doc_ids=DIDS, k=np.int64(2))  # type: ignore[arg-type]
    assert run.depth == 2


@pytest.mark.parametrize("block_size", [(0, 5), (5, -1), (1,), (1.5, 2)])
def test_block_size_must_be_two_positive_integers(block_size: object) -> None:
    with pytest.raises(ValueError, match="block_size"):
        exact_search(Q, D, query_ids=QIDS, doc_ids=DIDS, k=1, block_size=block_size)  # type: ignore[arg-type]


def test_an_empty_corpus_is_an_error() -> None:
    with pytest.raises(ValueError, match="holds no documents"):
        exact_search(Q, np.zeros((0, 3), np.float32), query_ids=QIDS, doc_ids=[], k=1)


def test_nan_in_documents_names_the_block() -> None:
    d = D.copy()
    d[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"doc_vectors rows 0\.\.3 hold NaN or infinity"):
        exact_search(Q, d, query_ids=QIDS, doc_ids=DIDS, k=1)


def test_infinity_in_queries_is_an_error() -> None:
    q = Q.copy()
    q[0, 0] = np.inf
    with pytest.raises(ValueError, match="query_vectors holds NaN or infinity"):
        exact_search(q, D, query_ids=QIDS, doc_ids=DIDS, k=1)


# --- normalize and block planning ----------------------------------------------------------


def test_normalize_gives_unit_rows_and_keeps_zero_rows_zero() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]])

    out = normalize(x)

    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]], rtol=1e-7)
    np.testing.assert_array_equal(x, [[3.0, 4.0], [0.0, 0.0], [1e-30, 0.0]])


def test_normalize_returns_a_new_array_even_for_float32_input() -> None:
    x = np.array([[2.0, 0.0]], dtype=np.float32)

    out = normalize(x)

    assert out is not x
    np.testing.assert_array_equal(x, [[2.0, 0.0]])


def test_normalize_accepts_a_single_vector() -> None:
    np.testing.assert_allclose(normalize([0.0, 5.0]), [0.0, 1.0])


def test_normalize_rejects_non_finite_rows_by_number() -> None:
    with pytest.raises(ValueError, match="row 1 holds NaN"):
        normalize([[1.0, 0.0], [np.nan, 0.0]])


def test_normalize_rejects_three_dimensional_input() -> None:
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        normalize(np.zeros((2, 2, 2)))


def test_default_blocks_hold_a_small_working_set_at_a_large_scale() -> None:
    bq, bd = plan_blocks(10_000, 1_000_000, 384, 100)

    assert (bq, bd) == (1024, 4096)
    assert bq * bd * 4 < 10_000 * 1_000_000 * 4 / 1000


@pytest.mark.parametrize("budget", [2**20, 16 * 2**20, 2**30])
def test_planned_blocks_fit_the_memory_budget(budget: int) -> None:
    bq, bd = plan_blocks(10_000, 1_000_000, 384, 100, memory_budget=budget)

    assert bq * bd * 64 + bq * (100 * 12 + 384 * 4) <= budget


def test_blocks_never_exceed_the_matrices() -> None:
    assert plan_blocks(3, 5, 8, 10) == (3, 5)
