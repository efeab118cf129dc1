"""What the scheduler runs: poll the inbox, sync the calendar, the daily brief, memory upkeep.

The job store pickles a reference to each function plus its arguments, so a job takes only the home
path (a string). The open App for that path comes from `APPS`, which `start_scheduler` fills with the
server's own App (its LLM, memory and store are shared, not rebuilt per run); a job that finds none
opens the home from the environment's settings. `APPS` is the one piece of process-wide state here,
and it exists only because the pickled jobs cannot carry the App.
"""

from __future__ import annotations

import json
import threading
from contextlib import suppress
from datetime import timedelta
from functools import partial
from pathlib import Path

from persona.app import App
from persona.errors import PersonaError
from persona.home import Home
from persona.llm.usage import attach, tracking
from persona.settings import load_settings

SNAPSHOT_KEY = "calendar-sync:upcoming"
SYNC_HOURS = 48  # how far ahead calendar changes are noticed


class AppRegistry:
    """Open Apps by home path, for the jobs of this process."""

    def __init__(self) -> None:
        self._apps: dict[str, App] = {}
        self._lock = threading.Lock()

    def register(self, app: App) -> None:
        with self._lock:
            self._apps[str(app.home.root)] = app

    def unregister(self, app: App) -> None:
        with self._lock:
            if self._apps.get(str(app.home.root)) is app:
                del self._apps[str(app.home.root)]

    def get(self, home: str) -> App:
        """The App of this home, with persona.yaml as it is now (an edit made while the server runs)."""
        with self._lock:
            if home not in self._apps:
                self._apps[home] = App(Home(Path(home)), load_settings())
            app = self._apps[home]
        app.follow_profile()
        return app


APPS = AppRegistry()


def poll_inbox(home: str) -> str:
    """New mail only: a tick that finds nothing new never builds or calls the LLM."""
    from persona.agent.inbox import process_inbox
    from persona.channels.email.delivery import open_email_channel

    app = APPS.get(home)
    with tracking("inbox"):
        channel = open_email_channel(app)
        try:
            if not channel.fetch():
                return "no new mail"
            with suppress(PersonaError):  # no LLM: rule-decided mail goes on, the rest waits (stopped)
                attach(app)
            report = process_inbox(app, channel)
        finally:
            channel.stop()
    return f"{len(report.outcomes)} mail handled" + (f"; stopped: {report.stopped}" if report.stopped else "")


def sync_calendar(home: str) -> str:
    """Notice events added, moved or cancelled in the next hours and note them in the audit log."""

    app = APPS.get(home)
    with tracking("calendar"):
        now = app.clock()
        events = app.calendar.events(now, now + timedelta(hours=SYNC_HOURS))
        seen = {
            f"{e.uid}|{e.recurrence_id or ''}": f"{e.start.isoformat()}|{e.status.value}|{e.sequence}"
            for e in events
        }
        before = json.loads((app.store.ledger_get(SNAPSHOT_KEY) or ("", "{}"))[1] or "{}")
        changed = sorted(k for k in seen.keys() | before.keys() if seen.get(k) != before.get(k) and k in seen)
        if changed:
            app.store.audit(
                "calendar_changed",
                actor="calendar",
                subject=f"{len(changed)} upcoming events",
                detail={"events": [k.split("|", 1)[0] for k in changed]},
            )
        app.store.ledger_set(SNAPSHOT_KEY, "synced", json.dumps(seen, sort_keys=True))
    return f"{len(events)} upcoming events, {len(changed)} changed"


def daily_brief(home: str) -> str:
    from persona.skills.brief import build_brief, deliver_brief

    app = APPS.get(home)
    with tracking("brief"):
        return deliver_brief(app, build_brief(app), by_mail=True)


def memory_upkeep(home: str) -> str:
    from persona.agent.checkpoints import conversations_since
    from persona.skills.upkeep import run_upkeep

    app = APPS.get(home)
    with tracking("upkeep"):
        report = run_upkeep(app, partial(conversations_since, app.home.checkpoints_db))
    return report.summary
