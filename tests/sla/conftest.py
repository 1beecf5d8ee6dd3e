"""SLA tests: the real policies loaded, PostgreSQL-only tests skipped on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import app.api  # noqa: F401 - first: app.publisher cannot be imported on its own
from tests.conftest import ROOT
from tests.sla import dataset
from tickets import sla_rollup
from tickets.sla_policies import load_policies

POLICIES = ROOT / "data" / "sla" / "policies.csv"


def on_sqlite() -> bool:
    url = os.environ.get("TEST_DATABASE_URL")
    return bool(url) and make_url(url).get_backend_name() == "sqlite"


@pytest.fixture(autouse=True)
def _postgresql_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgresql_only") and on_sqlite():
        pytest.skip("needs PostgreSQL (concurrent sessions, percentile_cont)")


@pytest.fixture
def policies(session) -> Path:
    """The shipped policies in the database (idempotent; the rows may stay between tests)."""
    load_policies(session, Path(POLICIES))
    session.commit()
    return POLICIES


@pytest.fixture(params=["live", "rollup"])
def data(request, session, policies) -> dataset.Data:
    """The small fixed data set of tests/sla/dataset.py, committed; in the "rollup" run the
    daily rollup job has run too, so reports read whole past days from it."""
    built = dataset.build(session)
    if request.param == "rollup":
        assert sla_rollup.refresh(session, dataset.NOW, dataset.ZONE) > 0
    return built


@pytest.fixture
def live_data(session, policies) -> dataset.Data:
    """The fixed data set with no rollup: every figure is computed from the tickets."""
    return dataset.build(session)
