"""Run the schedules in this process: alone (single replica), or only while holding the leader Lease."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from bot.config import Settings, SettingsError
from bot.leader import LeaderElector, coordination_api, default_identity
from bot.runtime import Runtime, build_runtime
from bot.scheduler import MeshScheduler

LOG = logging.getLogger(__name__)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (Kubernetes stopping the pod) or SIGINT (Ctrl-C)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def start_scheduling(settings: Settings, runtime: Runtime, *, identity: str) -> Callable[[], None]:
    """Start the scheduler (paused behind leader election when it is on); returns `stop`."""
    scheduler = MeshScheduler(runtime).start(paused=settings.leader_election)
    elector: LeaderElector | None = None
    if settings.leader_election:
        elector = LeaderElector(
            coordination_api(settings.kubeconfig, settings.context),
            name=settings.lease_name,
            namespace=settings.lease_namespace,
            identity=identity,
            lease_duration=settings.lease_duration,
            renew_every=settings.lease_renew_every,
            on_started_leading=scheduler.resume,
            on_stopped_leading=scheduler.pause,
        ).start()

    def stop() -> None:
        if elector is not None:
            elector.stop(release=True)
        scheduler.shutdown()

    return stop


def run_scheduler(settings: Settings) -> int:
    """`meshbot scheduler`: digests and migration checks without the Slack listener, until SIGTERM/SIGINT."""
    if not settings.slack_bot_token:
        raise SettingsError("the scheduler posts to Slack: set SLACK_BOT_TOKEN (and MESHBOT_SLACK_API_URL off Slack)")
    identity = settings.identity or default_identity()
    runtime = build_runtime(settings, identity=identity)
    done = stop_on_signals()
    stop = start_scheduling(settings, runtime, identity=identity)
    LOG.info("scheduler %s running (leader election %s)", identity, "on" if settings.leader_election else "off")
    print(f"meshbot scheduler {identity} ready", flush=True)
    done.wait()
    stop()
    runtime.state.store.close()
    return 0
