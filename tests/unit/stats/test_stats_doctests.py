"""The examples in the stats docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "embedgate.stats",
    "embedgate.stats.bootstrap",
    "embedgate.stats.multiple",
    "embedgate.stats.paired",
    "embedgate.stats.power",
    "embedgate.stats.simulation",
    "embedgate.stats.verdicts",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
