"""Statistics on paired per-query scores: tests, intervals, corrections, verdicts and power.

Everything here compares a baseline ``a`` and a candidate ``b`` through their per-query scores
on one metric and one dataset, aligned by query id; differences are ``b - a``. Pure: numpy and
scipy only, no pytest, no global random state (randomized procedures take ``seed``).

Example:
    >>> from embedgate.stats import non_inferiority
    >>> v = non_inferiority(base, cand, margin=0.01, baseline="minilm",
    ...                     candidate="static-minilm", metric="nDCG@10", dataset="scifact")
    ...                                                                 # doctest: +SKIP
    >>> v.passed, v.sentence()                                          # doctest: +SKIP
"""

from __future__ import annotations

from embedgate.stats.bootstrap import (
    EffectSize,
    Interval,
    PairedBootstrap,
    cohens_dz,
    effect_size,
    mean_difference_interval,
    paired_bootstrap,
    t_interval,
)
from embedgate.stats.multiple import CORRECTIONS, adjust, bonferroni_adjust, holm_adjust
from embedgate.stats.paired import (
    TESTS,
    PairedTest,
    paired_test,
    randomization_test,
    t_test,
    wilcoxon_test,
)
from embedgate.stats.power import (
    PowerReport,
    minimum_detectable_effect,
    power_at,
    power_report,
    queries_needed,
)
from embedgate.stats.simulation import ScoreModel
from embedgate.stats.verdicts import (
    Verdict,
    correct,
    equivalence,
    non_inferiority,
    superiority,
)

__all__ = [
    "CORRECTIONS",
    "TESTS",
    "EffectSize",
    "Interval",
    "PairedBootstrap",
    "PairedTest",
    "PowerReport",
    "ScoreModel",
    "Verdict",
    "adjust",
    "bonferroni_adjust",
    "cohens_dz",
    "correct",
    "effect_size",
    "equivalence",
    "holm_adjust",
    "mean_difference_interval",
    "minimum_detectable_effect",
    "non_inferiority",
    "paired_bootstrap",
    "paired_test",
    "power_at",
    "power_report",
    "queries_needed",
    "randomization_test",
    "superiority",
    "t_interval",
    "t_test",
    "wilcoxon_test",
]
