"""Scheduled digests and migration progress checks: APScheduler 3 with its SQLAlchemy job store.

The subscriptions and migrations tables are the truth; the job store holds one job per
subscription (`digest:<id>`) and per active migration (`migration:<namespace>`), each calling a
module-level function by textual reference so jobs survive restarts. `reconcile` makes the jobs
match the tables (at start, when a command changes them, and every RECONCILE_SECONDS for changes
made by another process). Missed runs are coalesced into one and dropped after the misfire grace
time, and a job never overlaps itself. With leader election only the leader's scheduler runs:
the scheduler starts paused and is resumed/paused by the elector.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime
from handlers.digest import DigestArgs
from handlers.migrate import MigrateArgs
from handlers.ports import DeliveryError
from handlers.schedules import ScheduleError, trigger_for

LOG = logging.getLogger(__name__)

RECONCILE_SECONDS = 15.0
DIGEST_JOB = "bot.scheduler:run_digest"
MIGRATION_JOB = "bot.scheduler:run_migration_check"
RECONCILE_JOB = "bot.scheduler:run_reconcile"

_current: MeshScheduler | None = None
"""The scheduler of this process: job functions find the runtime here (jobs are stored by reference)."""


def current() -> MeshScheduler:
    if _current is None:
        raise RuntimeError("no meshbot scheduler runs in this process")
    return _current


def run_digest(subscription_id: int) -> None:
    sched = current()
    sub = sched.runtime.state.subscription(subscription_id)
    if sub is None:
        sched.remove(f"digest:{subscription_id}")
        return
    ctx = sched.runtime.context(channel=sub.channel, language=sub.language)
    # The same pipeline as a typed `digest now`: run and audited (the scheduler as its user), never a traceback.
    args = DigestArgs(action="now", words=list(sub.namespaces), channel=sub.channel)
    reply = sched.runtime.pipeline().execute("digest", args, ctx)
    if reply.error:
        LOG.warning("digest %s for %s failed: %s", sub.id, sub.channel, reply.data.get("error"))


def run_migration_check(namespace: str) -> None:
    sched = current()
    record = sched.runtime.state.migration(namespace)
    if record is None or record.status != "active":
        sched.remove(f"migration:{namespace}")
        return
    try:
        # A progress post an outage left pending goes out (or is found in Slack) before new progress is computed.
        sched.runtime.state.finish_posts(record.channel)
    except DeliveryError as exc:
        LOG.error("migration check of %s skipped this time: %s", namespace, exc)
        return
    ctx = sched.runtime.context(channel=record.channel, language=record.language)
    reply = sched.runtime.pipeline().execute("migrate", MigrateArgs(action="check", words=[namespace]), ctx)
    if reply.error:
        LOG.warning("migration check of %s failed: %s", namespace, reply.data.get("error"))


def run_reconcile() -> None:
    current().reconcile()


class MeshScheduler:
    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.timezone = settings.timezone
        self.migration_every = settings.migration_check_seconds
        self._lock = threading.Lock()
        jobstore = SQLAlchemyJobStore(engine=runtime.state.store.engine, tablename="apscheduler_jobs")
        # The job store creates its table when it starts; replicas starting together on one PostgreSQL would
        # race to create it, so it is created here first under the replicas' shared lock.
        with runtime.state.store.serialised() as conn:
            jobstore.jobs_t.create(conn, checkfirst=True)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_seconds,
            },
            timezone=settings.timezone,
        )

    def start(self, *, paused: bool) -> MeshScheduler:
        global _current
        _current = self
        self.runtime.state.on_change = self.changed
        self.scheduler.start(paused=paused)
        if not paused:
            self.resume()
        return self

    def resume(self) -> None:
        """Become the one that runs schedules: catch up with the tables, then run due jobs."""
        self.reconcile()
        if self.runtime.state.poster is not None:
            self.runtime.state.resume_pending()
        self.scheduler.resume()

    def pause(self) -> None:
        self.scheduler.pause()

    @property
    def running(self) -> bool:
        from apscheduler.schedulers.base import STATE_RUNNING

        return bool(self.scheduler.state == STATE_RUNNING)

    def changed(self) -> None:
        """A command changed subscriptions or migrations in this process: sync now if this replica schedules."""
        if self.running:
            self.reconcile()

    def remove(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def reconcile(self) -> None:
        with self._lock:
            wanted: dict[str, tuple[str, object, list[object]]] = {}
            for sub in self.runtime.state.subscriptions():
                try:
                    trigger = trigger_for(sub.schedule, self.timezone)
                except ScheduleError as exc:
                    LOG.warning("subscription %s: %s", sub.id, exc)
                    continue
                wanted[f"digest:{sub.id}"] = (DIGEST_JOB, trigger, [sub.id])
            for record in self.runtime.state.migrations(active_only=True):
                wanted[f"migration:{record.namespace}"] = (
                    MIGRATION_JOB,
                    IntervalTrigger(seconds=self.migration_every, timezone=self.timezone),
                    [record.namespace],
                )
            wanted["reconcile"] = (
                RECONCILE_JOB,
                IntervalTrigger(seconds=RECONCILE_SECONDS, timezone=self.timezone),
                [],
            )
            have = {job.id for job in self.scheduler.get_jobs()}
            for job_id in have - set(wanted):
                self.scheduler.remove_job(job_id)
            for job_id, (func, trigger, args) in wanted.items():
                # An existing job keeps its next run time: replacing it would restart its schedule on every boot.
                if job_id not in have:
                    self.scheduler.add_job(func, trigger, args=args, id=job_id, name=job_id)

    def shutdown(self) -> None:
        global _current
        if self.scheduler.running:
            # Let a digest or migration check in flight finish and save what it posted: nothing half-done.
            self.scheduler.shutdown(wait=True)
        if _current is self:
            _current = None
