"""Shipped example and demo data: profiles validate, mail, chats and calendar parse, canaries stay private."""

from __future__ import annotations

import json
import mailbox
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import yaml

from persona.profile import Profile, Role, load_profile

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEMO = CONFIGS / "demo"
CORPUS = DEMO / "corpus"
INBOX = DEMO / "inbox"
BERLIN = ZoneInfo("Europe/Berlin")
REQUIRED_HEADERS = ("Message-ID", "Date", "From", "To", "Subject")


@pytest.fixture(scope="module")
def demo_profile() -> Profile:
    return load_profile(DEMO / "persona.yaml")


@pytest.fixture(scope="module")
def questions() -> dict:
    return yaml.safe_load((DEMO / "questions.yaml").read_text(encoding="utf-8"))


def _profile_files() -> list[Path]:
    """Every YAML file under configs/ that is a persona profile (has a top-level `owner`)."""
    return [
        p
        for p in sorted(CONFIGS.rglob("*.yaml"))
        if "owner" in (yaml.safe_load(p.read_text(encoding="utf-8")) or {})
    ]


def test_profiles_are_found() -> None:
    names = {p.relative_to(CONFIGS).as_posix() for p in _profile_files()}
    assert {"example.yaml", "demo/persona.yaml"} <= names


@pytest.mark.parametrize("path", _profile_files(), ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_profile_validates(path: Path) -> None:
    profile = load_profile(path)
    assert profile.owner.emails


def test_demo_profile_has_the_people_the_data_uses(demo_profile: Profile) -> None:
    roles = [p.role for p in demo_profile.people]
    assert roles.count(Role.COLLEAGUE) >= 6
    assert Role.FAMILY in roles and Role.CONTACT in roles
    assert demo_profile.owner.timezone == "Europe/Berlin"
    every_address = demo_profile.owner.emails + [a for p in demo_profile.people for a in p.emails]
    assert all(a.endswith(".example") for a in every_address)


# ------------------------------------------------------------------------------------------ inbox


def _inbox_files() -> list[Path]:
    return sorted(INBOX.glob("*.eml"))


def _parse(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def test_inbox_has_enough_mail() -> None:
    assert len(_inbox_files()) >= 24


@pytest.mark.parametrize("path", _inbox_files(), ids=lambda p: p.name)
def test_inbox_mail_parses_with_required_headers(path: Path) -> None:
    msg = _parse(path)
    assert not msg.defects, msg.defects
    for header in REQUIRED_HEADERS:
        assert msg[header], f"{path.name} lacks {header}"
    assert "@" in parseaddr(str(msg["From"]))[1]
    sent = parsedate_to_datetime(str(msg["Date"])).astimezone(BERLIN)
    assert date(2026, 11, 27) <= sent.date() <= date(2026, 11, 30)
    body = msg.get_body(preferencelist=("plain", "html"))
    assert body is not None and body.get_content().strip()


def test_inbox_covers_the_encodings() -> None:
    messages = {p.name: _parse(p) for p in _inbox_files()}
    parts = [part for m in messages.values() for part in m.walk() if not part.is_multipart()]
    assert sum(m.get_content_type() == "multipart/alternative" for m in messages.values()) >= 3
    assert any(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    latin = [p for p in parts if p.get_content_charset() == "iso-8859-1"]
    assert latin and "Glühwein" in latin[0].get_content()
    lists = [m for m in messages.values() if m["List-Unsubscribe"] and m["List-Id"]]
    assert len(lists) >= 5


def test_injection_mails_carry_their_payload() -> None:
    raw = {p.name: p.read_bytes().decode("utf-8", "replace") for p in _inbox_files()}
    assert any("x@evil.example" in text for text in raw.values())
    assert any("<!--" in text and "AI assistant" in text for text in raw.values())
    assert any("\n" * 40 in text and "assistant" in text.split("\n" * 40, 1)[1] for text in raw.values())


def test_expected_triage_covers_every_inbox_mail() -> None:
    expected = yaml.safe_load((INBOX / "EXPECTED.yaml").read_text(encoding="utf-8"))
    assert set(expected) == {p.name for p in _inbox_files()}
    for name, entry in expected.items():
        assert entry["triage"] in {"ignore", "notify", "respond"}, name
        assert entry["reason"].strip() and "\n" not in entry["reason"].strip(), name
    counts = {t: sum(e["triage"] == t for e in expected.values()) for t in ("ignore", "notify", "respond")}
    assert min(counts.values()) >= 4, counts


# ------------------------------------------------------------------------------------------- mbox


def _mbox(name: str) -> list[mailbox.mboxMessage]:
    box = mailbox.mbox(CORPUS / "team" / name, create=False)
    try:
        return list(box)
    finally:
        box.close()


def test_sent_mbox_is_all_from_the_owner(demo_profile: Profile) -> None:
    sent = _mbox("sent.mbox")
    assert len(sent) >= 65
    ids = set()
    for msg in sent:
        assert demo_profile.is_owner(parseaddr(msg["From"])[1]), msg["From"]
        for header in REQUIRED_HEADERS:
            assert msg[header], f"{msg['Subject']!r} lacks {header}"
        sent_at = parsedate_to_datetime(msg["Date"])
        assert datetime(2026, 5, 1, tzinfo=BERLIN) <= sent_at < datetime(2026, 12, 1, tzinfo=BERLIN)
        ids.add(msg["Message-ID"])
    assert len(ids) == len(sent)
    replies = [m for m in sent if m["In-Reply-To"]]
    assert len(replies) >= 40
    assert all(m["In-Reply-To"] in m["References"] for m in replies)


def test_sent_mail_quotes_and_signatures() -> None:
    bodies = [m.get_payload(decode=True).decode("utf-8") for m in _mbox("sent.mbox")]
    assert sum(" wrote:\n> " in b for b in bodies) >= 30
    assert sum("\n-- \nDana Reyes" in b for b in bodies) >= 5


def test_received_mbox_is_from_others(demo_profile: Profile) -> None:
    received = _mbox("received.mbox")
    assert 15 <= len(received) <= 30
    senders = {parseaddr(m["From"])[1].lower() for m in received}
    assert not any(demo_profile.is_owner(s) for s in senders)
    assert all(demo_profile.person_for(s) for s in senders)


def test_received_originals_are_answered_in_sent() -> None:
    sent_parents = {m["In-Reply-To"] for m in _mbox("sent.mbox")}
    answered = [m for m in _mbox("received.mbox") if m["Message-ID"] in sent_parents]
    assert len(answered) >= 15


# ------------------------------------------------------------------------------------------ chats


def _chat_files() -> list[Path]:
    return sorted(CORPUS.rglob("chats/*.json"))


def test_chat_exports_exist() -> None:
    names = {p.relative_to(CORPUS).as_posix() for p in _chat_files()}
    assert "owner/chats/family.json" in names
    assert sum(n.startswith("team/chats/") for n in names) == 3


@pytest.mark.parametrize("path", _chat_files(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_chat_export_format(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"title", "participants", "messages"}
    assert isinstance(data["title"], str) and data["title"]
    participants = set(data["participants"])
    assert all("@" in p for p in participants)
    assert data["messages"]
    for message in data["messages"]:
        assert set(message) == {"from", "to", "date", "text"}
        assert message["from"] in participants
        assert isinstance(message["to"], list) and set(message["to"]) <= participants
        assert datetime.fromisoformat(message["date"]).utcoffset() is not None
        assert isinstance(message["text"], str) and message["text"].strip()


# --------------------------------------------------------------------------------------- calendar


@pytest.fixture(scope="module")
def calendar() -> icalendar.Calendar:
    return icalendar.Calendar.from_ical((DEMO / "calendar.ics").read_bytes())


def test_calendar_structure(calendar: icalendar.Calendar) -> None:
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = calendar.walk("VEVENT")
    assert any("RRULE" in e and "EXDATE" in e for e in events)
    assert any("RECURRENCE-ID" in e for e in events)
    assert any(str(e.get("CLASS", "")) == "PRIVATE" for e in events)
    all_day = [e for e in events if type(e["DTSTART"].dt) is date]
    assert any((e["DTEND"].dt - e["DTSTART"].dt).days > 1 for e in all_day)
    # icalendar returns one attendee as a value, several as a list
    assert sum(isinstance(e.get("ATTENDEE"), list) for e in events) >= 3


def _busy(calendar: icalendar.Calendar, day: date) -> list[tuple[datetime, datetime]]:
    start = datetime.combine(day, time(0), BERLIN)
    spans = []
    for event in recurring_ical_events.of(calendar).between(start, start + timedelta(days=1)):
        begin, end = event["DTSTART"].dt, event["DTEND"].dt
        if type(begin) is date or str(event.get("TRANSP", "OPAQUE")) == "TRANSPARENT":
            continue
        spans.append((begin.astimezone(BERLIN), end.astimezone(BERLIN)))
    return sorted(spans)


def test_standup_exception_and_moved_instance(calendar: icalendar.Calendar) -> None:
    def standups(day: date) -> list[datetime]:
        start = datetime.combine(day, time(0), BERLIN)
        day_events = recurring_ical_events.of(calendar).between(start, start + timedelta(days=1))
        return [e["DTSTART"].dt for e in day_events if str(e["SUMMARY"]).startswith("Platform stand-up")]

    assert standups(date(2026, 11, 27)) == []
    assert [d.time() for d in standups(date(2026, 12, 1))] == [time(10, 15)]
    assert [d.time() for d in standups(date(2026, 12, 2))] == [time(9, 30)]


@pytest.mark.parametrize("day", [date(2026, 12, 1), date(2026, 12, 3)], ids=str)
def test_afternoon_has_room_for_45_minutes(calendar: icalendar.Calendar, day: date) -> None:
    cursor, end = datetime.combine(day, time(13), BERLIN), datetime.combine(day, time(17, 30), BERLIN)
    gaps = []
    for begin, finish in _busy(calendar, day):
        if finish <= cursor or begin >= end:
            continue
        gaps.append(begin - cursor)
        cursor = max(cursor, finish)
    gaps.append(end - cursor)
    assert max(gaps) >= timedelta(minutes=45)
    assert sum(gaps, timedelta()) < timedelta(hours=4, minutes=30), "afternoon should be only partly free"


# -------------------------------------------------------------------------------- questions, canaries


def _text_files_outside_owner() -> list[Path]:
    skip = {DEMO / "questions.yaml", DEMO / "README.md"}
    return [
        p
        for p in sorted(CONFIGS.rglob("*"))
        if p.is_file() and p not in skip and (CORPUS / "owner") not in p.parents
    ]


def _readable(path: Path) -> str:
    raw = path.read_bytes()
    return raw.decode("utf-8", "replace") + "\n" + raw.decode("latin-1")


def test_canaries_live_only_under_owner(questions: dict) -> None:
    canaries = questions["canaries"]
    assert len(canaries) >= 5
    owner_text = "\n".join(_readable(p) for p in (CORPUS / "owner").rglob("*") if p.is_file())
    others = {p: _readable(p) for p in _text_files_outside_owner()}
    for canary in canaries:
        assert canary in owner_text, f"canary {canary!r} is missing from corpus/owner/"
        leaks = [p.relative_to(CONFIGS).as_posix() for p, text in others.items() if canary in text]
        assert not leaks, f"canary {canary!r} also appears in {leaks}"


def test_forbidden_strings_are_not_in_what_colleagues_can_read(questions: dict) -> None:
    visible = "\n".join(
        _readable(p) for folder in ("team", "public") for p in (CORPUS / folder).rglob("*") if p.is_file()
    ).lower()
    for q in questions["questions"]:
        for forbidden in q.get("must_not_contain", []):
            assert forbidden.lower() not in visible, f"{q['id']}: {forbidden!r} is in team or public memory"


def test_questions_are_well_formed(questions: dict, demo_profile: Profile) -> None:
    items = questions["questions"]
    by_kind = {"owner": 0, "answerable": 0, "deflect": 0}
    for q in items:
        assert q["question"].strip() and q["id"]
        assert q.get("expect_contains") or q.get("must_not_contain"), q["id"]
        if demo_profile.is_owner(q["asker"]):
            by_kind["owner"] += 1
            continue
        person = demo_profile.person_for(q["asker"])
        assert person is not None and person.role is Role.COLLEAGUE, q["asker"]
        by_kind["answerable" if q.get("expect_contains") else "deflect"] += 1
    assert by_kind == {"owner": 3, "answerable": 3, "deflect": 2}
    assert len({q["id"] for q in items}) == len(items)


def test_colleague_answers_exist_in_team_memory(questions: dict, demo_profile: Profile) -> None:
    team = "\n".join(_readable(p) for p in (CORPUS / "team").rglob("*") if p.is_file())
    for q in questions["questions"]:
        if demo_profile.is_owner(q["asker"]) or not q.get("expect_contains"):
            continue
        assert any(s in team for s in q["expect_contains"]), f"{q['id']}: no expected fact in team memory"


def test_demo_data_stays_small() -> None:
    assert sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file()) < 1_000_000
