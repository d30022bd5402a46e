"""The HTML report renders in a real headless Chromium, plots included, and is self-contained."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from embedgate.cli import main
from embedgate.evaluation import read_results

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "support_faq"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("html")
    code = main(
        [
            "run",
            "--dataset",
            str(FIXTURE),
            "--model",
            "minilm=st:all-MiniLM-L6-v2",
            "--model",
            "bm25",
            "--out",
            str(root / "results"),
            "--cache",
            str(root / "cache.sqlite"),
        ]
    )
    assert code == 0
    out = root / "report.html"
    code = main(
        [
            "report",
            str(root / "results"),
            "--baseline",
            "minilm",
            "--dataset",
            str(FIXTURE),
            "--format",
            "html",
            "--out",
            str(out),
            "--title",
            "support <faq> & co",
        ]
    )
    assert code == 0
    return out


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_report_is_one_offline_file(html_report: Path) -> None:
    html = html_report.read_text("utf-8")
    assert "<script" not in html
    # Nothing is fetched: the only URL is the SVG namespace.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""(src|href)\s*=""", html)
    assert "<title>support &lt;faq&gt; &amp; co</title>" in html


@needs_chromium
def test_the_report_renders_with_its_plots_in_headless_chromium(html_report: Path) -> None:
    dom = chromium("--dump-dom", html_report.as_uri()).stdout
    minilm = read_results(html_report.parent / "results" / "minilm")
    bm25 = read_results(html_report.parent / "results" / "bm25")
    # The parsed DOM holds the leaderboard and the three plots, with one dot per model.
    assert "<table>" in dom
    assert "minilm (baseline)" in dom
    interval = re.search(r'<svg class="eg-plot eg-interval".*?</svg>', dom, re.S)
    assert interval is not None
    assert interval.group(0).count('class="point"') == 2
    assert f"minilm (baseline): {minilm.mean('ndcg@10'):.4f}" in interval.group(0)
    histogram = re.search(r'<svg class="eg-plot eg-histogram".*?</svg>', dom, re.S)
    assert histogram is not None
    # The bars count every query that changed; the unchanged ones are named in the title.
    d = bm25.scores("ndcg@10") - minilm.scores("ndcg@10")
    counts = [int(c) for c in re.findall(r"<title>(\d+) queries with", histogram.group(0))]
    assert sum(counts) == int(np.count_nonzero(d))
    assert f"({int((d == 0).sum())} unchanged not shown)" in histogram.group(0)
    assert 'class="eg-plot eg-slices"' in dom


@needs_chromium
def test_a_screenshot_of_the_report_is_not_blank(html_report: Path, tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", html_report.as_uri())
    image = np.asarray(image_module.open(shot).convert("RGB"), dtype=np.float64)
    assert image.shape[:2] == (2000, 1280)
    # A rendered page has text, table rules and coloured plot marks: many distinct colours,
    # and the red and green of the marks and bars are there.
    colours = {tuple(px) for px in image[::4, ::4].reshape(-1, 3).astype(int).tolist()}
    assert len(colours) > 50
    red = (image[..., 0] > 180) & (image[..., 1] < 80) & (image[..., 2] < 80)
    green = (image[..., 1] > 100) & (image[..., 0] < 60) & (image[..., 2] < 90)
    assert red.sum() > 100
    assert green.sum() > 100
