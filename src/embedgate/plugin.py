"""The pytest front end of embedgate (grows with the suite issue)."""

from __future__ import annotations
