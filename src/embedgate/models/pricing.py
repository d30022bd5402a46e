"""List prices of hosted embedding models, in USD per million input tokens.

**Dated and approximate.** These are the providers' published standard (non-batch, paid tier)
prices as of `PRICES_AS_OF`; providers change them without notice, and discounts (OpenAI's
Batch API, Gemini's batch mode or free tier, negotiated rates) are not reflected. They feed
the ``estimated_cost_usd`` an adapter reports, which is an estimate, not a bill. Override a
model's price with the ``price_per_million`` model option; a model not listed here, or one
served from another endpoint (an OpenAI-compatible server), has no price unless given one.

Sources: https://openai.com/api/pricing and https://ai.google.dev/gemini-api/docs/pricing.
This table was last checked in the month of `PRICES_AS_OF` against third-party copies of
those pages (embeddingcost.com/google, "verified April 2026"; tokencost.app on
gemini-embedding-2-preview), since the providers' pages cannot be reached from where it was
written; the figures agree with the ones first taken from the providers in 2025-07. Re-check
them there before trusting a cost figure.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PRICES", "PRICES_AS_OF", "price_per_million"]

#: The month the prices below were taken from the providers' pricing pages.
PRICES_AS_OF: Final = "2026-04"

#: ``(provider, model) -> USD per 1M input tokens``.
PRICES: Final[Mapping[tuple[str, str], float]] = MappingProxyType(
    {
        ("openai", "text-embedding-3-small"): 0.02,
        ("openai", "text-embedding-3-large"): 0.13,
        ("openai", "text-embedding-ada-002"): 0.10,
        ("gemini", "gemini-embedding-001"): 0.15,
        ("gemini", "gemini-embedding-2-preview"): 0.20,  # text input
    }
)


def price_per_million(provider: str, model: str) -> float | None:
    """The listed USD price per million input tokens, or ``None`` when the table has none.

    Example:
        >>> price_per_million("openai", "text-embedding-3-small")
        0.02
        >>> price_per_million("openai", "my-finetune") is None
        True
    """
    return PRICES.get((provider, model.removeprefix("models/")))
