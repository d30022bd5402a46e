"""``python -m embedgate.cli``: the same as the ``embedgate`` console script."""

from __future__ import annotations

import sys

from embedgate.cli import main

sys.exit(main())
