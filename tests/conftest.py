"""Shared pytest fixtures. Each helper adds its own fixtures here, additively."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kube_double import KubeDouble

from tests.slack_double import SlackDouble

FIXTURES = Path(__file__).with_name("fixtures")
SMALL_CLUSTER = FIXTURES / "small-cluster.yaml"


@pytest.fixture
def kube_double_factory() -> Iterator[Callable[..., KubeDouble]]:
    """Start kube-apiserver doubles (same arguments as KubeDouble); all are stopped after the test."""
    started: list[KubeDouble] = []

    def start(*dumps: Path | str, **kwargs: Any) -> KubeDouble:
        double = KubeDouble(dumps, **kwargs).start()
        started.append(double)
        return double

    yield start
    for double in started:
        double.stop()


@pytest.fixture
def kube_double(kube_double_factory: Callable[..., KubeDouble]) -> KubeDouble:
    """The small realistic cluster (tests/fixtures/small-cluster.yaml), every Istio CRD installed."""
    return kube_double_factory(SMALL_CLUSTER, crd_groups="all")


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    """A Slack Web API double for one test (modules that share one override this with their own scope)."""
    double = SlackDouble().start()
    yield double
    double.stop()


@pytest.fixture(autouse=True, scope="session")
def user_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The CLI's default store lives in the user's data directory (platformdirs honours XDG_DATA_HOME on
    Linux): point it at a temporary folder, so no test writes into the home of whoever runs the suite."""
    import os

    home = tmp_path_factory.mktemp("xdg-data")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture(autouse=True, scope="session")
def _knowledge_cache_in_a_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The engine cache (knowledge/answers/cache.py) goes to a temporary dir, never the user's cache dir."""
    import os

    previous = os.environ.get("MESHBOT_CACHE_DIR")
    os.environ["MESHBOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("meshbot-cache"))
    yield
    if previous is None:
        os.environ.pop("MESHBOT_CACHE_DIR", None)
    else:
        os.environ["MESHBOT_CACHE_DIR"] = previous


# --- a real PostgreSQL (server helper, issue 11 §5) ---------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One PostgreSQL server for the session (tests/pg_server.py); tests take a fresh database each."""
    from pg_server import PostgresServer

    with PostgresServer.temporary() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's URL on each backend: a SQLite file, and a fresh database on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meshbot.sqlite'}"
    server = request.getfixturevalue("postgres")
    return str(server.fresh_database())
