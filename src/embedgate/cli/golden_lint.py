"""``embedgate golden lint`` and ``embedgate golden split``: check a golden set, then split it.

The lint itself lives in `embedgate.datasets.lint` and takes whatever needs a model as
callables; this module wires in a model (the suite's baseline, or ``st:all-MiniLM-L6-v2``) and
the embedding cache, with the same cache key the evaluation uses, so a set the suite has
already embedded is linted without embedding anything again.

Exit status of ``lint``: 0 when no finding reaches ``--fail-on`` (``error`` by default), 1 when
one does (a folder that does not load is such a finding), 2 on bad input (no dataset there, a
bad option).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embedgate.errors import ConfigError

__all__ = ["cached_embed", "default_model_spec", "register", "token_counter"]

DEFAULT_CACHE = Path(".embedgate") / "cache.sqlite"
DEFAULT_MODEL = "st:all-MiniLM-L6-v2"


def default_model_spec(start: Path | None = None) -> tuple[Any, Path | None]:
    """The suite's baseline from the nearest ``[tool.embedgate]`` config, else MiniLM.

    Returns:
        ``(ModelSpec, models_dir or None)``.
    """
    from embedgate.config import find_config, load_config
    from embedgate.specs import parse_model_spec

    found = find_config(start or Path.cwd())
    if found is not None:
        config = load_config(found)
        if config.baseline:
            return config.model(config.baseline), config.models_dir
    return parse_model_spec(DEFAULT_MODEL), None


def cached_embed(model: Any, cache: Any, role: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """``texts -> vectors`` for one role, through the cache under the evaluation's key, so
    vectors the suite or ``embedgate run`` stored are found here, and the other way round."""
    from embedgate.evaluation import CachedEmbedding

    return CachedEmbedding(model, cache, None).for_role(role)


def token_counter(model: Any) -> Callable[[Sequence[str]], list[int]] | None:
    """Count tokens as the model does (its ``count_tokens``); None when it cannot tell, and
    the lint estimates."""
    own = getattr(model, "count_tokens", None)
    if callable(own):
        return lambda texts: [int(n) for n in own(texts)]
    return None


class _Models:
    """The embedding model and the cache for one command, opened lazily."""

    def __init__(self, args: argparse.Namespace) -> None:
        from embedgate.specs import parse_model_spec

        self.notes: list[str] = []
        self.specs = [parse_model_spec(s) for s in args.model] if args.model else []
        models_dir = args.models_dir
        if not self.specs:
            spec, config_models_dir = default_model_spec()
            self.specs = [spec]
            models_dir = models_dir or config_models_dir
        self.models_dir = models_dir or Path(args.cache).parent / "models"
        self.cache_path = Path(args.cache)
        self.cache: Any = None
        self.enabled = not args.no_embeddings

    def load(self) -> list[Any]:
        from embedgate.errors import MissingCredentials, MissingDependency
        from embedgate.models import load_model

        loaded = []
        for spec in self.specs:
            print(f"model {spec.name}: loading {spec.provider}:{spec.model}", file=sys.stderr)
            try:
                loaded.append(load_model(spec, models_dir=self.models_dir))
            except (MissingDependency, MissingCredentials) as exc:
                self.notes.append(f"model {spec.name}: {exc}")
        return loaded

    def open_cache(self) -> Any:
        from embedgate.cache import EmbeddingCache

        if self.cache is None:
            self.cache = EmbeddingCache(self.cache_path)
        return self.cache

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


def _dense(models: Sequence[Any]) -> Any:
    from embedgate.models import Embedder

    return next((m for m in models if isinstance(m, Embedder)), None)


def _read_all_results(paths: Sequence[Path]) -> list[Any]:
    from embedgate.errors import ResultsError
    from embedgate.evaluation import read_results

    found = []
    for path in paths:
        if path.is_dir() and not (path / "results.json").is_file():
            files = sorted(path.glob("*/results.json"))
            if not files:
                raise ResultsError(
                    f"{path}: no results.json in it or in its sub-folders. Pass the folder "
                    "'embedgate run --out' wrote, or a results.json."
                )
            found += [read_results(f) for f in files]
        else:
            found.append(read_results(path))
    return found


def _lint(args: argparse.Namespace) -> int:
    from embedgate.datasets import LintOptions, detect_layout, load_dataset
    from embedgate.datasets.lint import TokenLimit, failed_report, lint
    from embedgate.errors import DatasetError
    from embedgate.models import Role

    if not 0.0 < args.near_duplicate <= 1.0:
        raise ConfigError(
            f"--near-duplicate {args.near_duplicate} is not a cosine similarity in (0, 1]; "
            "use e.g. 0.95."
        )
    options = LintOptions(
        near_duplicate=args.near_duplicate,
        seed=args.seed,
        target_effect=args.target_effect or _config_margin(),
    )
    results = _read_all_results(args.results or [])
    detect_layout(args.dataset)  # no dataset at all is bad input (exit 2), not a finding
    try:
        dataset = load_dataset(args.dataset, split=args.split)
    except DatasetError as exc:
        report = failed_report(args.dataset, args.split, exc)
        return _emit(report, args)
    print(
        f"dataset {dataset.name} ({dataset.split}): {len(dataset.corpus)} documents, "
        f"{len(dataset.queries)} queries",
        file=sys.stderr,
    )
    models = _Models(args)
    dense = None
    try:
        kwargs: dict[str, Any] = {}
        loaded = models.load()
        dense = _dense(loaded)
        limits = [
            TokenLimit(m.info.name, m.info.max_tokens, token_counter(m))
            for m in loaded
            if m.info.max_tokens
        ]
        if models.enabled and dense is not None:
            cache = models.open_cache()
            kwargs["embed_documents"] = cached_embed(dense, cache, Role.DOCUMENT)
            kwargs["embed_queries"] = cached_embed(dense, cache, Role.QUERY)
            print(f"embedding with {dense.info.name} through {models.cache_path}", file=sys.stderr)
        report = lint(dataset, token_limits=limits, results=results, options=options, **kwargs)
    finally:
        models.close()
    notes = list(models.notes)
    if args.no_embeddings:
        notes.append("embeddings: --no-embeddings was given.")
    elif dense is None:
        notes.append("embeddings: no dense model among --model.")
    if notes:
        from dataclasses import replace

        report = replace(report, notes=(*report.notes, *notes))
    return _emit(report, args)


def _config_margin() -> float:
    """The suite's non-inferiority margin (what a swap must detect), else 0.02."""
    from embedgate.config import find_config, load_config

    found = find_config(Path.cwd())
    return load_config(found).compare.margin if found is not None else 0.02


def _emit(report: Any, args: argparse.Namespace) -> int:
    from embedgate.datasets._io import plural

    if args.format == "json":
        text = json.dumps(report.to_dict(), indent=1, ensure_ascii=False) + "\n"
    elif args.format == "md":
        text = report.to_markdown()
    else:
        text = report.to_text()
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"report written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    status: int = report.exit_status(args.fail_on)
    counts = report.severities()
    print(
        f"golden lint: {plural(counts['error'], 'error')}, "
        f"{plural(counts['warning'], 'warning')}, {counts['info']} info; exit status {status} "
        f"(--fail-on {args.fail_on})",
        file=sys.stderr,
    )
    return status


def _split(args: argparse.Namespace) -> int:
    from embedgate.datasets import load_dataset, query_strata, split_queries, write_split
    from embedgate.datasets.lint import detect_languages, document_clusters
    from embedgate.models import Role

    dataset = load_dataset(args.dataset, split=args.split)
    languages: dict[str, str] = {}
    unstated = [q for q in dataset.queries if not q.language]
    if unstated:
        detected = detect_languages([q.text for q in unstated])
        languages = {q.id: lang for q, (lang, _) in zip(unstated, detected, strict=True)}
    topics: dict[str, str] = {}
    untagged = [q for q in dataset.queries if "topic" not in q.tags]
    if untagged and not args.no_embeddings:
        models = _Models(args)
        try:
            dense = _dense(models.load())
            if dense is not None:
                embed = cached_embed(dense, models.open_cache(), Role.DOCUMENT)
                vectors: npt.NDArray[np.float32] = embed(dataset.doc_texts)
                clusters = document_clusters(dataset, vectors, k=args.topics, seed=args.seed)
                for q in untagged:
                    relevant = sorted(dataset.relevant(q.id).items(), key=lambda kv: -kv[1])
                    cluster = next((clusters[d] for d, _ in relevant if d in clusters), None)
                    if cluster is not None:
                        topics[q.id] = f"c{cluster}"
        finally:
            models.close()
    strata = query_strata(dataset, languages=languages, topics=topics)
    split = split_queries(dataset, dev=args.dev, seed=args.seed, strata=strata)
    out = write_split(dataset, split, args.out)
    print("stratum\tdev\ttest")
    for stratum, cell in split.table().items():
        print(f"{stratum}\t{cell['dev']}\t{cell['test']}")
    print(
        f"{len(split.dev)} dev and {len(split.test)} test queries (seed {args.seed}) written to "
        f"{out}: load them with split='dev' or split='test'.",
        file=sys.stderr,
    )
    return 0


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        metavar="SPEC",
        help="model spec, repeatable; the first dense one embeds, each one's max tokens is "
        f"checked (default: the suite's baseline, else {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("EMBEDGATE_CACHE", DEFAULT_CACHE)),
        help=f"embedding cache file (default: $EMBEDGATE_CACHE or {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="where models built on first use are kept"
    )
    parser.add_argument(
        "--no-embeddings",
        action="store_true",
        help="skip what needs embeddings (near duplicates, topics), with a note",
    )
    parser.add_argument("--split", default="test", help="qrels split to read (default: test)")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``golden lint`` and ``golden split``."""
    lint = commands.add_parser(
        "lint",
        help="check a dataset: clean, diverse, adequate",
        description="Check a golden dataset for duplicates, empty, short and over-long texts, "
        "unjudged queries, leakage, word-overlap answerability, diversity (lengths, query "
        "forms, languages, topics) and adequacy. Exit status: 0 when no finding reaches "
        "--fail-on, 1 when one does, 2 on bad input.",
    )
    lint.add_argument("dataset", type=Path, help="BEIR or golden dataset folder")
    _add_model_options(lint)
    lint.add_argument(
        "--format", choices=["text", "md", "json"], default="text", help="report format"
    )
    lint.add_argument("--out", type=Path, default=None, help="write the report here")
    lint.add_argument(
        "--near-duplicate",
        type=float,
        default=0.95,
        metavar="COS",
        help="cosine similarity from which two texts are near duplicates (default: 0.95)",
    )
    lint.add_argument(
        "--results",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="results.json files or folders of 'embedgate run' on this dataset, for the "
        "minimum detectable effect (the first is the baseline)",
    )
    lint.add_argument(
        "--fail-on",
        choices=["error", "warning"],
        default="error",
        help="the least severe finding that fails (default: error)",
    )
    lint.add_argument(
        "--target-effect",
        type=float,
        default=None,
        metavar="DELTA",
        help="difference in the main metric the set should detect at 80%% power (default: the "
        "suite's [tool.embedgate.compare] margin, else 0.02)",
    )
    lint.add_argument("--seed", type=int, default=0, help="seed of k-means and samples")
    lint.set_defaults(handler=_lint)

    split = commands.add_parser(
        "split",
        help="split queries into dev and test, stratified by language and topic",
        description="Write DATASET as a BEIR folder with qrels/dev.tsv and qrels/test.tsv: a "
        "seeded split of the queries, stratified by language (stated, else detected) and topic "
        "(tags.topic, else the document cluster of the query's best relevant document).",
    )
    split.add_argument("dataset", type=Path, help="BEIR or golden dataset folder")
    split.add_argument("--out", type=Path, required=True, help="new or empty folder to write")
    split.add_argument("--dev", type=float, default=0.3, help="share of dev queries (0.3)")
    split.add_argument("--seed", type=int, default=0, help="seed of the split (default: 0)")
    split.add_argument(
        "--topics", type=int, default=None, help="document clusters for topics (default: auto)"
    )
    _add_model_options(split)
    split.set_defaults(handler=_split)
