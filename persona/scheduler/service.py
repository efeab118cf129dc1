"""One AsyncIOScheduler per `persona serve`, its jobs kept in a SQL job store that survives restarts.

The store is SQLite under the home by default, PostgreSQL (or any SQLAlchemy URL) when
PERSONA_JOBS_DB_URL says so; several processes sharing one store run each job run once (lock.py).
Triggers run in the owner's time zone, so the brief comes at 07:30 local on both sides of a DST change.
A missed run is coalesced into one run when the service comes back, if it is within the job's grace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel
from sqlalchemy import create_engine

from persona.app import App
from persona.profile import Profile
from persona.scheduler.jobs import APPS
from persona.scheduler.lock import ClaimingExecutor, RunClaims, create_once

CALENDAR_EVERY_MINUTES = 15
DAILY_GRACE = 23 * 3600  # a daily run missed by less than this still happens (once) on restart


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # textual reference: what the job store keeps
    trigger: BaseTrigger
    name: str  # says the schedule, so a changed profile is noticed and the job replaced
    grace: int


def jobs_db_url(app: App) -> str:
    return app.settings.jobs_db_url or f"sqlite:///{app.home.jobs_db}"


def job_specs(profile: Profile) -> list[JobSpec]:
    zone, plan = profile.zone, profile.schedule

    def daily(at: time) -> CronTrigger:
        return CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)

    every = plan.inbox_every_minutes
    return [
        JobSpec(
            "persona:inbox",
            "persona.scheduler.jobs:poll_inbox",
            IntervalTrigger(minutes=every, timezone=zone),
            f"poll the inbox every {every} min",
            every * 60,
        ),
        JobSpec(
            "persona:calendar",
            "persona.scheduler.jobs:sync_calendar",
            IntervalTrigger(minutes=CALENDAR_EVERY_MINUTES, timezone=zone),
            f"sync the calendar every {CALENDAR_EVERY_MINUTES} min",
            CALENDAR_EVERY_MINUTES * 60,
        ),
        JobSpec(
            "persona:brief",
            "persona.scheduler.jobs:daily_brief",
            daily(plan.daily_brief_at),
            f"daily brief at {plan.daily_brief_at:%H:%M} {zone.key}",
            DAILY_GRACE,
        ),
        JobSpec(
            "persona:upkeep",
            "persona.scheduler.jobs:memory_upkeep",
            daily(plan.upkeep_at),
            f"memory upkeep at {plan.upkeep_at:%H:%M} {zone.key}",
            DAILY_GRACE,
        ),
    ]


def create_scheduler(app: App, url: str | None = None) -> AsyncIOScheduler:
    """A configured, not yet started scheduler over the job store at `url` (default: jobs_db_url)."""
    engine = create_engine(url or jobs_db_url(app), pool_pre_ping=True)
    store = SQLAlchemyJobStore(engine=engine)
    create_once(engine, store.jobs_t)  # before APScheduler's own unguarded create in start()
    return AsyncIOScheduler(
        jobstores={"default": store},
        executors={"default": ClaimingExecutor(RunClaims(engine))},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=app.profile.zone,
    )


def sync_jobs(scheduler: AsyncIOScheduler, app: App) -> None:
    """Add missing jobs and replace changed ones; an unchanged job keeps its stored next run time, so
    a run missed while the service was down is still due when it comes back."""
    home = str(app.home.root)
    for spec in job_specs(app.profile):
        job = scheduler.get_job(spec.id)
        if job is not None and job.name == spec.name and list(job.args) == [home]:
            continue
        scheduler.add_job(
            spec.func,
            spec.trigger,
            args=[home],
            id=spec.id,
            name=spec.name,
            misfire_grace_time=spec.grace,
            coalesce=True,
            replace_existing=True,
        )


def start_scheduler(app: App, url: str | None = None) -> AsyncIOScheduler:
    """Start inside a running event loop (the server's lifespan); jobs of this home use `app`."""
    APPS.register(app)
    scheduler = create_scheduler(app, url)
    scheduler.start(paused=True)  # job store open, nothing runs until the jobs are reconciled
    sync_jobs(scheduler, app)
    scheduler.resume()
    return scheduler


@asynccontextmanager
async def scheduler_lifespan(app: App, _state: object) -> AsyncIterator[None]:
    """The server's lifespan hook: `create_app(app, lifespan_hooks=[scheduler_lifespan])`."""
    scheduler = start_scheduler(app)
    try:
        yield
    finally:
        await stop_scheduler(scheduler, app)


async def stored_jobs(app: App, url: str | None = None) -> dict[str, Job]:
    """The jobs in the store as a running service would see them (for `persona jobs`)."""
    scheduler = create_scheduler(app, url)
    scheduler.start(paused=True)
    try:
        return {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


class JobState(BaseModel):
    id: str
    what: str
    next_run: datetime | None  # None: paused
    scheduled: bool  # in the job store; until `persona serve` first runs, next_run is what the trigger says


async def job_states(app: App) -> list[JobState]:
    """Every job of the profile with its next run, as the job store has it or else as it would start now."""
    stored = await stored_jobs(app)
    now = app.clock().astimezone(app.profile.zone)
    states = []
    for spec in job_specs(app.profile):
        job = stored.get(spec.id)
        if job is not None and job.name == spec.name:
            states.append(JobState(id=spec.id, what=spec.name, next_run=job.next_run_time, scheduled=True))
        else:
            states.append(
                JobState(
                    id=spec.id,
                    what=spec.name,
                    next_run=spec.trigger.get_next_fire_time(None, now),
                    scheduled=False,
                )
            )
    return states


async def stop_scheduler(scheduler: AsyncIOScheduler, app: App, wait: bool = True) -> None:
    """Stop taking jobs; with `wait`, let running ones finish. Call from the loop the scheduler runs on."""
    if scheduler.running:
        scheduler.shutdown(wait=wait)  # AsyncIOScheduler defers this to the loop: give it one turn
        await asyncio.sleep(0)
    APPS.unregister(app)
