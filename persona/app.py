"""The library API shared by the CLI, the server and the scheduler: one object per open home.

Heavy parts (embedding model, Chroma, LLM server) load on first use, so `persona approvals` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING

from persona.actions import ActionGate
from persona.home import Home
from persona.profile import Profile, load_profile
from persona.settings import Settings
from persona.store import StateStore

if TYPE_CHECKING:
    from persona.channels.calendar import CalendarBackend
    from persona.llm.client import LLM
    from persona.memory.embedding import Embedder
    from persona.memory.store import MemoryStore
    from persona.memory.style import StyleCard


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class App:
    """Everything one twin needs, built lazily from a home and settings. Skills receive this as deps."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        *,
        llm: "LLM | None" = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.home = home.ensure()
        self.settings = settings
        self.clock = clock
        if llm is not None:
            self.__dict__["llm"] = llm  # an injected model (tests, benchmarks) wins over settings

    @cached_property
    def profile(self) -> Profile:
        return load_profile(self.home.require_profile())

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.home.state_db)

    @cached_property
    def gate(self) -> ActionGate:
        from persona.delivery import home_executors

        return ActionGate(self.store, self.profile, home_executors(self), clock=self.clock)

    @cached_property
    def embedder(self) -> "Embedder":
        from persona.memory.embedding import Embedder

        return Embedder(self.settings)

    @cached_property
    def memory(self) -> "MemoryStore":
        from persona.memory.store import MemoryStore

        return MemoryStore(self.home, self.settings, self.embedder)

    @cached_property
    def llm(self) -> "LLM":
        from persona.llm.client import LLM

        return LLM.from_settings(self.settings, self.home)

    @cached_property
    def calendar(self) -> "CalendarBackend":
        """The owner's calendar: a CalDAV server when configured, else ICS files in the home."""
        from persona.channels.calendar import CalDAVBackend, ICSBackend

        s = self.settings
        if s.caldav_url:
            password = s.caldav_password.get_secret_value() if s.caldav_password else None
            return CalDAVBackend(s.caldav_url, self.profile.zone, username=s.caldav_username, password=password,
                                 calendar=s.caldav_calendar)
        return ICSBackend(self.home.calendar_dir, self.profile.zone)

    @property
    def style_card(self) -> "StyleCard | None":
        from persona.memory.style import StyleCard

        return StyleCard.load(self.home.style_card_path)
