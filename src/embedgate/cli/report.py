"""``embedgate report``: the leaderboard and per-query diffs of results folders, in five formats."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from embedgate.errors import ConfigError, ResultsError

if TYPE_CHECKING:
    from embedgate.datasets import RetrievalDataset
    from embedgate.evaluation import Evaluation
    from embedgate.report.diff import QueryDiff
    from embedgate.report.leaderboard import Leaderboard

__all__ = ["FORMATS", "collect_results", "register"]

FORMATS = ("md", "csv", "json", "latex", "html")


def collect_results(paths: list[Path]) -> list[tuple[Path, Evaluation]]:
    """Every ``results.json`` under ``paths`` (files or folders, searched recursively).

    Folders are walked in sorted order, so the same folders give the same table.

    Raises:
        ResultsError: a path that does not exist, or none holding a results.json.
    """
    from embedgate.evaluation import read_results

    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            hits = sorted(path.rglob("results.json"))
            if not hits:
                raise ResultsError(
                    f"{path}: no results.json in this folder or below it. Point at the --out "
                    "folder of 'embedgate run' or at the suite's results folder."
                )
            found.extend(hits)
        else:
            raise ResultsError(f"{path}: no such file or folder.")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [(p, read_results(p)) for p in unique]


def _diffs(
    results: list[tuple[Path, Evaluation]],
    baseline: str,
    datasets: list[RetrievalDataset],
    top: int,
) -> list[QueryDiff]:
    from embedgate.report.diff import load_run, query_diff

    by_fingerprint = {d.fingerprint: d for d in datasets}
    bases = {e.dataset: (p, e) for p, e in results if e.model == baseline}
    out = []
    for path, e in results:
        if e.model == baseline or e.dataset not in bases:
            continue
        base_path, base = bases[e.dataset]
        dataset = by_fingerprint.get(e.fingerprint)
        out.append(
            query_diff(
                base,
                e,
                dataset,
                baseline_run=load_run(base_path) if dataset else None,
                candidate_run=load_run(path) if dataset else None,
                top=top,
            )
        )
    return out


def render(
    fmt: str,
    board: Leaderboard,
    evaluations: list[Evaluation],
    diffs: list[QueryDiff],
    *,
    title: str,
    seed: int,
) -> str:
    """The report text in ``fmt`` (one of `FORMATS`)."""
    from embedgate.report.diff import diff_markdown
    from embedgate.report.formats import leaderboard_csv, leaderboard_latex, report_json
    from embedgate.report.html import report_html
    from embedgate.report.leaderboard import render_markdown

    depth = {e.dataset: e.k for e in evaluations}
    if fmt == "md":
        parts = [f"# {title}\n\n", render_markdown(board)]
        parts += ["\n" + diff_markdown(d, k=depth.get(d.dataset)) for d in diffs]
        return "".join(parts)
    if fmt == "csv":
        return leaderboard_csv(board)
    if fmt == "json":
        return report_json(board, diffs)
    if fmt == "latex":
        return leaderboard_latex(board)
    return report_html(board, evaluations, diffs, title=title, seed=seed)


def _report(args: argparse.Namespace) -> int:
    from embedgate.datasets import load_dataset
    from embedgate.report.leaderboard import build_leaderboard

    if args.top < 1:
        raise ConfigError(f"--top must be at least 1, not {args.top}.")
    if not 0 < args.alpha < 0.5:
        raise ConfigError(f"--alpha must lie between 0 and 0.5, not {args.alpha}.")
    results = collect_results(args.results)
    evaluations = [e for _, e in results]
    board = build_leaderboard(
        evaluations,
        baseline=args.baseline,
        alpha=args.alpha,
        seed=args.seed,
        resamples=args.resamples,
    )
    datasets = [load_dataset(p) for p in args.dataset]
    known = {e.fingerprint for e in evaluations}
    for d in datasets:
        if d.fingerprint not in known:
            raise ResultsError(
                f"--dataset {d.path}: its fingerprint {d.fingerprint[:12]} matches no results "
                "given; pass the dataset version the results were computed on."
            )
    diffs = _diffs(results, args.baseline, datasets, args.top) if args.baseline else []
    text = render(args.format, board, evaluations, diffs, title=args.title, seed=args.seed)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(
            f"{args.format} report of {len(board.rows)} model(s) on {len(board.datasets)} "
            f"dataset(s) written to {args.out}",
            file=sys.stderr,
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` command."""
    report = sub.add_parser(
        "report",
        help="leaderboard and per-query diffs of results folders (md, csv, json, latex, html)",
        description="Read every results.json under RESULTS_DIR (written by 'embedgate run' or "
        "the suite) and write an MTEB-style leaderboard: Borda rank over datasets, model "
        "size, means over datasets and task types, price and throughput; with --baseline, "
        "significance marks and, per candidate and dataset, the queries that gained and lost "
        "most (texts, ranks and slices need --dataset). md and latex leave out throughput, so "
        "the same results give the same file.",
    )
    report.add_argument("results", nargs="+", type=Path, metavar="RESULTS_DIR")
    report.add_argument("--format", choices=FORMATS, default="md", help="output format")
    report.add_argument("--out", type=Path, default=None, help="output file (default: stdout)")
    report.add_argument("--baseline", default=None, metavar="NAME", help="the baseline model")
    report.add_argument(
        "--dataset",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="dataset folder for query texts, answer ranks and slices (repeatable)",
    )
    report.add_argument(
        "--top", type=int, default=10, help="queries listed as gained/lost (default: 10)"
    )
    report.add_argument("--alpha", type=float, default=0.05, help="family-wise level of marks")
    report.add_argument("--seed", type=int, default=0, help="seed of resampled statistics")
    report.add_argument(
        "--resamples", type=int, default=10_000, help="Monte Carlo resamples per test"
    )
    report.add_argument("--title", default="embedgate report", help="report title")
    report.set_defaults(handler=_report)
