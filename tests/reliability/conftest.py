"""Reliability suites: hypothesis profiles and the running bot the fuzz tests drive.

`HYPOTHESIS_PROFILE=long` runs the long form (many more examples, both databases); the default
is a short form sized for CI. The profiles are applied to these tests only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import HealthCheck, settings

from tests.reliability.world import World

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
LONG = PROFILE == "long"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

_BASE = settings(
    deadline=None,
    derandomize=not LONG,  # CI: the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.register_profile("fuzz-ci", _BASE, max_examples=12)
settings.register_profile("fuzz-long", _BASE, max_examples=400)
FUZZ = settings.get_profile("fuzz-long" if LONG else "fuzz-ci")
BACKENDS = ["sqlite", "postgresql"] if LONG else ["sqlite"]


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The bot with its personas, once per module (and backend)."""
    w = World(str(request.param), tmp_path_factory.mktemp("fuzz"), PG_URL)
    try:
        w.open()
    except (OSError, asyncpg.PostgresError) as exc:
        w.close()
        if IN_CI:
            raise
        pytest.skip(f"{request.param} unavailable: {exc}")
    try:
        yield w
    finally:
        w.close()
