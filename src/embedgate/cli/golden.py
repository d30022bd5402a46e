"""``embedgate golden``: lint, split, build and export a golden dataset.

The subcommands live in `embedgate.cli.golden_lint` (lint, split) and
`embedgate.cli.golden_build` (build, export); this module only groups them.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``golden`` command and its subcommands."""
    from embedgate.cli import golden_build, golden_lint

    golden = sub.add_parser(
        "golden",
        help="create and check a golden dataset",
        description="Lint a dataset for clean, diverse and adequate data; split it into dev "
        "and test; build one from a folder of documents and export the reviewed items.",
    )
    commands = golden.add_subparsers(dest="golden_command", required=True)
    golden_lint.register(commands)
    golden_build.register(commands)
