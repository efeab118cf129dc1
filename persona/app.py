"""The library API shared by the CLI, the server and the scheduler: one object per open home.

Heavy parts (embedding model, Chroma, LLM server) load on first use, so `persona approvals` stays fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from persona.actions import ActionGate, Executor
from persona.db import utc_now
from persona.errors import PersonaError
from persona.events import Action, ActionKind
from persona.home import Home
from persona.payloads import Message, Note, TriageCorrection
from persona.profile import Profile, load_profile
from persona.settings import Settings
from persona.store import MessageForOwner, StateStore

if TYPE_CHECKING:
    from persona.channels.calendar import CalendarBackend
    from persona.llm.client import LLM
    from persona.memory.embedding import Embedder
    from persona.memory.store import MemoryStore
    from persona.memory.style import StyleCard


log = logging.getLogger(__name__)


class App:
    """Everything one twin needs, built lazily from a home and settings. Skills receive this as deps."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        *,
        llm: LLM | None = None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.home = home.ensure()
        self.settings = settings
        self.clock = clock
        self._profile_stamp: tuple[int, int, int] | None = None  # persona.yaml's when the profile was read
        if llm is not None:
            self.__dict__["llm"] = llm  # an injected model (tests, benchmarks) wins over settings

    @cached_property
    def profile(self) -> Profile:
        path = self.home.require_profile()
        self._profile_stamp = _stamp(path)  # before the read: a write during it is taken up next time
        return load_profile(path)

    def reload_profile(self, profile: Profile | None = None) -> Profile:
        """persona.yaml read again (or `profile`, just read from it), handed to what holds the profile
        read before: the gate, and the calendar (for its zone)."""
        self.__dict__.pop("calendar", None)
        if profile is None:
            self.__dict__.pop("profile", None)
            profile = self.profile
        self.__dict__["profile"] = profile
        if "gate" in self.__dict__:
            self.gate.profile = profile
        return profile

    def follow_profile(self) -> bool:
        """Take up persona.yaml as another process left it (an editor, a `persona` command, another
        server's desk): one stat while it is unchanged. True when the profile was read again; a file that
        no longer loads is logged once and the profile read before stays (`persona doctor` names the fault)."""
        if "profile" not in self.__dict__ or (stamp := _stamp(self.home.profile_path)) == self._profile_stamp:
            return False
        self._profile_stamp = stamp
        try:
            profile = load_profile(self.home.require_profile())
        except PersonaError as exc:
            log.warning("persona.yaml changed but does not load; the profile read before stays: %s", exc)
            return False
        self.reload_profile(profile)
        return True

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.home.state_db, self.clock)

    @cached_property
    def gate(self) -> ActionGate:
        """The one way anything acts; it carries out the home's own actions from the start, and a channel's
        only while the channel is open (persona.channels.delivery.delivering)."""
        return ActionGate(self.store, self.profile, home_executors(self), clock=self.clock)

    @cached_property
    def embedder(self) -> Embedder:
        from persona.memory.embedding import Embedder

        return Embedder(self.settings)

    @cached_property
    def memory(self) -> MemoryStore:
        from persona.memory.store import MemoryStore

        return MemoryStore(self.home, self.settings, self.embedder)

    @cached_property
    def llm(self) -> LLM:
        from persona.llm.client import LLM

        return LLM.from_settings(self.settings, self.home)

    @cached_property
    def calendar(self) -> CalendarBackend:
        """The owner's calendar: a CalDAV server when configured, else ICS files in the home."""
        from persona.channels.calendar import CalDAVBackend, ICSBackend

        dav = self.settings.caldav
        if dav.url:
            password = dav.password.get_secret_value() if dav.password else None
            return CalDAVBackend(
                dav.url, self.profile.zone, username=dav.username, password=password, calendar=dav.calendar
            )
        return ICSBackend(self.home.calendar_dir, self.profile.zone)

    @property
    def style_card(self) -> StyleCard | None:
        from persona.memory.style import StyleCard

        return StyleCard.load(self.home.style_card_path)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is written or replaced: its inode, size and modification time."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def home_executors(app: App) -> dict[ActionKind, Executor]:
    """The Actions the home carries out itself, for the App's life: they stay in the home, or (the brief by
    mail) open what they need and close it again. A channel's executors are on the gate only while the
    channel is open: persona.channels.delivery."""

    def leave_message(action: Action) -> str:
        asker, message = action.requested_by, Message.of(action)
        app.store.leave_message(
            MessageForOwner(
                id=action.id,
                at=app.clock().isoformat(),
                sender=asker.address or asker.role.value,
                name=asker.name,
                role=asker.role.value,
                channel=message.channel,
                text=message.text,
            )
        )
        return "kept in the owner's messages"

    def remember(action: Action) -> str:
        from persona.memory.store import MemoryItem, date_metadata

        now, note = app.clock(), Note.of(action)
        item = MemoryItem.make(
            note.text,
            "knowledge",
            note.audience,
            subject="note",
            doc_id=f"note:{action.id}",
            doc_kind="note",
            source="twin",
            author=app.profile.owner.emails[0],
            **date_metadata(now),
        )
        added = app.memory.add([item])
        return f"note {item.id[:12]} kept for {note.audience.value}" + ("" if added else " (already known)")

    def correct_triage(action: Action) -> str:
        from persona.skills.triage import Correction, record_correction

        fix = TriageCorrection.of(action)
        record_correction(
            app.store, Correction.model_validate(fix.model_dump() | {"at": app.clock().isoformat()})
        )
        return f"mail from {fix.sender} is {fix.label} from now on"

    def brief(action: Action) -> str:
        from persona.skills.brief import write_brief

        return write_brief(app, action)

    return {
        ActionKind.LEAVE_MESSAGE: leave_message,
        ActionKind.REMEMBER: remember,
        ActionKind.CORRECT_TRIAGE: correct_triage,
        ActionKind.WRITE_BRIEF: brief,
    }
