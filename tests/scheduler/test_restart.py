"""Jobs survive restarts; a brief missed while the service was down runs once when it comes back.

APScheduler 3 has no injectable clock, so the downtime is made by moving the stored job's next run
time into the past (three missed briefs) between two real starts of the service over one SQLite store.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, time, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from scheduler_helpers import scripted_app

from persona.app import App, utc_now
from persona.channels.calendar import CalEvent
from persona.home import Home
from persona.profile import load_profile, save_profile
from persona.scheduler.service import create_scheduler, start_scheduler, stop_scheduler, sync_jobs
from persona.skills.brief import BRIEF_PREFIX


def _brief_two_hours_ago(home: Home) -> datetime:
    """Set the owner's brief time to two hours before now, so the test does not depend on the hour."""
    profile = load_profile(home.profile_path)
    local = utc_now().astimezone(profile.zone) - timedelta(hours=2)
    at = time(local.hour, local.minute)
    save_profile(
        profile.model_copy(update={"schedule": profile.schedule.model_copy(update={"daily_brief_at": at})}),
        home.profile_path,
    )
    return datetime.combine(local.date(), at, profile.zone)


def _add_meeting_today(app: App) -> None:
    """A meeting that starts now, so it is on today's brief at any hour (one an hour ahead was tomorrow's
    after 23:00 in the owner's zone, and the brief of an empty day asks no model)."""
    now = utc_now()
    app.calendar.create(
        CalEvent(uid="sync-1@test", summary="Platform sync", start=now, end=now + timedelta(hours=1))
    )


async def _start_and_collect(app: App, wait_for: int) -> list[JobExecutionEvent]:
    """Start the service, collect job events until `wait_for` arrived (or 20 s), stop it."""
    events: list[JobExecutionEvent] = []
    arrived = threading.Event()

    def listen(event: JobExecutionEvent) -> None:
        events.append(event)
        if len(events) >= wait_for:
            arrived.set()

    scheduler = start_scheduler(app)  # jobs are first looked at on the next loop turn: listen now
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    await asyncio.to_thread(arrived.wait, 20)
    await stop_scheduler(scheduler, app)
    return events


async def _next_runs_at_start(app: App) -> dict[str, datetime]:
    """Start the service and read each job's next run time before the scheduler first looks at its jobs
    (on the next loop turn), then stop it: on that look a job runs only if its time has come, so what a
    start runs is known without waiting to see."""
    scheduler = start_scheduler(app)
    runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    await stop_scheduler(scheduler, app)
    return runs


async def _simulate_downtime(app: App, job_id: str, missed_since: datetime) -> None:
    """While the service is down, its stored job keeps the run time it had: move that into the past."""
    scheduler = create_scheduler(app)
    scheduler.start(paused=True)
    sync_jobs(scheduler, app)
    scheduler.modify_job(job_id, next_run_time=missed_since)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)


def test_restart_after_missed_briefs_runs_the_brief_once(home: Home) -> None:
    due = _brief_two_hours_ago(home)
    app, model = scripted_app(home, ["Good morning: one meeting today, the platform sync."], utc_now)
    _add_meeting_today(app)

    first = asyncio.run(_next_runs_at_start(app))
    assert first["persona:brief"] == due + timedelta(
        days=1
    )  # today's brief time has passed: next is tomorrow
    assert all(at > utc_now() for at in first.values())  # the first start only schedules: nothing is due
    assert home.jobs_db.exists()  # the job store is where the home keeps it
    asyncio.run(_simulate_downtime(app, "persona:brief", due - timedelta(days=3)))
    events = asyncio.run(_start_and_collect(app, wait_for=1))

    assert [(e.job_id, e.code) for e in events] == [("persona:brief", EVENT_JOB_EXECUTED)]
    assert events[0].scheduled_run_time == due  # coalesced into the latest missed run, not four runs
    assert len(model.calls) == 1
    briefs = app.store.ledger_keys(BRIEF_PREFIX)
    today = utc_now().astimezone(due.tzinfo).date()  # the brief is for the day the owner reads it
    assert [key for key, _, _ in briefs] == [BRIEF_PREFIX + today.isoformat()]
    assert len(app.store.audit_entries(kind="executed")) == 1

    later = asyncio.run(_next_runs_at_start(app))  # and a plain restart runs nothing again
    assert later["persona:brief"] == due + timedelta(days=1)
    assert all(at > utc_now() for at in later.values())
    assert len(model.calls) == 1


def test_restart_keeps_next_run_times_and_replaces_changed_jobs(home: Home) -> None:
    app, _ = scripted_app(home, [], utc_now)

    async def next_runs() -> dict[str, tuple[str, datetime]]:
        scheduler = start_scheduler(app)
        jobs = {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}
        await stop_scheduler(scheduler, app)
        return jobs

    before = asyncio.run(next_runs())
    assert set(before) == {"persona:inbox", "persona:calendar", "persona:brief", "persona:upkeep"}
    assert asyncio.run(next_runs()) == before  # same ids, same stored times: nothing re-added

    profile = load_profile(home.profile_path)
    save_profile(
        profile.model_copy(
            update={"schedule": profile.schedule.model_copy(update={"daily_brief_at": time(6, 15)})}
        ),
        home.profile_path,
    )
    changed = asyncio.run(_reopen(home))
    assert changed["persona:brief"][0] == "daily brief at 06:15 Europe/Berlin"
    assert changed["persona:brief"][1].astimezone(profile.zone).time() == time(6, 15)
    assert changed["persona:inbox"] == before["persona:inbox"]


async def _reopen(home: Home) -> dict[str, tuple[str, datetime]]:
    app, _ = scripted_app(home, [], utc_now)  # a new process: the profile is read again
    scheduler = start_scheduler(app)
    jobs = {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}
    await stop_scheduler(scheduler, app)
    return jobs
