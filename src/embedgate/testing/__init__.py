"""Test helpers shipped with embedgate, for its own tests and for teams testing their suites.

`LoopbackServer` speaks the OpenAI and Gemini embedding wire formats on ``127.0.0.1`` with
deterministic vectors, records every request and injects faults on cue; `FakeClock` makes the
API adapters' backoff and rate-limit waits instant. Nothing here imports pytest.

Example:
    >>> from embedgate.models.openai import OpenAIEmbedder
    >>> from embedgate.models import Role
    >>> with LoopbackServer(openai_key=None) as server:
    ...     model = OpenAIEmbedder(base_url=server.openai_base_url, api_key_env="none",
    ...                            dimensions=16)
    ...     model.clock = FakeClock()
    ...     server.inject("unavailable", retry_after=3)
    ...     vectors = model.embed(["hello", "world"], Role.QUERY)
    >>> vectors.shape, server.request_count, model.clock.sleeps[0] >= 3
    ((2, 16), 2, True)
"""

from __future__ import annotations

from embedgate.models._remote import FakeClock
from embedgate.testing.loopback import FAULT_KINDS, Fault, LoopbackServer, RecordedRequest

__all__ = ["FAULT_KINDS", "FakeClock", "Fault", "LoopbackServer", "RecordedRequest"]
