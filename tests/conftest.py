"""Shared test settings: a non-interactive matplotlib backend and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def cdnow_calibration():
    """The CDNOW sample summarised over its 39-week calibration period, in weeks."""
    import crmlab as cl

    return cl.cdnow.calibration()


# Property tests draw the same examples on every run and keep no example database, so
# that CI is deterministic and a fresh clone behaves like the last one.
settings.register_profile("crmlab", derandomize=True, database=None)
settings.load_profile("crmlab")
