"""Simulated per-query scores of two models, for calibration and power studies.

Real per-query IR scores are bounded, lumpy and paired: many queries score 0 (nothing relevant
retrieved) or 1 (a perfect ranking), scores take few distinct values, two models agree on most
of a query's difficulty, and a good share of queries get exactly the same ranking from both
(a zero difference). :class:`ScoreModel` produces such data, so the tests in
:mod:`embedgate.stats` can be checked where they are used: the rejection rate under a true null,
and the power under a planted effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special as spc

from embedgate.stats._common import FloatArray, Seed, check_finite, invalid, rng_from

__all__ = ["ScoreModel"]


@dataclass(frozen=True, slots=True)
class ScoreModel:
    """A generative model of paired per-query scores in [0, 1] (nDCG-like).

    For each query: a difficulty ``u ~ N(0, 1)`` shared by both models; the baseline's latent
    quality ``x_a = u + noise * e_a``; the candidate's ``x_b = u + noise * e_b + shift``, except
    that with probability ``same`` it returns the baseline's ranking (``x_b = x_a``: a zero
    difference). A latent ``x`` becomes a score through ``q = Phi(x / sqrt(1 + noise^2))``
    (uniform on (0, 1) when ``shift = 0``), ``s = clip((q - floor) / (ceiling - floor), 0, 1)``,
    rounded to multiples of ``1 / levels``: a point mass of ``floor`` at 0, of ``1 - ceiling`` at
    1, and ties in between.

    With ``shift = 0`` the two models are exchangeable on every query, so ``b - a`` is symmetric
    about 0 and the null of every paired test holds exactly. A nonzero ``shift`` plants an
    effect in the latent scale; its size on the score scale comes from :meth:`moments`.

    Attributes:
        same: share of queries both models rank identically.
        noise: SD of each model's own deviation from the shared difficulty.
        floor: share of scores at 0 for the baseline.
        ceiling: 1 minus the share of scores at 1 for the baseline.
        levels: scores are multiples of ``1 / levels``.

    Example:
        >>> a, b = ScoreModel().sample(2, 5, seed=3)
        >>> a.shape, bool(((a >= 0) & (a <= 1)).all())
        ((2, 5), True)
    """

    same: float = 0.3
    noise: float = 0.6
    floor: float = 0.25
    ceiling: float = 0.85
    levels: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.same < 1:
            raise invalid(f"same must be in [0, 1), got {self.same}.")
        if not self.noise > 0:
            raise invalid(f"noise must be > 0, got {self.noise}.")
        if not 0 <= self.floor < self.ceiling <= 1:
            raise invalid(f"need 0 <= floor < ceiling <= 1, got {self.floor}, {self.ceiling}.")
        if self.levels < 1:
            raise invalid(f"levels must be >= 1, got {self.levels}.")

    def _score(self, x: FloatArray) -> FloatArray:
        q = spc.ndtr(x / math.sqrt(1.0 + self.noise**2))
        s = np.clip((q - self.floor) / (self.ceiling - self.floor), 0.0, 1.0)
        out: FloatArray = np.round(s * self.levels) / self.levels
        return out

    def sample(
        self, n_datasets: int, n_queries: int, *, shift: float = 0.0, seed: Seed = 0
    ) -> tuple[FloatArray, FloatArray]:
        """Baseline and candidate scores, each of shape ``(n_datasets, n_queries)``."""
        shift = check_finite("shift", shift)
        if n_datasets < 1 or n_queries < 1:
            raise invalid("n_datasets and n_queries must be >= 1.")
        rng = rng_from(seed)
        shape = (n_datasets, n_queries)
        u = rng.standard_normal(shape)
        xa = u + self.noise * rng.standard_normal(shape)
        xb = u + self.noise * rng.standard_normal(shape) + shift
        xb = np.where(rng.random(shape) < self.same, xa, xb)
        return self._score(xa), self._score(xb)

    def moments(
        self, *, shift: float = 0.0, size: int = 4_000_000, seed: Seed = 0
    ) -> tuple[float, float]:
        """Population mean and SD of ``b - a`` at ``shift``, estimated from ``size`` queries.

        The standard error of the mean is about ``SD / sqrt(size)`` (under 1e-4 by default).
        """
        a, b = self.sample(1, size, shift=shift, seed=seed)
        d = (b - a)[0]
        return float(d.mean()), float(d.std(ddof=1))
