"""The phases of a tracked migration and their timers, from migration_phases.yaml."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from knowledge.schema import Text

PHASES_FILE = Path(__file__).with_name("migration_phases.yaml")


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    number: int = Field(ge=1)
    title: Text
    todo: Text
    remind_after_days: int | None = Field(default=None, ge=1)
    reminder: Text | None = None


class Phases(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    phases: list[Phase] = Field(min_length=1)
    rollback: Text


@cache
def phases() -> Phases:
    return Phases.model_validate(yaml.safe_load(PHASES_FILE.read_text(encoding="utf-8")))


def phase(number: int) -> Phase | None:
    return next((p for p in phases().phases if p.number == number), None)


def due_reminder(number: int, started: datetime, now: datetime, reminded_phase: int | None) -> int | None:
    """Days in the phase when its timer has run out and nobody was reminded yet; else None."""
    current = phase(number)
    if current is None or current.remind_after_days is None or reminded_phase == number:
        return None
    days = (now - started).days
    return days if days >= current.remind_after_days else None
