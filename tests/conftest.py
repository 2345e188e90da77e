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
# that CI is deterministic and a fresh clone behaves like the last one. No per-example
# deadline: speed is measured in benchmarks/, and a deadline fails at random on a busy
# 2-core runner.
settings.register_profile("crmlab", derandomize=True, database=None, deadline=None)
settings.load_profile("crmlab")


@pytest.fixture(scope="session")
def spark():
    """A real local Spark session (local[2]); skips without Java or pyspark, except in CI.

    ``CRMLAB_REQUIRE_SPARK=1`` (set by ``.ci/run``) turns a missing Java or pyspark into
    a failure, so that CI never counts a skipped Spark test as a pass.
    """
    import shutil

    required = os.environ.get("CRMLAB_REQUIRE_SPARK") == "1"
    reason = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reason = "pyspark is not installed (pip install -e '.[spark]')"
    if reason is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no Java runtime (apt-get install openjdk-17-jre-headless)"
    if reason is not None:
        if required:
            pytest.fail(f"CRMLAB_REQUIRE_SPARK=1 but {reason}")
        pytest.skip(reason)
    import sys

    from pyspark.sql import SparkSession

    # Spark's Python workers run this interpreter, with crmlab and pandas, not the system one.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("PYTHONPATH", str(REPO_ROOT))
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crmlab-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
