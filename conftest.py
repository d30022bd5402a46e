"""Repository-wide pytest set-up for tests/ and benchmarks/: offline by default.

Set before any test module imports transformers, which reads these once. A team whose suite
may download models can drop the HF_HUB_OFFLINE line; embedgate's own suite never downloads.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tokenizers' thread pool and pytest-xdist's forks do not mix; embedding batches are large
# enough that the pool buys nothing here.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
