"""The stateful runtime shared by `serve`, `scheduler` and `digest now`: store, Slack poster, cluster reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.audit import audit_log, store_sink
from bot.cluster_source import for_channel
from bot.config import Settings, SettingsError
from bot.poster import SlackPoster
from bot.state import BotState
from bot.store import Store, StoreError
from bot.traffic_source import traffic_for
from cluster.snapshot import Snapshot
from handlers import Context, Pipeline, Reply
from knowledge import Language
from knowledge import default as default_knowledge


def slack_render(reply: Reply) -> tuple[str, list[dict[str, Any]]]:
    from bot.slack.render import render

    message = render(reply)
    return message.text, message.blocks


def build_state(settings: Settings, *, identity: str = "") -> BotState:
    try:
        store = Store(settings.database_url)
    except StoreError as exc:  # one clear line (password masked) and the configuration exit code
        raise SettingsError(str(exc)) from None
    poster = None
    if settings.slack_bot_token:
        poster = SlackPoster.connect(
            settings.slack_bot_token,
            settings.slack_api_url,
            identity=identity,
            retries=settings.slack_retries,
            backoff=settings.slack_backoff,
        )
    return BotState(store, poster, slack_render, audit_retention=timedelta(days=settings.audit_retention_days))


@dataclass
class Runtime:
    settings: Settings
    state: BotState
    read_cluster: Callable[[], Snapshot] | None

    def pipeline(self) -> Pipeline:
        """The scheduler's pipeline: no Slack policy (it runs what operators scheduled), audited."""
        return Pipeline(policy=None, audit_sinks=[audit_log, store_sink(self.state)])

    def context(
        self,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        user: str = "scheduler",
        language: Language | None = None,
    ) -> Context:
        """A fresh Context per job: each job reads the cluster once."""
        return Context(
            kb=default_knowledge(),
            read_cluster=for_channel(self.read_cluster, channel),
            language=language or self.settings.language,
            root_namespace=self.settings.root_namespace,
            kernel_min=self.settings.kernel_min,
            traffic=traffic_for(self.settings),
            traffic_window=self.settings.prometheus_window,
            state=self.state,
            channel=channel,
            thread_ts=thread_ts,
            user=user,
            surface="scheduler",
            min_digest_interval=self.settings.min_digest_interval,
        )


def build_runtime(settings: Settings, *, identity: str = "") -> Runtime:
    from bot.cluster_source import reader_for

    return Runtime(settings, build_state(settings, identity=identity), reader_for(settings))
