"""Shared test set-up: offline, no API keys, the shared datasets by path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

_SECRET_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
)


#: Settings a developer or CI may export for the suite; tests choose their own.
_SUITE_VARS = ("EMBEDGATE_DATASETS_ROOT", "EMBEDGATE_CACHE")


@pytest.fixture(autouse=True)
def _offline_and_keyless(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a real key or reaches a hub; a test that needs a key plants a fake one."""
    for var in (*_SECRET_VARS, *_SUITE_VARS):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``; tests that need it skip with a reason where it is absent."""
    root = Path(os.environ.get("EMBEDGATE_SHARED_DATASETS", SHARED_DATASETS))
    if not root.is_dir():
        pytest.skip(f"shared datasets not found at {root}; set EMBEDGATE_SHARED_DATASETS")
    return root
