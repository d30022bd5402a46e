"""CSV, JSON and LaTeX read back: csv parses, json parses, LaTeX is balanced and escaped."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest

from embedgate.evaluation import Evaluation
from embedgate.models import ModelInfo
from embedgate.report.diff import query_diff
from embedgate.report.formats import (
    latex_escape,
    leaderboard_csv,
    leaderboard_latex,
    report_json,
)
from embedgate.report.leaderboard import Leaderboard, build_leaderboard


def evaluation(model: str, dataset: str, scores: np.ndarray, **kw: object) -> Evaluation:
    return Evaluation(
        model=model,
        info=kw.pop("info", None) or ModelInfo(model, "test", model),  # type: ignore[arg-type]
        dataset=dataset,
        fingerprint=(dataset * 64)[:64],
        split="test",
        per_query={"ndcg@10": {f"q{i}": float(s) for i, s in enumerate(scores)}},
        k=100,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def board() -> Leaderboard:
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0, 1, 40), rng.uniform(0, 1, 30)
    evals = [
        evaluation(
            "mini_lm",
            "faq_100%",
            a,
            info=ModelInfo("mini_lm", "st", "m", dimensions=384, parameters=22_000_000),
        ),
        evaluation("mini_lm", "R&D docs", b),
        evaluation(
            "big #1",
            "faq_100%",
            np.clip(a + 0.2, 0, 1),
            timings={"embed_documents_s": 2.0},
            cache={"documents": {"embedded": 40}},
        ),
    ]
    return build_leaderboard(evals, baseline="mini_lm", resamples=500)


def test_csv_parses_back_with_raw_numbers(board: Leaderboard) -> None:
    rows = list(csv.DictReader(io.StringIO(leaderboard_csv(board))))
    assert [r["model"] for r in rows] == [r.model for r in board.rows]
    by_model = {r["model"]: r for r in rows}
    mini = board.row("mini_lm")
    assert float(by_model["mini_lm"]["faq_100%"]) == mini.scores["faq_100%"]
    assert float(by_model["mini_lm"]["mean"]) == mini.mean
    assert by_model["mini_lm"]["dimensions"] == "384"
    big = by_model["big #1"]
    assert big["R&D docs"] == ""
    assert big["mean"] == ""
    assert float(big["texts_per_s"]) == pytest.approx(20.0)
    assert big["faq_100% mark"] == "▲"


def test_json_parses_back_strictly_with_diffs(board: Leaderboard) -> None:
    rng = np.random.default_rng(2)
    s = rng.uniform(0, 1, 10)
    diff = query_diff(evaluation("a", "d", s), evaluation("b", "d", s[::-1]))
    document = json.loads(
        report_json(board, [diff]),
        parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"),
    )
    assert document["schema"] == "embedgate.report/1"
    rows = document["leaderboard"]["rows"]
    assert [r["model"] for r in rows] == [r.model for r in board.rows]
    assert rows[1]["mean"] is None
    sig = document["leaderboard"]["significance"]
    assert sig["correction"] == "holm"
    assert sig["baseline"] == "mini_lm"
    assert document["diffs"][0]["counts"] == diff.counts


def test_latex_is_balanced_and_escapes_special_characters(board: Leaderboard) -> None:
    tex = leaderboard_latex(board)
    assert tex.count("\\begin{table}") == tex.count("\\end{table}") == 2
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 2
    # Braces balance once escaped ones are removed.
    bare = tex.replace("\\{", "").replace("\\}", "")
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    # Every row of each tabular has as many cells as its column spec says.
    for spec, body in re.findall(r"\\begin\{tabular\}\{([lr]+)\}(.*?)\\end\{tabular\}", tex, re.S):
        rows = [r for r in body.split("\\\\") if "&" in r]
        assert rows
        for row in rows:
            cells = re.split(r"(?<!\\)&", row)
            assert len(cells) == len(spec)
            for cell in cells:
                # Nothing special is left once the escapes and the math marks are removed.
                bare_cell = re.sub(r"\\[#$%&_{}]|\$\\[a-zA-Z]+\$", "", cell)
                assert not re.search(r"[%#&_$]", bare_cell), cell
    assert "mini\\_lm" in tex
    assert "faq\\_100\\%" in tex
    assert "R\\&D docs" in tex
    assert "big \\#1" in tex
    assert "$\\blacktriangle$" in tex


def test_latex_escape_covers_every_special_character() -> None:
    assert latex_escape("a_b%c&d$e#f{g}h~i^j\\k") == (
        "a\\_b\\%c\\&d\\$e\\#f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k"
    )
