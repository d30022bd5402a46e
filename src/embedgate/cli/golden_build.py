"""``embedgate golden build`` and ``embedgate golden export``: a golden set from documents.

``build`` wires the library (`embedgate.datasets.build`, which never imports a model) to a
chat adapter (`embedgate.models.chat`) for the candidate queries and to a reference model
(MiniLM through the embedding cache by default, or BM25) for the retrieval check. ``export``
turns the accepted items of the review file into a BEIR dataset with a ``DATASET.md`` card.
Progress goes to stderr; errors are `EmbedgateError` and exit with status 2 (see
`embedgate.cli.main`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from embedgate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt

    from embedgate.datasets.build import Passage, Retrieve

__all__ = ["make_reference_retriever", "register"]

DEFAULT_CACHE = Path(".embedgate") / "cache.sqlite"
DEFAULT_REFERENCE = "st:all-MiniLM-L6-v2"


def _say(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def make_reference_retriever(
    spec_text: str, passages: Sequence[Passage], *, cache_path: Path, models_dir: Path | None
) -> Retrieve:
    """A `Retrieve` over ``passages`` with the model ``spec_text`` (dense through the cache).

    Passages are embedded once, as documents (``title + " " + text``, as evaluation does);
    each call embeds its queries and searches exactly.
    """
    from embedgate.cache import EmbeddingCache
    from embedgate.datasets import Document
    from embedgate.evaluation import CachedEmbedding
    from embedgate.models import LexicalModel, Role, load_model
    from embedgate.retrieval.dense import exact_search
    from embedgate.specs import parse_model_spec

    spec = parse_model_spec(spec_text)
    model = load_model(spec, models_dir=models_dir or cache_path.parent / "models")
    doc_ids = [p.id for p in passages]
    doc_texts = [Document(p.id, p.title, p.text).full_text for p in passages]
    if isinstance(model, LexicalModel):
        lexical = model

        def search_lexical(texts: Sequence[str], k: int) -> list[list[str]]:
            ids = [f"c{i}" for i in range(len(texts))]
            run = lexical.search(doc_texts, doc_ids, list(texts), ids, k=k)
            return [[doc for doc, _ in run.ranked(i)] for i in range(len(texts))]

        return search_lexical

    def embed(texts: Sequence[str], role: Role) -> npt.NDArray[np.float32]:
        with EmbeddingCache(cache_path) as cache:
            return CachedEmbedding(model, cache, None)(texts, role)

    doc_vectors = embed(doc_texts, Role.DOCUMENT)

    def search_dense(texts: Sequence[str], k: int) -> list[list[str]]:
        query_vectors = embed(texts, Role.QUERY)
        run = exact_search(
            query_vectors,
            doc_vectors,
            query_ids=[f"c{i}" for i in range(len(texts))],
            doc_ids=doc_ids,
            k=k,
        )
        return [[doc for doc, _ in run.ranked(i)] for i in range(len(texts))]

    return search_dense


def _languages(raw: str) -> tuple[str, ...]:
    langs = tuple(x.strip() for x in raw.split(",") if x.strip())
    if not langs:
        raise ConfigError(f"--languages {raw!r} names no language; write e.g. 'en' or 'en,de'.")
    return langs


def _build(args: argparse.Namespace) -> int:
    from embedgate.datasets.build import BuildSettings, build
    from embedgate.models.chat import load_chat_model

    if args.k < 1:
        raise ConfigError(f"--k must be at least 1, not {args.k}.")
    chat = load_chat_model(
        args.llm,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        temperature=args.temperature,
        timeout=args.timeout,
        max_retries=args.max_retries,
        requests_per_minute=args.requests_per_minute,
    )
    reference = None if args.reference.strip().lower() == "none" else args.reference
    settings = BuildSettings(
        passage_tokens=args.passage_tokens,
        overlap=args.overlap,
        per_passage=args.per_passage,
        languages=_languages(args.languages),
        llm=chat.label,
        llm_settings={k: v for k, v in chat.identity().items() if k not in ("provider", "model")},
        reference=reference or "",
        k=args.k,
        copy_ngram=args.copy_ngram,
        retry_failed=args.retry_failed,
    )
    print(f"golden build: {args.docs} -> {args.out} with {chat.label}", file=sys.stderr)

    make_retriever = None
    if reference is not None:
        spec_text = reference

        def make_retriever(passages: Sequence[Passage]) -> Retrieve:
            return make_reference_retriever(
                spec_text, passages, cache_path=Path(args.cache), models_dir=args.models_dir
            )

    result = build(
        args.docs,
        args.out,
        generate=chat.generate,
        settings=settings,
        make_retriever=make_retriever,
        overwrite_review=args.overwrite_review,
        progress=_say,
    )
    usage = chat.usage()
    if usage["requests"]:
        print(
            f"{chat.label}: {usage['requests']} requests ({usage['retries']} retries), "
            f"{usage['input_tokens']} input and {usage['output_tokens']} output tokens",
            file=sys.stderr,
        )
    review = result.folder / "review.jsonl"
    print(
        f"wrote {review}: {result.statuses.get('accepted', 0)} accepted, "
        f"{result.statuses.get('pending', 0)} pending, {result.statuses.get('rejected', 0)} "
        f"rejected. Review it, then: embedgate golden export {result.folder}"
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    from embedgate.datasets.build import export, lint_summary

    result = export(
        args.build_dir, args.out, name=args.name, lint=None if args.no_lint else lint_summary
    )
    ds = result.dataset
    print(
        f"exported {ds.name}: {len(ds.queries)} queries, {len(ds.corpus)} passages, "
        f"{ds.n_judgements} judgements to {result.folder} (fingerprint {ds.fingerprint[:12]}); "
        f"card {result.folder / 'DATASET.md'}"
    )
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``golden build`` and ``golden export``."""
    build = commands.add_parser(
        "build",
        help="generate candidate queries for a folder of documents with an LLM",
        description="Split the documents (.md, .txt, .html) into overlapping passages, ask an "
        "LLM for candidate queries per passage, filter them (duplicates, copies of the "
        "passage, languages, a reference model's top k) and write OUT/review.jsonl for a "
        "person to review. Replies are saved as they arrive; rerunning resumes.",
    )
    build.add_argument("docs", type=Path, help="folder of documents")
    build.add_argument("--out", required=True, type=Path, help="build (and dataset) folder")
    build.add_argument(
        "--llm",
        default="openai:gpt-4o-mini",
        metavar="SPEC",
        help="chat model: openai:MODEL or gemini:MODEL (default: openai:gpt-4o-mini); keys from "
        "OPENAI_API_KEY, or GEMINI_API_KEY / GOOGLE_API_KEY",
    )
    build.add_argument("--base-url", help="API root of an OpenAI-compatible or proxy server")
    build.add_argument("--api-key-env", help="env var holding the key ('none' for no key)")
    build.add_argument("--temperature", type=float, default=0.7, help="default: 0.7")
    build.add_argument("--timeout", type=float, default=120.0, help="seconds per reply")
    build.add_argument("--max-retries", type=int, default=6, help="retries per prompt")
    build.add_argument("--requests-per-minute", type=int, help="client-side rate limit")
    build.add_argument(
        "--languages", default="en", help="comma-separated language tags (default: en)"
    )
    build.add_argument("--per-passage", type=int, default=4, help="queries per passage")
    build.add_argument("--passage-tokens", type=int, default=160, help="passage size in tokens")
    build.add_argument("--overlap", type=int, default=32, help="overlap in tokens")
    build.add_argument(
        "--reference",
        default=DEFAULT_REFERENCE,
        metavar="SPEC",
        help=f"model for the retrieval check (default: {DEFAULT_REFERENCE}; bm25; none)",
    )
    build.add_argument("--k", type=int, default=5, help="reference top k (default: 5)")
    build.add_argument(
        "--copy-ngram", type=int, default=6, help="words in a row that make a copy (default: 6)"
    )
    build.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("EMBEDGATE_CACHE", DEFAULT_CACHE)),
        help=f"embedding cache file (default: $EMBEDGATE_CACHE or {DEFAULT_CACHE})",
    )
    build.add_argument("--models-dir", type=Path, default=None, help="where models are kept")
    build.add_argument(
        "--retry-failed", action="store_true", help="ask again where replies were unusable"
    )
    build.add_argument(
        "--overwrite-review",
        action="store_true",
        help="replace a review.jsonl that was edited since the last build",
    )
    build.set_defaults(handler=_build)

    export = commands.add_parser(
        "export",
        help="write the accepted items of a build as a BEIR dataset with a DATASET.md card",
        description="Read BUILD_DIR/review.jsonl and write corpus.jsonl, queries.jsonl, "
        "qrels/test.tsv and DATASET.md (sources, counts, languages, generation settings, "
        "lint summary, fingerprint).",
    )
    export.add_argument("build_dir", type=Path, help="the folder golden build wrote")
    export.add_argument("--out", type=Path, default=None, help="default: BUILD_DIR itself")
    export.add_argument("--name", default=None, help="dataset name (default: the folder's)")
    export.add_argument("--no-lint", action="store_true", help="leave the lint out of the card")
    export.set_defaults(handler=_export)
