"""The daily brief: facts gathered from the owner's data, phrased (only phrased) by the LLM.

Every item names its source (event UID, Message-ID, approval id, memory document, audit entry), so
the owner and the tests can check it against the data. The LLM sees the gathered facts and writes a
two-sentence intro; without an LLM the brief still renders, with an intro built from counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from persona.channels.calendar import PartStat, Status
from persona.errors import PersonaError
from persona.events import Action, ActionKind, Principal, Provenance, Source
from persona.payloads import BriefPayload
from persona.profile import Audience
from persona.skills.meeting_request import days_in
from persona.skills.prompt import first_name
from persona.skills.turn import Outcome, Turn

if TYPE_CHECKING:
    from persona.app import App
    from persona.channels.calendar import CalEvent

BRIEF_PREFIX = "brief:"  # ledger: brief:<date> -> the delivered Brief as JSON (the dashboard reads it)
FOLLOW_UP_DAYS = 14  # how far back a promise in sent mail still counts as open
INVITE_DAYS = 7  # unanswered invitations this far ahead are listed
_PROMISE = re.compile(
    r"[^.!?\n]*\b(?:I'll|I will|I'm going to|let me)\s+(?:\w+\s+){0,2}?"
    r"(?:send|share|get back|come back|check|look into|follow up|confirm|write|find out|review|ask|tell|"
    r"add|update|"
    r"book|set up|call)\b[^.!?\n]*[.!?]?",
    re.IGNORECASE,
)

ItemKind = Literal["meeting", "mail", "message", "approval", "invitation", "follow_up", "activity"]


class Note(BaseModel):
    text: str
    source: str


class BriefItem(BaseModel):
    kind: ItemKind
    source: str  # where the fact comes from: event UID, Message-ID, approval id, memory doc id, audit seq
    title: str
    detail: str = ""
    at: datetime | None = None
    notes: list[Note] = []


class Brief(BaseModel):
    day: date
    owner: str
    generated_at: datetime
    intro: str = ""
    intro_by_llm: bool = False
    meetings: list[BriefItem] = []
    messages: list[BriefItem] = []
    mail: list[BriefItem] = []
    waiting: list[BriefItem] = []
    follow_ups: list[BriefItem] = []
    activity: list[BriefItem] = []
    audit_seq: int = 0  # the last audit entry this brief covers; the next one starts after it

    @property
    def items(self) -> list[BriefItem]:
        return [*self.meetings, *self.messages, *self.mail, *self.waiting, *self.follow_ups, *self.activity]

    def sections(self) -> list[tuple[str, list[BriefItem]]]:
        """The headed sections in their fixed order, empty ones left out."""
        sections = [
            ("Today's meetings", self.meetings),
            ("Messages left for you", self.messages),
            ("Mail that needs you", self.mail),
            ("Waiting for your approval", self.waiting),
            ("Follow-ups you promised", self.follow_ups),
            ("What I did since the last brief", self.activity),
        ]
        return [(heading, items) for heading, items in sections if items]

    def render(self) -> str:
        """Markdown: the sections, each item with its source."""
        lines = [f"# Brief for {self.owner}, {self.day:%A %d %B %Y}", "", self.intro, ""]
        for heading, items in self.sections():
            lines += [f"## {heading}", ""]
            for item in items:
                when = f"{item.at:%H:%M} " if item.kind == "meeting" and item.at else ""
                lines.append(
                    f"- {when}**{item.title}**"
                    + (f" — {item.detail}" if item.detail else "")
                    + _cited(item.source)
                )
                lines += [f"  - prep: {n.text}" + _cited(n.source) for n in item.notes]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _cited(source: str) -> str:
    """Where an item came from, after it; nothing for an item with no source (an event without a UID)."""
    return f"  `[{source}]`" if source else ""


def build_brief(app: App, day: date | None = None, *, prep_notes: bool = True, phrase: bool = True) -> Brief:
    """Assemble the brief for `day` (default: today in the owner's zone) from calendar, mail, approvals,
    memory and the audit log; then let the LLM write the intro if one is available."""
    zone = app.profile.zone
    now = app.clock().astimezone(zone)
    day = day or now.date()
    earlier = _earlier_briefs(app, day)
    brief = Brief(
        day=day,
        owner=app.profile.owner.name,
        generated_at=now,
        meetings=_meetings(app, day, prep_notes),
        messages=_messages(app),
        mail=_mail(app, earlier),
        waiting=_waiting(app, day),
        follow_ups=_follow_ups(app, day),
    )
    brief.activity, brief.audit_seq = _activity(app, earlier)
    brief.intro, brief.intro_by_llm = _intro(app, brief) if phrase else (_plain_intro(brief), False)
    return brief


def _day_bounds(app: App, day: date) -> tuple[datetime, datetime]:
    zone = app.profile.zone
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def _meetings(app: App, day: date, prep_notes: bool) -> list[BriefItem]:
    start, end = _day_bounds(app, day)
    items = []
    for event in app.calendar.events(start, end):
        if event.status is Status.CANCELLED:
            continue
        others = [a.name or a.email for a in event.attendees if not app.profile.is_owner(a.email)]
        detail = ", ".join(filter(None, [event.location, "with " + ", ".join(others) if others else ""]))
        items.append(
            BriefItem(
                kind="meeting",
                source=event.uid,
                title=event.summary or "(no title)",
                detail=detail,
                at=event.start.astimezone(app.profile.zone),
                notes=_prep(app, event) if prep_notes and others else [],
            )
        )
    return items


def _prep(app: App, event: CalEvent) -> list[Note]:
    """What memory holds about the meeting's topic and people (owner's view: the brief is for the owner)."""
    names = " ".join(a.name for a in event.attendees if a.name and not app.profile.is_owner(a.email))
    try:
        if not app.memory.count("knowledge"):
            return []  # nothing to find: do not load the embedding model for it
        hits = app.memory.search(f"{event.summary} {names}", list(Audience), k=2, kind="knowledge")
    except PersonaError:
        return []
    return [
        Note(text=_clip(h.text, 160), source=str(h.metadata.get("doc_id") or h.metadata.get("source", "")))
        for h in hits
    ]


def _messages(app: App) -> list[BriefItem]:
    """Messages people left with the twin that the owner has not read yet, in their own words."""
    zone = app.profile.zone
    return [
        BriefItem(
            kind="message",
            source=f"message:{m.id[:12]}",
            title=m.name or m.sender,
            detail=f"“{_clip(m.text, 200)}” ({m.channel})",
            at=datetime.fromisoformat(m.at).astimezone(zone),
        )
        for m in reversed(app.store.messages(unread_only=True, limit=20))
    ]


def latest_brief(app: App) -> Brief | None:
    """The last delivered brief (for the dashboard)."""
    found = app.store.ledger_keys(BRIEF_PREFIX)  # keys sort by date
    return Brief.model_validate_json(found[-1][2]) if found else None


def _earlier_briefs(app: App, day: date) -> list[Brief]:
    found = [Brief.model_validate_json(value) for key, _, value in app.store.ledger_keys(BRIEF_PREFIX)]
    return sorted((b for b in found if b.day < day), key=lambda b: b.day)


def _mail(app: App, earlier: list[Brief]) -> list[BriefItem]:
    """Mail triaged respond/notify that no earlier brief listed yet."""
    from persona.skills.mailbox import MailState

    shown = {item.source for b in earlier for item in b.mail}
    items = []
    for key, _status, value in app.store.ledger_keys("mail:"):
        message_id = key.removeprefix("mail:")
        state = MailState.model_validate_json(value)
        if state.label not in ("respond", "notify") or message_id in shown:
            continue
        action = "to answer" if state.label == "respond" else "to read"
        detail = f"{action}, from {state.sender}" + (f"; {state.note}" if state.note else "")
        items.append(
            BriefItem(kind="mail", source=message_id, title=state.subject or "(no subject)", detail=detail)
        )
    return sorted(items, key=lambda i: (not i.detail.startswith("to answer"), i.title))


def _waiting(app: App, day: date) -> list[BriefItem]:
    items = [
        BriefItem(
            kind="approval",
            source=a.id,
            title=a.action.summary or a.action.kind.value,
            detail=f"{a.action.kind.value.replace('_', ' ')}: {a.reason}",
        )
        for a in app.store.approvals("pending")
    ]
    start, _ = _day_bounds(app, day)
    for event in app.calendar.events(start, start + timedelta(days=INVITE_DAYS)):
        mine = next((a for a in event.attendees if app.profile.is_owner(a.email)), None)
        if (
            mine is not None
            and mine.partstat is PartStat.NEEDS_ACTION
            and event.status is not Status.CANCELLED
        ):
            when = event.start.astimezone(app.profile.zone)
            items.append(
                BriefItem(
                    kind="invitation",
                    source=event.uid,
                    title=event.summary or "(no title)",
                    detail=f"invitation from {event.organizer or 'unknown'}, not answered yet",
                    at=when,
                )
            )
    return items


def _follow_ups(app: App, day: date) -> list[BriefItem]:
    """Promises ("I'll send", "let me check") in the owner's sent mail, with no later sent mail in the
    same thread."""
    sent = sent_mail(app)
    start, _ = _day_bounds(app, day)
    window = int((start - timedelta(days=FOLLOW_UP_DAYS)).timestamp())
    last_in_thread: dict[str, int] = {}
    for meta, _ in sent:
        thread = str(meta.get("thread_id") or "")
        last_in_thread[thread] = max(last_in_thread.get(thread, 0), int(meta.get("date_epoch") or 0))
    items = []
    for meta, text in sent:
        when, thread = int(meta.get("date_epoch") or 0), str(meta.get("thread_id") or "")
        if not (window <= when < start.timestamp()) or not thread or last_in_thread[thread] > when:
            continue
        promise = _PROMISE.search(text)
        if promise and not promise.group(0).lstrip("-*• ").lower().startswith(
            "if "
        ):  # conditional: no promise
            items.append(
                BriefItem(
                    kind="follow_up",
                    source=str(meta.get("doc_id", "")),
                    title=str(meta.get("subject") or "(no subject)"),
                    detail=f"you wrote to {meta.get('recipients') or 'them'}: "
                    f"“{_clip(promise.group(0).strip(), 140)}”",
                    at=datetime.fromtimestamp(when, app.profile.zone),
                )
            )
    return sorted(items, key=lambda i: i.at or start)


def sent_mail(app: App) -> list[tuple[dict[str, Any], str]]:
    """The owner's sent mail exemplars in memory, as (metadata, text). Empty when memory is not built."""
    try:
        memory = app.memory
    except PersonaError:
        return []
    # MemoryStore has no public listing with metadata yet; read its collection directly.
    got = memory._collection.get(
        where={"$and": [{"kind": "exemplar"}, {"doc_kind": "mail"}]}, include=["documents", "metadatas"]
    )
    return [(dict(m), d) for m, d in zip(got["metadatas"] or [], got["documents"] or [], strict=True)]


def _activity(app: App, earlier: list[Brief]) -> tuple[list[BriefItem], int]:
    """Actions the twin carried out, and decisions queued, since the audit entry the last brief covered."""
    after = earlier[-1].audit_seq if earlier else 0
    entries = [e for e in app.store.audit_entries(limit=100_000) if e.seq > after]
    items = []
    for e in entries:
        if e.kind == "executed" and e.subject != "write_brief":
            title = f"{e.subject.replace('_', ' ')}"
            items.append(
                BriefItem(
                    kind="activity",
                    source=f"audit:{e.seq}",
                    title=title,
                    detail=_clip(str(e.detail.get("receipt", "")), 140),
                )
            )
        elif e.kind == "decision" and e.detail.get("verdict") in ("needs_approval", "refuse"):
            verdict = "queued for you" if e.detail["verdict"] == "needs_approval" else "refused"
            items.append(
                BriefItem(
                    kind="activity",
                    source=f"audit:{e.seq}",
                    title=f"{e.subject.replace('_', ' ')} {verdict}",
                    detail=_clip(str(e.detail.get("summary") or e.detail.get("reason", "")), 140),
                )
            )
    triaged = sum(1 for e in entries if e.kind == "triaged")
    if triaged:
        last = max(e.seq for e in entries if e.kind == "triaged")
        items.insert(
            0,
            BriefItem(
                kind="activity",
                source=f"audit:{last}",
                title=f"sorted {triaged} new {'mail' if triaged == 1 else 'mails'}",
            ),
        )
    return items, max((e.seq for e in entries), default=after)


def _plain_intro(brief: Brief) -> str:
    counts = (
        (brief.meetings, "meeting", "meetings"),
        (brief.messages, "message was left for you", "messages were left for you"),
        (brief.mail, "mail needs you", "mails need you"),
        (brief.waiting, "item waits for approval", "items wait for approval"),
        (brief.follow_ups, "follow-up is open", "follow-ups are open"),
    )
    parts = [f"{len(items)} {one if len(items) == 1 else many}" for items, one, many in counts if items]
    return ("Today: " + "; ".join(parts) + ".") if parts else "Nothing needs you today."


def _intro(app: App, brief: Brief) -> tuple[str, bool]:
    """Two sentences from the LLM over the facts, never new facts; the plain intro when it is unavailable."""
    plain = _plain_intro(brief)
    if not brief.items:
        return plain, False  # nothing to phrase: no LLM call
    me = first_name(app.profile.owner.name)
    facts = {
        "meetings": [f"{i.at:%H:%M} {i.title}" for i in brief.meetings],
        "messages_from": [i.title for i in brief.messages][:8],
        "mail_needing_you": [i.title for i in brief.mail][:8],
        "waiting_for_approval": len(brief.waiting),
        "open_follow_ups": [i.title for i in brief.follow_ups][:5],
    }
    prompt = [
        SystemMessage(
            f"You write the opening of {me}'s morning brief, addressed to {me} as 'you'. "
            "Use only the facts given; do not add names, times or tasks. At most two short sentences."
        ),
        HumanMessage(json.dumps(facts, ensure_ascii=False)),
    ]
    try:
        from persona.llm.usage import attach

        attach(app)
        text = app.llm.text(prompt, max_tokens=80, tag="brief").strip()
    except PersonaError:
        return plain, False
    return (text, True) if text else (plain, False)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def deliver_brief(app: App, brief: Brief, *, by_mail: bool) -> str:
    """Hand the brief to the owner through the gate: kept for the dashboard, and mailed to the owner only."""
    owner = app.profile.owner.emails[0]
    mine = [Provenance(source=Source.OWNER_DATA, ref="profile")]
    action = Action(
        id=hashlib.sha256(f"brief\0{brief.day}".encode()).hexdigest()[:32],
        kind=ActionKind.WRITE_BRIEF,
        requested_by=Principal.owner(app.profile),
        targets=[owner],
        target_provenance=mine,
        payload={"brief": brief.model_dump(mode="json"), "by_mail": by_mail},
        payload_provenance=[Provenance(source=Source.OWNER_DATA, ref=f"brief:{brief.day}")],
        summary=f"daily brief for {brief.day}",
    )
    return app.gate.submit(action).receipt


def write_brief(app: App, action: Action) -> str:
    """The WRITE_BRIEF executor (one of the home's): keep the brief for the dashboard and, `by_mail`, mail
    it to the owner through `send_once`, so a rerun of the morning job never mails it twice."""
    payload = BriefPayload.of(action)
    brief = Brief.model_validate(payload.brief)
    app.store.ledger_set(BRIEF_PREFIX + brief.day.isoformat(), "delivered", brief.model_dump_json())
    if not payload.by_mail:
        return f"brief for {brief.day} kept for the dashboard"
    from persona.channels.email.delivery import delivering_mail, send_once

    owner = app.profile.owner
    mail = action.model_copy(
        update={
            "kind": ActionKind.SEND_MAIL,
            "payload": {
                "message_id": f"<brief-{brief.day.isoformat()}.{hashlib.sha256(owner.emails[0].encode()).hexdigest()[:8]}"
                "@persona-twin>",
                "from_addr": owner.emails[0],
                "from_name": f"{owner.name}'s twin",
                "subject": f"Your brief for {brief.day:%A %d %B}",
                "body": brief.render(),
                "date": app.clock().isoformat(),
            },
        }
    )
    with delivering_mail(app) as channel:
        return send_once(app, channel, mail)


class BriefArgs(BaseModel):
    """The owner's brief on demand: meetings, messages, mail, approvals, follow-ups."""

    when: str = ""  # the words that say which day; empty: today


def brief_now(turn: Turn, args: BriefArgs) -> Outcome:
    zone = turn.app.profile.zone
    today = turn.now.astimezone(zone).date()
    day = next(iter(days_in(args.when or turn.text, today, zone)), today)
    return Outcome(reply=build_brief(turn.app, day, prep_notes=False, phrase=False).render())
