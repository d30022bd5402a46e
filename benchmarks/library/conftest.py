"""Library benchmarks: our code timed against its peers (pytrec_eval, ranx, faiss) in one run.

Tests marked ``slow`` (minutes each: the million-vector search, the 10,000-set calibration)
run only with ``EMBEDGATE_RUN_SLOW=1``, so ``pytest benchmarks/`` stays a CI-sized job.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("EMBEDGATE_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow library benchmark; set EMBEDGATE_RUN_SLOW=1 to run it")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
