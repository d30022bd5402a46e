"""``embedgate compare`` on results files written by the library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embedgate.cli import main
from embedgate.evaluation import Evaluation
from embedgate.models import ModelInfo
from embedgate.stats import non_inferiority


def write(folder: Path, model: str, scores: np.ndarray, fingerprint: str = "f" * 64) -> Path:
    evaluation = Evaluation(
        model=model,
        info=ModelInfo(name=model, provider="test", model=model),
        dataset="golden",
        fingerprint=fingerprint,
        split="test",
        per_query={"ndcg@10": {f"q{i}": float(s) for i, s in enumerate(scores)}},
        k=100,
    )
    return evaluation.write(folder / model)


@pytest.fixture
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 1, 200).round(2)
    cand = np.clip(base + rng.normal(0.0, 0.1, 200), 0, 1).round(2)
    return base, cand


def test_a_candidate_within_the_margin_passes_with_the_verdict_sentence(
    tmp_path: Path, scores: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = scores
    a, b = write(tmp_path, "base", base), write(tmp_path, "cand", cand)
    expected = non_inferiority(base, cand, margin=0.05, seed=0)
    code = main(["compare", str(a), str(b), "--margin", "0.05"])
    out = capsys.readouterr().out
    assert code == (0 if expected.passed else 1)
    assert out.startswith("cand is not worse than base by more than 0.050 nDCG@10 on golden")
    assert "n=200" in out


def test_json_output_holds_the_full_verdict_and_power(
    tmp_path: Path, scores: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = scores
    a, b = write(tmp_path, "base", base), write(tmp_path, "cand", cand - 0.2)
    code = main(["compare", str(a), str(b), "--margin", "0.01", "--test", "t", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["verdict"]["kind"] == "non-inferiority"
    assert document["verdict"]["test"] == "t"
    assert document["verdict"]["passed"] is False
    assert document["verdict"]["mean_diff"] == pytest.approx(float(np.mean(cand - 0.2 - base)))
    assert document["power"]["n"] == 200


def test_results_of_different_datasets_are_refused(
    tmp_path: Path, scores: tuple[np.ndarray, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand = scores
    a = write(tmp_path, "base", base)
    b = write(tmp_path, "cand", cand, fingerprint="e" * 64)
    assert main(["compare", str(a), str(b)]) == 2
    assert "computed on different data (dataset fingerprints ffffffffffff and eeeeeeeeeeee)" in (
        capsys.readouterr().err
    )


def test_a_missing_results_file_says_to_run_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "no such results file. Run 'embedgate run' first." in capsys.readouterr().err
