"""Model adapters behind one protocol: ``embed(texts, role)`` plus ``info``."""

from __future__ import annotations

from embedgate.models.base import Embedder, ModelInfo, Role, fingerprint_identity

__all__ = ["Embedder", "ModelInfo", "Role", "fingerprint_identity"]
