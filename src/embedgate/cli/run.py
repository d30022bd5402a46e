"""``embedgate run`` and ``embedgate compare``: evaluate models, then judge a swap."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from embedgate.errors import ConfigError

if TYPE_CHECKING:
    from embedgate.evaluation import Evaluation

__all__ = ["register"]

DEFAULT_CACHE = Path(".embedgate") / "cache.sqlite"


class _Progress:
    """One self-overwriting stderr line per stage while embedding."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        text = f"  {self.model}: embedding {stage} {done}/{total} ({elapsed:.0f}s)"
        if self.tty:
            end = "\n" if done == total else ""
            print(f"\r{text}", end=end, file=sys.stderr, flush=True)
        elif done == total:
            print(text, file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    from embedgate.cache import EmbeddingCache
    from embedgate.datasets import load_dataset
    from embedgate.evaluation import evaluate_model
    from embedgate.metrics import parse_metric
    from embedgate.models import load_model
    from embedgate.report import results_table
    from embedgate.specs import parse_model_spec

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1, not {args.k}.")
    models_dir = args.models_dir or Path(args.cache).parent / "models"
    specs = [parse_model_spec(s) for s in args.model]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"two models are named {', '.join(duplicates)}; name them apart with NAME=SPEC "
            "(for example 'minilm=st:all-MiniLM-L6-v2')."
        )
    metrics = [parse_metric(m) for m in args.metric] if args.metric else None
    dataset = load_dataset(args.dataset, split=args.split)
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"dataset {dataset.name} ({dataset.split}): {len(dataset.corpus)} documents, "
        f"{len(dataset.queries)} queries, fingerprint {dataset.fingerprint[:12]}",
        file=sys.stderr,
    )
    out = Path(args.out)
    evaluations = []
    with EmbeddingCache(args.cache) as cache:
        for spec in specs:
            print(f"model {spec.name}: loading {spec.provider}:{spec.model}", file=sys.stderr)
            model = load_model(spec, models_dir=models_dir)
            kwargs = {"metrics": metrics} if metrics else {}
            evaluation = evaluate_model(
                spec.name,
                model,
                dataset,
                cache=cache,
                k=args.k,
                progress=_Progress(spec.name),
                **kwargs,
            )
            evaluation.write(out / spec.name)
            print(f"model {spec.name}: {_spent(evaluation)}", file=sys.stderr)
            evaluations.append(evaluation)
    print(results_table(evaluations), end="")
    print(f"results written to {out}/<model>/results.json and run.trec", file=sys.stderr)
    return 0


def _spent(evaluation: Evaluation) -> str:
    """One line on what an evaluation cost: time, texts embedded, and money for API models."""
    hits = sum(c.get("hits", 0) for c in evaluation.cache.values())
    line = (
        f"{evaluation.timings['total_s']:.1f}s, embedded {evaluation.embedded()} texts, "
        f"cache hits {hits}"
    )
    usage = evaluation.usage
    if usage.get("estimated_cost_usd") is not None:
        line += f"; spent ~${usage['estimated_cost_usd']:.4f}"
    if usage.get("cache_saved_cost_usd") is not None:
        line += f", the cache saved ~${usage['cache_saved_cost_usd']:.4f}"
    return line


def _compare(args: argparse.Namespace) -> int:
    import json

    from embedgate.config import CompareSpec
    from embedgate.errors import ResultsError
    from embedgate.evaluation import read_results
    from embedgate.metrics import parse_metric
    from embedgate.suite import swap_verdict

    baseline, candidate = read_results(args.baseline), read_results(args.candidate)
    if baseline.fingerprint != candidate.fingerprint:
        raise ResultsError(
            f"{args.baseline} and {args.candidate} were computed on different data "
            f"(dataset fingerprints {baseline.fingerprint[:12]} and "
            f"{candidate.fingerprint[:12]}). Run both models on the same dataset version."
        )
    metric = parse_metric(args.metric).key
    compare = CompareSpec(
        metric=metric,
        margin=args.margin,
        alpha=args.alpha,
        test=args.test,
        resamples=args.resamples,
    )
    swap = swap_verdict(baseline, candidate, compare, seed=args.seed)
    if args.json:
        document = {"verdict": swap.verdict.to_dict(), "power": swap.power.to_dict()}
        print(json.dumps(document, indent=1, ensure_ascii=False))
    else:
        print(swap.verdict.sentence())
        print(swap.power.sentence())
    return 0 if swap.verdict.passed else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` and ``compare`` commands."""

    run = sub.add_parser(
        "run",
        help="evaluate models on a retrieval dataset",
        description="Embed a dataset with each model (through the cache), search, and score "
        "every query. Writes OUT/<model>/results.json and OUT/<model>/run.trec.",
    )
    run.add_argument("--dataset", required=True, type=Path, help="BEIR or golden dataset folder")
    run.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="SPEC",
        help="model spec, repeatable: st:all-MiniLM-L6-v2, model2vec:minilm-distilled, bm25",
    )
    run.add_argument("--out", required=True, type=Path, help="folder for results")
    run.add_argument("--split", default="test", help="qrels split (default: test)")
    run.add_argument("--k", type=int, default=100, help="search depth (default: 100)")
    run.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="metric, repeatable (default: a standard set)",
    )
    run.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("EMBEDGATE_CACHE", DEFAULT_CACHE)),
        help=f"embedding cache file (default: $EMBEDGATE_CACHE or {DEFAULT_CACHE})",
    )
    run.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="where models built on first use are kept (default: beside the cache)",
    )
    run.set_defaults(handler=_run)

    compare = sub.add_parser(
        "compare",
        help="is a candidate not worse than a baseline? (non-inferiority)",
        description="Read two results.json files of the same dataset and test whether the "
        "candidate is not worse than the baseline by more than --margin. Exit status: 0 when "
        "non-inferiority is shown, 1 when it is not, 2 on bad input.",
    )
    compare.add_argument("baseline", type=Path, help="the baseline's results.json (or folder)")
    compare.add_argument("candidate", type=Path, help="the candidate's results.json (or folder)")
    compare.add_argument("--metric", default="ndcg@10", help="metric (default: ndcg@10)")
    compare.add_argument(
        "--margin", type=float, default=0.01, help="non-inferiority margin δ (default: 0.01)"
    )
    compare.add_argument("--alpha", type=float, default=0.05, help="significance level")
    compare.add_argument(
        "--test",
        choices=["randomization", "t", "wilcoxon"],
        default="randomization",
        help="paired test (default: randomization; wilcoxon is refused for non-inferiority, "
        "with the reason)",
    )
    compare.add_argument("--resamples", type=int, default=10_000, help="Monte Carlo resamples")
    compare.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    compare.add_argument("--json", action="store_true", help="print the full result as JSON")
    compare.set_defaults(handler=_compare)
