"""Per-query diff: gained and lost, the answer document's rank before and after, slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedgate.datasets import Document, Query, RetrievalDataset
from embedgate.errors import ResultsError
from embedgate.evaluation import Evaluation
from embedgate.metrics import evaluate
from embedgate.models import ModelInfo
from embedgate.report.diff import diff_markdown, load_run, query_diff
from embedgate.retrieval import Run

DOCS = tuple(Document(f"d{i}", "", f"text {i}") for i in range(6))
QUERIES = (
    Query("q1", "reset password", "en", {"topic": "account"}),
    Query("q2", "Passwort vergessen", "de", {"topic": "account"}),
    Query("q3", "invoice | copy", "en", {"topic": "billing"}),
    Query("q4", "Rechnung", "de", {}),
)
QRELS = {
    "q1": {"d1": 2, "d2": 1},
    "q2": {"d1": 1, "d3": 1},
    "q3": {"d4": 2, "d5": 0},
    "q4": {"d5": 1},
}
DATASET = RetrievalDataset("toy", None, "test", DOCS, QUERIES, QRELS)

BASE_RUN = Run.from_dict(
    {
        "q1": {"d1": 0.9, "d2": 0.8, "d0": 0.1},
        "q2": {"d0": 0.9, "d3": 0.8, "d1": 0.7},
        "q3": {"d4": 0.9, "d0": 0.5},
        "q4": {"d0": 0.9, "d5": 0.5},
    },
    name="base",
)
CAND_RUN = Run.from_dict(
    {
        "q1": {"d0": 0.9, "d2": 0.8, "d3": 0.7, "d1": 0.6},
        "q2": {"d1": 0.9, "d3": 0.8},
        "q3": {"d0": 0.9},
        "q4": {"d0": 0.9, "d5": 0.5},
    },
    name="cand",
)


def scored(model: str, run: Run) -> Evaluation:
    per_query = evaluate(run, QRELS, ["ndcg@10"], query_ids=DATASET.query_ids)
    return Evaluation(
        model=model,
        info=ModelInfo(model, "test", model),
        dataset="toy",
        fingerprint=DATASET.fingerprint,
        split="test",
        per_query={
            "ndcg@10": dict(zip(DATASET.query_ids, per_query["ndcg@10"].tolist(), strict=True))
        },
        k=10,
        run=run,
    )


def test_queries_that_gained_and_lost_come_in_order_with_answer_ranks() -> None:
    base, cand = scored("base", BASE_RUN), scored("cand", CAND_RUN)
    diff = query_diff(base, cand, DATASET, top=5)
    by_id = {c.query_id: c for c in diff.changes}
    # q1: the grade-2 document d1 fell from rank 1 to rank 4.
    assert (by_id["q1"].answer, by_id["q1"].rank_before, by_id["q1"].rank_after) == ("d1", 1, 4)
    # q2: two grade-1 documents; the one the baseline ranked higher (d3, rank 2) is followed.
    assert (by_id["q2"].answer, by_id["q2"].rank_before, by_id["q2"].rank_after) == ("d3", 2, 2)
    # q3: d4 was at rank 1 and is no longer retrieved.
    assert (by_id["q3"].rank_before, by_id["q3"].rank_after) == (1, None)
    assert by_id["q4"].delta == 0.0
    assert [c.query_id for c in diff.lost] == ["q3", "q1"]
    assert [c.query_id for c in diff.gained] == ["q2"]
    assert diff.counts == {"gained": 1, "lost": 2, "unchanged": 1}
    for c in diff.changes:
        assert c.delta == pytest.approx(
            cand.per_query["ndcg@10"][c.query_id] - base.per_query["ndcg@10"][c.query_id]
        )
    assert by_id["q1"].text == "reset password"
    assert by_id["q2"].language == "de"


def test_slices_group_by_language_and_every_tag_key() -> None:
    base, cand = scored("base", BASE_RUN), scored("cand", CAND_RUN)
    diff = query_diff(base, cand, DATASET)
    deltas = {c.query_id: c.delta for c in diff.changes}
    slices = {(s.key, s.value): s for s in diff.slices}
    assert list(slices) == [
        ("language", "de"),
        ("language", "en"),
        ("topic", "account"),
        ("topic", "billing"),
    ]
    en = slices[("language", "en")]
    assert en.n == 2
    assert en.lost == 2
    assert en.gained == 0
    assert en.mean_delta == pytest.approx(np.mean([deltas["q1"], deltas["q3"]]))
    account = slices[("topic", "account")]
    assert account.mean_delta == pytest.approx(np.mean([deltas["q1"], deltas["q2"]]))
    assert account.mean_after - account.mean_before == pytest.approx(account.mean_delta)


def test_top_limits_the_lists_and_markdown_names_everything(tmp_path: Path) -> None:
    base, cand = scored("base", BASE_RUN), scored("cand", CAND_RUN)
    diff = query_diff(base, cand, DATASET, top=1)
    assert [c.query_id for c in diff.lost] == ["q3"]
    text = diff_markdown(diff, k=10)
    assert "## cand vs base on toy (nDCG@10, per query)" in text
    assert "d4: 1 → >10" in text
    assert "invoice \\| copy" in text  # a pipe in a query cannot break the table
    assert "language = de" in text
    assert "topic = billing" in text


def test_runs_are_read_back_from_run_trec(tmp_path: Path) -> None:
    base = scored("base", BASE_RUN)
    base.write(tmp_path / "base")
    run = load_run(tmp_path / "base" / "results.json")
    assert run is not None
    assert run.to_dict() == BASE_RUN.to_dict()
    assert load_run(tmp_path / "missing") is None


def test_without_a_dataset_only_scores_are_known() -> None:
    base, cand = scored("base", BASE_RUN), scored("cand", CAND_RUN)
    diff = query_diff(base, cand)
    assert all(c.answer is None and c.text == "" for c in diff.changes)
    assert diff.slices == ()
    assert len(diff.lost) == 2


def test_mismatched_inputs_are_refused_with_the_fix() -> None:
    base, cand = scored("base", BASE_RUN), scored("cand", CAND_RUN)
    other = RetrievalDataset("toy", None, "test", DOCS, QUERIES[:3], dict(list(QRELS.items())[:3]))
    with pytest.raises(ResultsError, match="pass the dataset version"):
        query_diff(base, cand, other)
    with pytest.raises(ResultsError, match="'mrr@10' was not computed"):
        query_diff(base, cand, metric="mrr@10")
    with pytest.raises(ResultsError, match="top must be at least 1"):
        query_diff(base, cand, top=0)
