"""``embedgate report`` end to end on real results of MiniLM and BM25 on the fixture golden set."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from scipy import stats as sps

from embedgate.cli import main
from embedgate.datasets import load_dataset
from embedgate.evaluation import read_results

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "support_faq"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of two models on the fixture and on a 60-query subset of it (a second dataset).

    Both runs share one cache in tmp, so the subset embeds nothing new.
    """
    root = tmp_path_factory.mktemp("report")
    subset = root / "faq_subset"
    subset.mkdir()
    (subset / "corpus.jsonl").write_text((FIXTURE / "corpus.jsonl").read_text("utf-8"), "utf-8")
    lines = (FIXTURE / "golden.jsonl").read_text("utf-8").splitlines()[:60]
    (subset / "golden.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    for name, folder in (("support_faq", FIXTURE), ("faq_subset", subset)):
        code = main(
            [
                "run",
                "--dataset",
                str(folder),
                "--model",
                "minilm=st:all-MiniLM-L6-v2",
                "--model",
                "bm25",
                "--out",
                str(root / "results" / name),
                "--cache",
                str(root / "cache.sqlite"),
            ]
        )
        assert code == 0
    return root


def test_markdown_report_ranks_marks_and_diffs_real_results(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = results / "report.md"
    code = main(
        [
            "report",
            str(results / "results"),
            "--baseline",
            "minilm",
            "--dataset",
            str(FIXTURE),
            "--format",
            "md",
            "--out",
            str(out),
            "--top",
            "3",
        ]
    )
    assert code == 0
    text = out.read_text("utf-8")
    minilm = read_results(results / "results" / "support_faq" / "minilm")
    bm25 = read_results(results / "results" / "support_faq" / "bm25")
    # The table shows the means results.json holds.
    assert f"{minilm.mean('ndcg@10'):.4f}" in text
    assert f"{bm25.mean('ndcg@10'):.4f}" in text
    # bm25 is clearly worse on the full set (scipy's paired t-test agrees on the direction).
    t = sps.ttest_rel(bm25.scores("ndcg@10"), minilm.scores("ndcg@10"))
    assert t.pvalue < 1e-3
    assert t.statistic < 0
    assert f"{bm25.mean('ndcg@10'):.4f} ▼" in text
    assert "## bm25 vs minilm on support_faq (nDCG@10, per query)" in text
    assert "### Lost most" in text
    assert "language = de" in text
    # The subset was not given as --dataset: its diff has scores but no texts or slices.
    assert "## bm25 vs minilm on faq_subset" in text
    assert "(`--dataset` with the folder of faq_subset)" in text
    assert "texts/s" not in text
    assert "written to" in capsys.readouterr().err


def test_borda_ranks_over_two_real_datasets_match_the_pandas_formulation(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd = pytest.importorskip("pandas", reason="pandas (a dependency of ranx) is the reference")
    assert main(["report", str(results / "results"), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    table = {r["model"]: {d: float(r[d]) for d in ("support_faq", "faq_subset")} for r in rows}
    frame = pd.DataFrame(table).T
    counts = len(frame) - frame.rank(method="average", ascending=False, axis=0)
    expected = counts.sum(axis=1).rank(method="min", ascending=False).astype(int).to_dict()
    assert {r["model"]: int(r["rank"]) for r in rows} == expected
    for r in rows:
        e = read_results(results / "results" / "support_faq" / r["model"])
        assert float(r["support_faq"]) == e.mean("ndcg@10")


def test_json_and_latex_reports_are_written(results: Path) -> None:
    json_out, tex_out = results / "r.json", results / "r.tex"
    args = ["report", str(results / "results"), "--baseline", "minilm", "--dataset", str(FIXTURE)]
    assert main([*args, "--format", "json", "--out", str(json_out)]) == 0
    assert main([*args, "--format", "latex", "--out", str(tex_out)]) == 0
    document = json.loads(json_out.read_text("utf-8"))
    assert {r["model"] for r in document["leaderboard"]["rows"]} == {"minilm", "bm25"}
    diffs = {d["dataset"]: d for d in document["diffs"]}
    assert set(diffs) == {"support_faq", "faq_subset"}
    worst = diffs["support_faq"]["lost"][0]
    dataset = load_dataset(FIXTURE)
    assert worst["text"] == next(q.text for q in dataset.queries if q.id == worst["query_id"])
    assert worst["answer"] in dataset.relevant(worst["query_id"])
    tex = tex_out.read_text("utf-8")
    assert tex.count("\\begin{tabular}") == 2
    assert "support\\_faq" in tex


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--baseline", "nobody"], "baseline 'nobody' has no results"),
        (["--top", "0"], "--top must be at least 1"),
    ],
)
def test_bad_options_exit_2_with_the_fix(
    results: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["report", str(results / "results"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_without_results_or_the_wrong_dataset_is_refused(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no results.json in this folder" in capsys.readouterr().err
    only_subset = results / "results" / "faq_subset"
    assert main(["report", str(only_subset), "--dataset", str(FIXTURE)]) == 2
    assert "matches no results given" in capsys.readouterr().err
