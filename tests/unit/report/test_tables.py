from __future__ import annotations

from embedgate.evaluation import Evaluation
from embedgate.models import ModelInfo
from embedgate.report.tables import (
    dataset_table,
    format_score,
    markdown_table,
    significance_mark,
)
from embedgate.stats import non_inferiority, power_report


def evaluation(model: str, dataset: str, scores: list[float]) -> Evaluation:
    return Evaluation(
        model=model,
        info=ModelInfo(name=model, provider="test", model=model),
        dataset=dataset,
        fingerprint="0123456789abcdef" * 4,
        split="test",
        per_query={"ndcg@10": {f"q{i}": s for i, s in enumerate(scores)}},
        k=100,
        counts={"queries": len(scores), "documents": 9},
    )


def test_scores_are_rounded_to_fixed_places_and_negative_zero_is_plain_zero() -> None:
    assert format_score(0.123456) == "0.1235"
    assert format_score(-0.00001) == "0.0000"
    assert format_score(-0.25, 2) == "-0.25"


def test_markdown_tables_pad_columns_and_right_align_numbers() -> None:
    table = markdown_table(["model", "nDCG@10"], [["a", "0.5"], ["long-name", "0.25"]])
    assert table.splitlines() == [
        "| model     | nDCG@10 |",
        "| --------- | ------: |",
        "| a         |     0.5 |",
        "| long-name |    0.25 |",
    ]


def test_the_dataset_table_pins_the_data_and_lists_models_in_order() -> None:
    table = dataset_table(
        "faq", [evaluation("b", "faq", [1.0, 0.0]), evaluation("a", "faq", [0.5, 0.5])], ["ndcg@10"]
    )
    assert table.startswith("## faq (test)\n\n2 queries, 9 documents, fingerprint 0123456789abcdef")
    assert table.index("| b ") < table.index("| a ")


def test_a_significantly_worse_candidate_is_marked_down_in_both_tables() -> None:
    base = [0.8, 0.9, 0.7, 1.0] * 10
    worse = [s - 0.3 for s in base]
    verdict = non_inferiority(
        base, worse, margin=0.01, baseline="a", candidate="b", metric="nDCG@10"
    )
    power = power_report(base, worse, kind="non-inferiority", margin=0.01)
    assert significance_mark(verdict) == "▼"
    table = dataset_table(
        "faq",
        [evaluation("a", "faq", base), evaluation("b", "faq", worse)],
        ["ndcg@10"],
        swaps=[(verdict, power)],
    )
    assert "| b     | 0.5500 ▼ |" in table
    assert "| b         | 40 | 0.8500 |         0.5500 | -0.3000 ▼ | [-0.3000, -0.3000] |" in table
