"""Hand-worked examples for embedgate.metrics: each number below is worked out in the test."""

from __future__ import annotations

import copy
import doctest
from math import log2

import numpy as np
import pytest

import embedgate.metrics
from embedgate.errors import MetricError
from embedgate.metrics import (
    CompiledQrels,
    MetricSpec,
    evaluate,
    metric_key,
    metric_label,
    parse_metric,
    relevance_matrix,
    supported_metrics,
)
from embedgate.retrieval.run import Run

# q1 ranks d1..d5 with grades [3, 0, 2, -1, 1]; d6 (grade 1) is relevant but not retrieved,
# so q1 has 4 relevant documents (d1, d3, d5, d6) and positive grades [3, 2, 1, 1].
# q2 finds its only relevant document at rank 3. q3 has only a grade-0 judgement. q4 is
# judged but absent from the run. q5 is in the run but not judged.
RUN = Run.from_dict(
    {
        "q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7, "d4": 0.6, "d5": 0.5},
        "q2": {"e1": 0.9, "e2": 0.8, "e3": 0.7},
        "q3": {"d1": 0.4, "d3": 0.2},
        "q5": {"d1": 1.0},
    }
)
QRELS = {
    "q1": {"d1": 3, "d2": 0, "d3": 2, "d4": -1, "d5": 1, "d6": 1},
    "q2": {"e3": 1},
    "q3": {"d3": 0},
    "q4": {"d1": 2},
}


def scores(metric: str, run: Run = RUN, qrels: dict[str, dict[str, int]] = QRELS) -> list[float]:
    values: list[float] = evaluate(run, qrels, [metric])[parse_metric(metric).key].tolist()
    return values


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "k", "label"),
    [
        ("ndcg@10", "ndcg", 10, "nDCG@10"),
        ("NDCG@10", "ndcg", 10, "nDCG@10"),
        ("  Recall@100 ", "recall", 100, "Recall@100"),
        ("mrr@10", "mrr", 10, "MRR@10"),
        ("mrr", "mrr", None, "MRR"),
        ("recip_rank", "mrr", None, "MRR"),
        ("map@100", "map", 100, "MAP@100"),
        ("MAP", "map", None, "MAP"),
        ("P@5", "p", 5, "P@5"),
        ("precision@5", "p", 5, "P@5"),
        ("success@1", "success", 1, "Success@1"),
        ("ndcg", "ndcg", None, "nDCG"),
        ("ndcg@010", "ndcg", 10, "nDCG@10"),
    ],
)
def test_parse_metric_reads_names_case_insensitively(
    text: str, name: str, k: int | None, label: str
) -> None:
    spec = parse_metric(text)
    assert (spec.name, spec.k, spec.label) == (name, k, label)
    assert spec.greater_is_better is True


def test_parsed_key_parses_back_to_the_same_spec() -> None:
    for text in ["NDCG@10", "precision@3", "recip_rank", "map", "Success@7"]:
        spec = parse_metric(text)
        assert parse_metric(spec.key) == spec
        assert str(spec) == spec.label


def test_unknown_metric_lists_every_supported_name_from_the_registry() -> None:
    with pytest.raises(MetricError, match="unknown metric 'bleu@4'") as info:
        parse_metric("bleu@4")
    for form in supported_metrics():
        assert form in str(info.value)


@pytest.mark.parametrize("text", ["ndcg@0", "ndcg@x", "ndcg@", "ndcg@-1", "ndcg@1.5", "ndcg@10@2"])
def test_malformed_cutoff_is_refused_with_the_value_at_fault(text: str) -> None:
    with pytest.raises(MetricError, match="positive integer"):
        parse_metric(text)


@pytest.mark.parametrize("text", ["recall", "p", "success", "precision"])
def test_metric_that_needs_a_cutoff_says_how_to_write_one(text: str) -> None:
    with pytest.raises(MetricError, match="needs a cutoff"):
        parse_metric(text)


@pytest.mark.parametrize("text", ["", "   ", "@10", "ndcg 10", "n-dcg@10"])
def test_empty_or_garbled_name_is_an_unknown_metric(text: str) -> None:
    with pytest.raises(MetricError, match="unknown metric"):
        parse_metric(text)


def test_non_string_metric_name_is_a_metric_error() -> None:
    with pytest.raises(MetricError, match="must be a string"):
        parse_metric(10)  # type: ignore[arg-type]


def test_metric_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        parse_metric("ndgc@10")


@pytest.mark.parametrize(("name", "k"), [("ndcg", 0), ("ndcg", -3), ("ndcg", True), ("map", 2.0)])
def test_spec_built_directly_validates_its_cutoff(name: str, k: object) -> None:
    with pytest.raises(MetricError, match="positive integer"):
        MetricSpec(name, k)  # type: ignore[arg-type]


def test_spec_built_directly_gets_its_label_and_equals_the_parsed_one() -> None:
    assert MetricSpec("ndcg", 10) == parse_metric("nDCG@10")
    assert MetricSpec("map").label == "MAP"
    assert len({MetricSpec("p", 3), parse_metric("P@3")}) == 1


def test_spec_knows_the_trec_eval_measure_it_equals() -> None:
    expected = {
        "ndcg@10": "ndcg_cut_10",
        "ndcg": "ndcg",
        "recall@100": "recall_100",
        "p@5": "P_5",
        "success@3": "success_3",
        "map@100": "map_cut_100",
        "map": "map",
        "mrr@10": "recip_rank",
        "mrr": "recip_rank",
    }
    assert {text: parse_metric(text).trec_eval_measure for text in expected} == expected


def test_supported_metrics_are_sorted_and_complete() -> None:
    assert supported_metrics() == (
        "map",
        "map@k",
        "mrr",
        "mrr@k",
        "ndcg",
        "ndcg@k",
        "p@k",
        "recall@k",
        "success@k",
    )


# --- the metrics, worked by hand -------------------------------------------------------------

IDEAL_Q1 = [3, 2, 1, 1]


def dcg(gains: list[int]) -> float:
    return sum(g / log2(rank + 1) for rank, g in enumerate(gains, start=1))


def test_ndcg_uses_grade_as_gain_and_the_ideal_ranking_of_all_judged_documents() -> None:
    # Ranked grades [3, 0, 2, -1, 1]: the negative grade adds no gain; the ideal holds d6 too.
    expected_q1 = dcg([3, 0, 2, 0, 1]) / dcg(IDEAL_Q1)
    expected_q2 = (1 / log2(4)) / 1.0
    assert scores("ndcg@5") == pytest.approx([expected_q1, expected_q2, 0.0, 0.0], abs=1e-12)


def test_ndcg_cuts_the_ideal_ranking_at_k() -> None:
    expected_q1 = dcg([3, 0, 2]) / dcg([3, 2, 1])
    assert scores("ndcg@3")[0] == pytest.approx(expected_q1, abs=1e-12)


def test_ndcg_beyond_the_run_depth_keeps_k_ideal_ranks() -> None:
    # Five ranks retrieved, four positive judgements: nDCG@10 = nDCG@5 and the ideal is whole.
    assert scores("ndcg@10")[0] == pytest.approx(dcg([3, 0, 2, 0, 1]) / dcg(IDEAL_Q1), abs=1e-12)


def test_uncut_ndcg_uses_every_positive_judgement_in_the_ideal() -> None:
    assert scores("ndcg")[0] == pytest.approx(dcg([3, 0, 2, 0, 1]) / dcg(IDEAL_Q1), abs=1e-12)


def test_recall_divides_by_every_relevant_document_in_the_qrels() -> None:
    assert scores("recall@3") == pytest.approx([2 / 4, 1.0, 0.0, 0.0])
    assert scores("recall@2") == pytest.approx([1 / 4, 0.0, 0.0, 0.0])
    assert scores("recall@5") == pytest.approx([3 / 4, 1.0, 0.0, 0.0])


def test_precision_divides_by_k_even_when_fewer_are_retrieved() -> None:
    assert scores("p@3") == pytest.approx([2 / 3, 1 / 3, 0.0, 0.0])
    assert scores("p@10") == pytest.approx([3 / 10, 1 / 10, 0.0, 0.0])


def test_reciprocal_rank_is_one_over_the_first_relevant_rank_within_k() -> None:
    assert scores("mrr@10") == pytest.approx([1.0, 1 / 3, 0.0, 0.0])
    assert scores("mrr") == pytest.approx([1.0, 1 / 3, 0.0, 0.0])


def test_reciprocal_rank_is_zero_when_the_first_relevant_is_below_k() -> None:
    assert scores("mrr@2") == pytest.approx([1.0, 0.0, 0.0, 0.0])


def test_average_precision_divides_by_every_relevant_document() -> None:
    # Relevant at ranks 1, 3 and 5 of q1; d6 is never retrieved but still counts.
    assert scores("map") == pytest.approx([(1 / 1 + 2 / 3 + 3 / 5) / 4, (1 / 3) / 1, 0.0, 0.0])
    assert scores("map@3") == pytest.approx([(1 / 1 + 2 / 3) / 4, (1 / 3) / 1, 0.0, 0.0])
    assert scores("map@1") == pytest.approx([1 / 4, 0.0, 0.0, 0.0])


def test_success_is_one_when_any_relevant_document_is_in_the_top_k() -> None:
    assert scores("success@2") == [1.0, 0.0, 0.0, 0.0]
    assert scores("success@3") == [1.0, 1.0, 0.0, 0.0]


def test_negative_and_zero_grades_are_not_relevant_and_add_no_gain() -> None:
    run = Run.from_dict({"q": {"neg": 3.0, "zero": 2.0, "rel": 1.0}})
    qrels = {"q": {"neg": -2, "zero": 0, "rel": 1}}
    result = evaluate(run, qrels, ["p@1", "mrr@10", "ndcg@3", "map", "recall@2"])
    assert {key: value.tolist() for key, value in result.items()} == {
        "p@1": [0.0],
        "mrr@10": [pytest.approx(1 / 3)],
        "ndcg@3": [pytest.approx(0.5)],  # (1 / log2 4) / 1
        "map": [pytest.approx(1 / 3)],
        "recall@2": [0.0],
    }


def test_relevant_documents_are_counted_whether_retrieved_or_not() -> None:
    matrix = relevance_matrix(Run.from_dict({"q": {"a": 1.0}}), {"q": {"a": 2, "b": 1, "c": 0}})
    assert matrix.num_relevant.tolist() == [2]
    assert matrix.grades.tolist() == [[2]]


@pytest.mark.parametrize("grade", [0.5, float("nan"), float("inf"), 2**40])
def test_a_grade_that_is_not_a_32_bit_integer_is_refused(grade: float) -> None:
    with pytest.raises(ValueError, match="of query 'q', doc 'b' is not an integer"):
        evaluate(RUN, {"p": {"a": 1}, "q": {"a": 1, "b": grade}}, ["map"])  # type: ignore[dict-item]


def test_query_without_relevant_documents_scores_zero_on_every_metric() -> None:
    result = evaluate(RUN, QRELS, supported_metrics_at(3))
    assert all(values[2] == 0.0 for values in result.values())


def test_judged_query_missing_from_the_run_scores_zero_on_every_metric() -> None:
    result = evaluate(RUN, QRELS, supported_metrics_at(3))
    assert all(values[3] == 0.0 for values in result.values())


def supported_metrics_at(k: int) -> list[str]:
    return [form.replace("@k", f"@{k}") for form in supported_metrics()]


def test_default_queries_are_the_judged_ones_in_qrels_order() -> None:
    matrix = relevance_matrix(RUN, QRELS)
    assert matrix.query_ids == ("q1", "q2", "q3", "q4")


def test_query_ids_choose_the_order_and_an_unjudged_query_scores_zero() -> None:
    result = evaluate(RUN, QRELS, ["mrr@10"], query_ids=["q5", "q2", "q1"])
    assert result["mrr@10"].tolist() == pytest.approx([0.0, 1 / 3, 1.0])


def test_tied_scores_rank_the_higher_doc_id_first_as_trec_eval_does() -> None:
    run = Run.from_dict({"q": {"a": 0.5, "c": 0.5, "b": 0.5}})
    assert [doc for doc, _ in run.ranked(0)] == ["c", "b", "a"]
    assert evaluate(run, {"q": {"a": 1}}, ["mrr"])["mrr"].tolist() == pytest.approx([1 / 3])


def test_padding_cells_of_short_rows_are_not_relevant() -> None:
    run = Run.from_dict({"long": {"x": 3.0, "y": 2.0, "z": 1.0}, "short": {"y": 1.0}})
    assert run.indices[1].tolist()[1:] == [-1, -1]
    qrels = {"long": {"z": 1}, "short": {"y": 1, "x": 1, "z": 2}}
    matrix = relevance_matrix(run, qrels)
    assert matrix.grades.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert scores("p@3", run, qrels) == pytest.approx([1 / 3, 1 / 3])


def test_run_without_results_scores_zero() -> None:
    run = Run.from_dict({"q": {}})
    assert run.depth == 0
    result = evaluate(run, {"q": {"a": 1}}, supported_metrics_at(5))
    assert all(values.tolist() == [0.0] for values in result.values())


def test_empty_qrels_give_empty_scores() -> None:
    result = evaluate(RUN, {}, ["ndcg@10", "map"])
    assert [values.shape for values in result.values()] == [(0,), (0,)]


def test_corpus_much_larger_than_the_run_gives_the_same_scores() -> None:
    # Past four table ids per run cell, only the ids the run uses are hashed.
    corpus = tuple(f"doc{i}" for i in range(1000))
    indices = np.array([[7, 3, 999, -1], [0, 998, 3, 5]], dtype=np.int64)
    table_scores = np.array([[4.0, 3.0, 2.0, -np.inf], [4.0, 3.0, 2.0, 1.0]])
    big = Run(("a", "b"), corpus, indices, table_scores)
    small = Run.from_dict(big.to_dict())
    assert len(small.doc_ids) == 6
    qrels = {"a": {"doc999": 2, "doc3": 1, "doc500": 1}, "b": {"doc5": 3, "doc0": 1}}
    metrics = supported_metrics_at(3)
    compiled = CompiledQrels(qrels)
    for key, values in evaluate(big, qrels, metrics).items():
        assert values.tolist() == evaluate(small, qrels, metrics)[key].tolist(), key
        assert values.tolist() == evaluate(big, compiled, metrics)[key].tolist(), key
    assert relevance_matrix(big, qrels).grades.tolist() == [[0.0, 1.0, 2.0, 0.0], [1, 0, 0, 3]]


def test_a_document_judged_for_one_query_is_not_relevant_to_another() -> None:
    run = Run.from_dict({"a": {"x": 1.0, "y": 0.5}, "b": {"x": 1.0, "y": 0.5}})
    qrels = {"a": {"x": 2}, "b": {"y": 1}}
    assert relevance_matrix(run, qrels).grades.tolist() == [[2.0, 0.0], [0.0, 1.0]]


# --- compiled qrels -------------------------------------------------------------------------


def test_compiled_qrels_score_every_run_exactly_as_the_dict_does() -> None:
    compiled = CompiledQrels(QRELS)
    other_table = Run.from_dict({"q2": {"e3": 2.0, "zz": 1.0}, "q1": {"d6": 1.0, "d1": 0.5}})
    metrics = supported_metrics_at(3)
    for run in [RUN, other_table, RUN, other_table]:  # alternate id tables
        from_dict = evaluate(run, QRELS, metrics)
        for key, values in evaluate(run, compiled, metrics).items():
            assert values.tolist() == from_dict[key].tolist(), key


def test_compiled_qrels_do_not_see_later_changes_to_the_dict() -> None:
    qrels = copy.deepcopy(QRELS)
    compiled = CompiledQrels(qrels)
    qrels["q2"]["e1"] = 3
    assert evaluate(RUN, compiled, ["mrr"])["mrr"].tolist() == pytest.approx([1.0, 1 / 3, 0, 0])


def test_compiled_qrels_keep_the_query_ids_they_were_compiled_for() -> None:
    compiled = CompiledQrels(QRELS, query_ids=["q2", "q5"])
    assert compiled.query_ids == ("q2", "q5")
    assert evaluate(RUN, compiled, ["p@3"])["p@3"].tolist() == pytest.approx([1 / 3, 0.0])
    assert evaluate(RUN, compiled, ["p@3"], query_ids=("q2", "q5"))["p@3"].shape == (2,)
    with pytest.raises(ValueError, match="compiled for"):
        evaluate(RUN, compiled, ["p@3"], query_ids=["q5", "q2"])


def test_compiled_qrels_say_what_they_hold() -> None:
    assert repr(CompiledQrels(QRELS)) == (
        "CompiledQrels(4 queries, 6 positive judgements of 5 documents)"
    )


# --- evaluate's contract ---------------------------------------------------------------------


def test_evaluate_keys_are_canonical_names_in_the_order_given_without_repeats() -> None:
    result = evaluate(RUN, QRELS, ["MAP@100", parse_metric("ndcg@10"), "nDCG@10", "P@1"])
    assert list(result) == ["map@100", "ndcg@10", "p@1"]


def test_scores_are_read_only_float64_arrays_aligned_with_the_queries() -> None:
    result = evaluate(RUN, QRELS, ["ndcg@10"])["ndcg@10"]
    assert result.dtype == np.float64
    assert result.shape == (len(QRELS),)
    with pytest.raises(ValueError, match="read-only"):
        result[0] = 1.0


def test_evaluate_does_not_modify_its_inputs() -> None:
    qrels = copy.deepcopy(QRELS)
    indices, run_scores = RUN.indices.copy(), RUN.scores.copy()
    evaluate(RUN, qrels, supported_metrics_at(3), query_ids=["q2", "q1"])
    assert qrels == QRELS
    assert np.array_equal(RUN.indices, indices)
    assert np.array_equal(RUN.scores, run_scores)


def test_no_metrics_give_no_scores() -> None:
    assert evaluate(RUN, QRELS, []) == {}


def test_unknown_metric_in_evaluate_is_a_metric_error() -> None:
    with pytest.raises(MetricError, match="unknown metric 'ndcg10'"):
        evaluate(RUN, QRELS, ["ndcg10"])


def test_a_query_id_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="repeat 'q1'"):
        evaluate(RUN, QRELS, ["map"], query_ids=["q1", "q2", "q1"])


def test_a_run_with_one_query_on_two_rows_is_refused() -> None:
    run = Run(
        ("q1", "q1"),
        ("a",),
        np.zeros((2, 1), dtype=np.int64),
        np.zeros((2, 1)),
    )
    with pytest.raises(ValueError, match="query 'q1' on two rows"):
        evaluate(run, QRELS, ["map"])


def test_a_run_row_with_rising_scores_is_refused() -> None:
    ascending = Run(("q1",), ("a", "b"), np.array([[0, 1]]), np.array([[0.1, 0.2]]))
    with pytest.raises(ValueError, match=r"not in trec_eval order: rank 2 scores 0\.2"):
        evaluate(ascending, QRELS, ["map"])


def test_relevance_matrix_built_shallow_refuses_a_deeper_metric() -> None:
    matrix = relevance_matrix(RUN, QRELS, depth=2)
    assert matrix.depth == 2
    assert embedgate.metrics.precision(matrix, 2).tolist() == pytest.approx([0.5, 0.0, 0, 0])
    with pytest.raises(ValueError, match="keeps 2 of the run's 5 ranks"):
        embedgate.metrics.recall(matrix, 3)
    with pytest.raises(ValueError, match="whole run"):
        embedgate.metrics.average_precision(matrix, None)


def test_relevance_matrix_refuses_a_depth_below_one() -> None:
    with pytest.raises(ValueError, match="depth must be a positive"):
        relevance_matrix(RUN, QRELS, depth=0)


def test_relevance_matrix_is_read_only() -> None:
    matrix = relevance_matrix(RUN, QRELS)
    with pytest.raises(ValueError, match="read-only"):
        matrix.grades[0, 0] = 9.0


def test_docstring_examples_hold() -> None:
    failures, tried = doctest.testmod(embedgate.metrics, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


@pytest.mark.parametrize(
    ("name", "key", "label"),
    [
        ("nDCG@10", "ndcg@10", "nDCG@10"),
        ("map", "map", "MAP"),
        ("mrr@10", "mrr@10", "MRR@10"),
        ("Spearman", "spearman", "Spearman"),
        ("V-measure", "v_measure", "V-measure"),
        ("knn_accuracy", "knn_accuracy", "k-NN accuracy"),
        ("no-such-metric", "no-such-metric", "no-such-metric"),
    ],
)
def test_metric_key_and_label_read_each_other_back(name: str, key: str, label: str) -> None:
    assert metric_key(name) == key
    assert metric_label(key) == label
    assert metric_key(metric_label(key)) == key
