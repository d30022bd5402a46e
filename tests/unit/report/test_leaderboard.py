"""The leaderboard: Borda ranks by hand and against pandas, means, marks, markdown snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from embedgate.errors import ResultsError
from embedgate.evaluation import Evaluation
from embedgate.models import ModelInfo
from embedgate.report.leaderboard import (
    MEAN,
    MEAN_TASK_TYPES,
    borda_ranks,
    build_leaderboard,
    format_bytes,
    format_count,
    leaderboard_markdown,
)
from embedgate.stats import holm_adjust, randomization_test


def evaluation(
    model: str,
    dataset: str,
    scores: list[float] | np.ndarray,
    *,
    task: str = "retrieval",
    metric: str = "ndcg@10",
    info: ModelInfo | None = None,
    **extra: object,
) -> Evaluation:
    return Evaluation(
        model=model,
        info=info or ModelInfo(name=model, provider="test", model=model),
        dataset=dataset,
        fingerprint=(dataset * 64)[:64],
        split="test",
        per_query={metric: {f"q{i}": float(s) for i, s in enumerate(scores)}},
        k=100,
        task=task,
        **extra,  # type: ignore[arg-type]
    )


# A hand-worked example with tied scores, a missing result and a tie in the final count.
# Five models, so a model at rank r earns 5 - r points.
#
#   x: A .9, B .9, C .7, D .5, E .1 -> ranks 1.5 1.5 3 4 5 -> 3.5 3.5 2 1 0
#   y: A .2, B .6, C .8, E .4, D missing -> ranks C1 B2 E3 A4 -> C4 B3 E2 A1 D0
#   z: A .3, B .1, C .2, D .3, E .3 -> A,D,E tie at ranks 1-3 (avg 2), C4, B5
#                                     -> A3 D3 E3 C1 B0
#   totals: A 7.5, B 6.5, C 7, D 4, E 5 -> ranks A1 C2 B3 E4 D5
#
# and a second table where two totals tie: min ranking gives 1, 1, 3.
HAND: dict[str, dict[str, float | None]] = {
    "A": {"x": 0.9, "y": 0.2, "z": 0.3},
    "B": {"x": 0.9, "y": 0.6, "z": 0.1},
    "C": {"x": 0.7, "y": 0.8, "z": 0.2},
    "D": {"x": 0.5, "y": None, "z": 0.3},
    "E": {"x": 0.1, "y": 0.4, "z": 0.3},
}


def test_borda_ranks_match_a_hand_worked_example_with_ties_and_a_missing_result() -> None:
    ranks, points = borda_ranks(HAND)
    assert points == {"A": 7.5, "B": 6.5, "C": 7.0, "D": 4.0, "E": 5.0}
    assert ranks == {"A": 1, "C": 2, "B": 3, "E": 4, "D": 5}


def test_tied_borda_counts_share_the_smallest_rank() -> None:
    # x: a .9 b .5 c .1 -> 2 1 0 points; y: a .1 b .5 c .9 -> 0 1 2: every total is 2.
    # Adding z: a .5 b .9 c missing -> a 1, b 2, c 0 points: totals a 3, b 4, c 2.
    table = {"a": {"x": 0.9, "y": 0.1}, "b": {"x": 0.5, "y": 0.5}, "c": {"x": 0.1, "y": 0.9}}
    assert borda_ranks(table) == ({"a": 1, "b": 1, "c": 1}, {"a": 2.0, "b": 2.0, "c": 2.0})
    table["a"]["z"], table["b"]["z"] = 0.5, 0.9
    assert borda_ranks(table) == ({"a": 2, "b": 1, "c": 3}, {"a": 3.0, "b": 4.0, "c": 2.0})
    four = {"a": {"x": 0.9}, "b": {"x": 0.5}, "c": {"x": 0.5}, "d": {"x": 0.1}}
    assert borda_ranks(four)[0] == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_a_missing_result_scores_below_the_worst_present_one() -> None:
    ranks, points = borda_ranks({"a": {"x": 0.1}, "b": {}}, ["a", "b"])
    assert points == {"a": 1.0, "b": 0.0}
    assert ranks == {"a": 1, "b": 2}


def mteb_borda(table: dict[str, dict[str, float | None]]) -> dict[str, int]:
    """MTEB's leaderboard rule written with pandas, as ``mteb/leaderboard/table.py`` has it."""
    pd = pytest.importorskip("pandas", reason="pandas (a dependency of ranx) is the reference")
    frame = pd.DataFrame(table).T.astype(float)
    counts = len(frame) - frame.rank(method="average", ascending=False, axis=0)
    ranks = counts.sum(axis=1).rank(method="min", ascending=False).astype(int)
    return {str(k): int(v) for k, v in ranks.to_dict().items()}


@pytest.mark.parametrize("seed", range(20))
def test_borda_ranks_agree_with_the_pandas_formulation_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    models, datasets = rng.integers(2, 8), rng.integers(1, 6)
    table: dict[str, dict[str, float | None]] = {}
    for m in range(models):
        row: dict[str, float | None] = {}
        for d in range(datasets):
            # Coarse scores so ties are common; about one result in six is missing.
            row[f"d{d}"] = None if rng.random() < 0.15 else float(rng.integers(0, 5)) / 4
        table[f"m{m}"] = row
    ranks, _ = borda_ranks(table)
    assert ranks == mteb_borda(table)


def test_scores_equal_up_to_rounding_noise_tie() -> None:
    ranks, points = borda_ranks({"a": {"x": 0.3}, "b": {"x": 0.1 + 0.2}})
    assert points == {"a": 0.5, "b": 0.5}
    assert ranks == {"a": 1, "b": 1}


def test_means_over_datasets_and_task_types_follow_mteb() -> None:
    evals = [
        evaluation("a", "r1", [0.2, 0.4]),
        evaluation("a", "r2", [0.6, 0.6]),
        evaluation("a", "s1", [0.9, 0.7], task="sts", metric="spearman"),
        evaluation("b", "r1", [0.5, 0.5]),
        evaluation("b", "s1", [0.1, 0.3], task="sts", metric="spearman"),
    ]
    board = build_leaderboard(evals)
    a, b = board.row("a"), board.row("b")
    assert board.task_types == ("retrieval", "sts")
    assert board.metrics == {"r1": "ndcg@10", "r2": "ndcg@10", "s1": "spearman"}
    assert a.scores == pytest.approx({"r1": 0.3, "r2": 0.6, "s1": 0.8})
    assert a.task_scores == pytest.approx({"retrieval": 0.45, "sts": 0.8})
    assert a.mean == pytest.approx((0.3 + 0.6 + 0.8) / 3)
    assert a.mean_task_types == pytest.approx((0.45 + 0.8) / 2)
    # b has no result on r2: no retrieval mean, no overall means, but a rank.
    assert b.task_scores == pytest.approx({"sts": 0.2})
    assert b.mean is None
    assert b.mean_task_types is None
    assert (a.rank, b.rank) == (1, 2)


def test_marks_come_from_holm_corrected_randomization_tests_against_the_baseline() -> None:
    rng = np.random.default_rng(7)
    base1, base2 = rng.uniform(0, 1, 60), rng.uniform(0, 1, 40)
    better = np.clip(base1 + 0.3 + rng.normal(0, 0.05, 60), 0, 1)
    same = np.clip(base2 + rng.normal(0, 0.05, 40), 0, 1)
    evals = [
        evaluation("base", "d1", base1),
        evaluation("base", "d2", base2),
        evaluation("cand", "d1", better),
        evaluation("cand", "d2", same),
    ]
    board = build_leaderboard(evals, baseline="base", seed=3, resamples=2000)
    sig = board.significance
    assert sig is not None
    # Distinct comparisons: d1, d2, and {d1, d2} (the retrieval type and the mean share it).
    assert sig.family_size == 3
    raw = {
        "d1": randomization_test(base1, better, resamples=2000, seed=3).p_value,
        "d2": randomization_test(base2, same, resamples=2000, seed=3).p_value,
    }
    weighted = np.concatenate([(better - base1) / 120, (same - base2) / 80])
    # The weighted differences sum to the difference of the means over the two datasets.
    mean_diff = (better.mean() + same.mean()) / 2 - (base1.mean() + base2.mean()) / 2
    assert weighted.sum() == pytest.approx(mean_diff)
    raw[MEAN] = randomization_test(np.zeros(100), weighted, resamples=2000, seed=3).p_value
    holm = dict(zip(raw, holm_adjust(list(raw.values())), strict=True))
    for column in ("d1", "d2", MEAN):
        assert sig.p_values[("cand", column)] == pytest.approx((raw[column], holm[column]))
    marks = board.row("cand").marks
    assert marks.get("d1") == "▲"
    assert ("d2" in marks) == (holm["d2"] <= 0.05)
    assert marks.get(MEAN) == ("▲" if holm[MEAN] <= 0.05 else None)
    assert board.row("base").marks == {}


def test_a_worse_candidate_is_marked_down() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 1, 50)
    evals = [evaluation("base", "d", base), evaluation("worse", "d", base - 0.2)]
    board = build_leaderboard(evals, baseline="base")
    assert board.row("worse").marks == {
        "d": "▼",
        "task:retrieval": "▼",
        MEAN: "▼",
        MEAN_TASK_TYPES: "▼",
    }
    # One dataset: every column is the same hypothesis, tested once.
    assert board.significance is not None
    assert board.significance.family_size == 1


def test_the_mean_over_task_types_is_tested_with_its_own_weights() -> None:
    rng = np.random.default_rng(11)
    sizes = {"r1": 30, "r2": 50, "s1": 20}
    tasks = {"r1": "retrieval", "r2": "retrieval", "s1": "sts"}
    base = {d: rng.uniform(0, 1, n) for d, n in sizes.items()}
    cand = {d: np.clip(b + rng.normal(0.03, 0.1, b.size), 0, 1) for d, b in base.items()}
    evals = [
        evaluation(m, d, scores[d], task=tasks[d], metric="ndcg@10" if d != "s1" else "spearman")
        for m, scores in (("base", base), ("cand", cand))
        for d in sizes
    ]
    board = build_leaderboard(evals, baseline="base", resamples=3000, seed=5)
    sig = board.significance
    assert sig is not None
    # r1, r2, s1 (= the sts type), the retrieval type, the mean and the mean over types.
    assert sig.family_size == 6
    # Weights 1/4, 1/4, 1/2: the retrieval mean and the sts score count alike.
    weights = {"r1": 0.25, "r2": 0.25, "s1": 0.5}
    x = np.concatenate([(cand[d] - base[d]) * w / sizes[d] for d, w in weights.items()])
    b_row, c_row = board.row("base"), board.row("cand")
    assert c_row.mean_task_types is not None
    assert b_row.mean_task_types is not None
    assert x.sum() == pytest.approx(c_row.mean_task_types - b_row.mean_task_types)
    expected = randomization_test(np.zeros(x.size), x, resamples=3000, seed=5).p_value
    assert sig.p_values[("cand", MEAN_TASK_TYPES)][0] == pytest.approx(expected)
    assert sig.p_values[("cand", "task:sts")] == sig.p_values[("cand", "s1")]


def test_markdown_is_deterministic_and_free_of_timings() -> None:
    info = ModelInfo(
        "m",
        "st",
        "m",
        dimensions=384,
        max_tokens=256,
        parameters=22_713_216,
        memory_bytes=90_852_864,
    )
    evals = [
        evaluation(
            "m",
            "d",
            [0.5, 0.7, 0.2],
            info=info,
            timings={"embed_documents_s": 1.0},
            cache={"documents": {"embedded": 3}},
        ),
        evaluation(
            "bm25", "d", [0.4, 0.7, 0.1], info=ModelInfo("bm25", "bm25s", "bm25", kind="lexical")
        ),
    ]
    text = leaderboard_markdown(evals, baseline="m")
    assert text == leaderboard_markdown(list(evals), baseline="m")
    assert "texts/s" not in text
    assert "/s" not in text
    lines = text.splitlines()
    assert "| 1    | m (baseline) |      22.7M | 90.9 MB |        384 |        256 |" in text
    assert any(line.startswith("| 2    | bm25") and "n/a" in line for line in lines)
    assert "Holm-corrected" in text
    assert "seed 0" in text


def test_throughput_price_and_cost_come_from_timings_and_usage() -> None:
    api = evaluation(
        "api",
        "d",
        [0.5],
        info=ModelInfo("api", "openai", "text-embedding-3-small"),
        timings={"embed_documents_s": 2.0, "embed_queries_s": 0.5},
        cache={"documents": {"embedded": 90}, "queries": {"embedded": 10}},
        usage={"input_tokens": 1000, "estimated_cost_usd": 0.00002, "price_per_million_usd": 0.02},
    )
    cached = evaluation(
        "local",
        "d",
        [0.4],
        cache={"documents": {"embedded": 0}},
        timings={"embed_documents_s": 0.01},
    )
    board = build_leaderboard([api, cached])
    assert board.row("api").throughput == pytest.approx(100 / 2.5)
    assert board.row("api").price_per_million == 0.02
    assert board.row("api").cost_usd == pytest.approx(0.00002)
    assert not board.row("api").local
    assert board.row("local").throughput is None
    assert board.row("local").local


def test_bad_inputs_name_the_model_and_dataset() -> None:
    with pytest.raises(ResultsError, match="no results"):
        build_leaderboard([])
    with pytest.raises(ResultsError, match="two results of a on d"):
        build_leaderboard([evaluation("a", "d", [1.0]), evaluation("a", "d", [1.0])])
    with pytest.raises(ResultsError, match="baseline 'zz' has no results"):
        build_leaderboard([evaluation("a", "d", [1.0])], baseline="zz")
    other = Evaluation(
        model="b",
        info=ModelInfo("b", "t", "b"),
        dataset="d",
        fingerprint="f" * 64,
        split="test",
        per_query={"ndcg@10": {"q0": 1.0}},
        k=10,
    )
    with pytest.raises(ResultsError, match="different versions of d"):
        build_leaderboard([evaluation("a", "d", [1.0]), other])


def test_sizes_are_written_for_people() -> None:
    assert format_count(22_713_216) == "22.7M"
    assert format_count(1_500_000_000) == "1.5B"
    assert format_count(None) == "unknown"
    assert format_bytes(90_852_864) == "90.9 MB"
    assert format_bytes(None) == "unknown"
