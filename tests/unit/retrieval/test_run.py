"""The `Run` type: trec_eval order, dict and TREC-file round trips."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from embedgate.errors import DatasetError
from embedgate.retrieval.run import Run, trec_order

if TYPE_CHECKING:
    from pathlib import Path

RESULTS = {
    "q1": {"d3": 0.5, "d1": 0.9, "d2": 0.5, "d10": 0.5},
    "q2": {"d2": 1.0},
    "q3": {},
}


def test_trec_order_sorts_by_score_then_doc_id_descending() -> None:
    assert trec_order(["a", "b", "c"], [0.5, 0.9, 0.5]).tolist() == [1, 2, 0]


def test_trec_order_compares_ids_as_strings() -> None:
    ids = ["10", "9", "100"]
    assert [ids[i] for i in trec_order(ids, [1.0, 1.0, 1.0])] == ["9", "100", "10"]


def test_trec_order_of_nothing_is_empty() -> None:
    assert trec_order([], []).tolist() == []


def test_from_dict_ranks_rows_in_trec_eval_order_and_pads_short_rows() -> None:
    run = Run.from_dict(RESULTS, name="tag")

    assert run.query_ids == ("q1", "q2", "q3")
    assert run.depth == 4
    assert run.ranked(0) == [("d1", 0.9), ("d3", 0.5), ("d2", 0.5), ("d10", 0.5)]
    assert run.ranked(1) == [("d2", 1.0)]
    assert run.ranked(2) == []
    assert run.indices[1].tolist()[1:] == [-1, -1, -1]
    assert np.isneginf(run.scores[1, 1:]).all()
    assert run.name == "tag"


def test_to_dict_inverts_from_dict() -> None:
    assert Run.from_dict(RESULTS).to_dict() == RESULTS


def test_from_an_empty_dict_is_an_empty_run() -> None:
    run = Run.from_dict({})

    assert run.indices.shape == (0, 0)
    assert run.to_dict() == {}


def test_trec_file_round_trip_keeps_ranks_scores_ties_and_tag(tmp_path: Path) -> None:
    scores = {"q1": {"a": 1 / 3, "b": 0.1 + 0.2, "c": 1 / 3, "d": 5e-300}, "q2": {"z": -2.5}}
    run = Run.from_dict(scores, name="minilm")

    path = run.write_trec(tmp_path / "sub" / "minilm.trec")
    back = Run.read_trec(path)

    assert back.to_dict() == scores  # every float64 exactly
    assert back.name == "minilm"
    for row in range(2):
        assert back.ranked(row) == run.ranked(row)


def test_trec_file_lines_carry_ranks_from_one_in_trec_eval_order(tmp_path: Path) -> None:
    path = Run.from_dict(RESULTS, name="tag").write_trec(tmp_path / "run.trec")

    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]

    assert [(q, d, r) for q, _, d, r, _, _ in lines] == [
        ("q1", "d1", "1"),
        ("q1", "d3", "2"),
        ("q1", "d2", "3"),
        ("q1", "d10", "4"),
        ("q2", "d2", "1"),
    ]
    assert {line[1] for line in lines} == {"Q0"}
    assert {line[5] for line in lines} == {"tag"}


def test_read_trec_ignores_the_rank_column_as_trec_eval_does(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text(
        "q1 Q0 low 1 0.1 t\n\nq1 Q0 high 2 0.9 t\nq1 Q0 tie_a 3 0.5 t\nq1 Q0 tie_b 4 0.5 t\n",
        encoding="utf-8",
    )

    run = Run.read_trec(path)

    assert [d for d, _ in run.ranked(0)] == ["high", "tie_b", "tie_a", "low"]


def test_a_trec_line_with_missing_columns_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4\n", encoding="utf-8")

    with pytest.raises(
        DatasetError, match=r"run\.trec line 2: expected 6 columns.*found 5"
    ) as info:
        Run.read_trec(path)

    assert info.value.path == path
    assert info.value.line == 2


def test_a_trec_line_with_a_bad_score_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("q1 Q0 d1 1 0.5 t\n\nq1 Q0 d2 2 high t\n", encoding="utf-8")

    with pytest.raises(DatasetError, match=r"run\.trec line 3: score 'high' is not a number"):
        Run.read_trec(path)


def test_a_document_listed_twice_for_one_query_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("q1 Q0 d1 1 0.9 x\nq1 Q0 d2 2 0.5 x\nq1 Q0 d1 3 0.1 x\n")
    with pytest.raises(DatasetError, match=r"line 3: doc 'd1' appears twice for query 'q1'"):
        Run.read_trec(path)


def test_ids_with_whitespace_cannot_be_written_to_a_trec_file(tmp_path: Path) -> None:
    run = Run.from_dict({"q 1": {"d1": 1.0}})
    with pytest.raises(ValueError, match=r"query id 'q 1' contains whitespace"):
        run.write_trec(tmp_path / "run.trec")


def test_a_run_is_read_only() -> None:
    run = Run.from_dict(RESULTS)

    with pytest.raises(ValueError, match="read-only"):
        run.scores[0, 0] = 2.0
    with pytest.raises(AttributeError):
        run.name = "other"  # type: ignore[misc]


def test_mismatched_index_and_score_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"indices \(1, 2\) and scores \(1, 3\)"):
        Run(("q",), ("a",), np.zeros((1, 2), np.int64), np.zeros((1, 3)))


def test_row_count_must_match_the_query_ids() -> None:
    with pytest.raises(ValueError, match="2 rows for 1 query ids"):
        Run(("q",), ("a",), np.zeros((2, 1), np.int64), np.zeros((2, 1)))


def test_trec_order_agrees_with_pytrec_eval_on_tied_scores() -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    ids = ["d1", "d10", "d2", "d9", "x"]
    qrels = {f"q_{rel}": {rel: 1} for rel in ids}
    results = {f"q_{rel}": dict.fromkeys(ids, 0.5) for rel in ids}

    measured = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(results)

    # With every score tied, the reciprocal rank of the one relevant doc reveals its rank.
    first = [ids[i] for i in trec_order(ids, [0.5] * 5)]
    for rel in ids:
        assert measured[f"q_{rel}"]["recip_rank"] == pytest.approx(1 / (first.index(rel) + 1))
