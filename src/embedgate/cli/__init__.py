"""The command-line front end: ``embedgate run``, ``compare``, ``golden`` and ``report``.

A thin layer over the library calls the pytest plugin also makes. Each module here registers
its commands; `main` parses arguments, and turns `EmbedgateError` into a one-line message and
exit status 2. Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from embedgate import __version__
from embedgate.cli import golden, report, run
from embedgate.errors import EmbedgateError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="embedgate",
        description="Evaluate embedding models on your own golden dataset.",
    )
    parser.add_argument("--version", action="version", version=f"embedgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (run, golden, report):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``embedgate`` console script."""
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except EmbedgateError as exc:
        print(f"embedgate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "embedgate: interrupted; everything paid for so far is in the cache.", file=sys.stderr
        )
        return 130
