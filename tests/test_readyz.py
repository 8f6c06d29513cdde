"""/readyz follows the store: a pod whose database is gone stops receiving traffic but is not restarted.

In its own module: a second waitress server alive beside another one in the same process can close
the other's trigger socket on stop.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.config import Settings
from bot.slack.serve import Server
from tests.slack_double import SIGNING_SECRET, SlackDouble


def test_readyz_follows_the_store(slack: SlackDouble, tmp_path: Path) -> None:
    from bot.store import Store

    database = tmp_path / "meshbot.sqlite"
    store = Store(f"sqlite:///{database}")
    settings = Settings(
        slack_bot_token=slack.bot_token, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url
    )
    srv = Server(settings, "http", read_cluster=None, host="127.0.0.1", port=0, store_ready=store.reachable)
    srv.start()
    try:
        base = f"http://127.0.0.1:{srv.port}"
        with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
            assert response.status == 200
        store.close()
        database.unlink()
        database.mkdir()  # the file is gone and its path cannot be opened as a database any more
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base + "/readyz", timeout=5)
        assert caught.value.code == 503
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            assert response.status == 200  # alive, just not ready: Kubernetes stops routing, does not restart
    finally:
        srv.stop(grace=2)
