"""Digest schedules as people type them, turned into APScheduler triggers (one parser for every surface).

Accepted: a crontab of 5 fields (`0 9 * * 1-5`), 6 fields with seconds first (`*/5 * * * * *`),
`@hourly|@daily|@weekly|@weekdays`, or an interval `every 30s|15m|2h|1d`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 9 * * *",
    "@weekly": "0 9 * * 1",
    "@weekdays": "0 9 * * 1-5",
}
CRON_FIELD = re.compile(r"^[\d*/,\-?]+$|^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$", re.I)
EVERY = re.compile(r"^(?:every[ :]?)?(\d+)(s|m|h|d)$", re.I)
UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_INTERVAL = timedelta(seconds=1)
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class ScheduleError(ValueError):
    """The schedule is not a crontab, an alias or an interval."""


def trigger_for(schedule: str, timezone: str = "UTC") -> BaseTrigger:
    """The trigger for a stored schedule string; ScheduleError when it is malformed."""
    text = " ".join(schedule.split())
    every = EVERY.match(text.replace("every ", "every"))
    if every:
        amount, unit = int(every.group(1)), UNIT[every.group(2).lower()]
        if timedelta(**{unit: amount}) < MIN_INTERVAL:
            raise ScheduleError(f"{schedule!r}: the interval must be at least one second")
        return IntervalTrigger(**{unit: amount}, timezone=timezone)
    text = ALIASES.get(text.lower(), text)
    fields = text.split(" ")
    try:
        if len(fields) in (5, 6):
            second, (minute, hour, day, month, dow) = (fields[0] if len(fields) == 6 else "0"), fields[-5:]
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=_day_names(dow),
                timezone=timezone,
            )
    except ValueError as exc:
        raise ScheduleError(str(exc)) from None
    raise ScheduleError("not a crontab, an @alias or an interval")


def _day_names(field: str) -> str:
    """Crontab counts weekdays from Sunday=0; APScheduler 3 from Monday=0: names mean the same to both."""
    if field in ("*", "?", "0-6", "0-7", "1-7"):
        return "*"
    return re.sub(r"\d+", lambda m: DAY_NAMES[int(m.group()) % 7], field)


def split_schedule(words: Sequence[str]) -> tuple[str | None, list[str]]:
    """Take a schedule off the front of `words` (cron fields, alias or interval); the rest are namespaces."""
    if not words:
        return None, []
    first = words[0]
    if first.lower() in ALIASES or EVERY.match(first):
        return first, list(words[1:])
    if first.lower() == "every" and len(words) > 1 and EVERY.match("every" + words[1]):
        return f"every {words[1]}", list(words[2:])
    if " " in first.strip():  # a quoted crontab
        return first, list(words[1:])
    count = 0
    while count < min(len(words), 6) and CRON_FIELD.match(words[count]):
        count += 1
    if count >= 5:
        return " ".join(words[:count]), list(words[count:])
    return None, list(words)


def shortest_gap(trigger: BaseTrigger, *, samples: int = 400) -> timedelta:
    """The shortest time between two runs of `trigger` (an interval's own; a crontab's over its next runs).

    `*/5 * * * * *` runs every five seconds; `0 9 * * 1-5` at least a day apart. 400 runs of a crontab
    cover a whole day for anything that runs more often than every four minutes.
    """
    if isinstance(trigger, IntervalTrigger):
        return timedelta(seconds=trigger.interval_length)
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: weekday schedules start with their shortest gap
    previous = trigger.get_next_fire_time(None, start)
    shortest = timedelta(days=366)
    for _ in range(samples):
        if previous is None:
            break
        following = trigger.get_next_fire_time(previous, previous + timedelta(microseconds=1))
        if following is None:
            break
        shortest = min(shortest, following - previous)
        previous = following
    return shortest
