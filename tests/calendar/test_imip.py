"""iMIP messages (REQUEST / REPLY / CANCEL / COUNTER), invitation decisions and visibility."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
import pytest

from persona.channels.calendar import (
    Attendee,
    CalEvent,
    ICSBackend,
    Interval,
    InvalidICS,
    Method,
    PartStat,
    Status,
    answer_invitation,
    build_reply,
    build_request,
    invitation_decision,
    parse_invitation,
    redact_for,
)
from persona.events import Principal

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2025, 6, 2, 10, tzinfo=BERLIN)


def roundtrip(message):
    """What the receiving side sees: the message serialised and parsed again."""
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def calendar_part(message) -> icalendar.Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_content())


def invite_from(
    organizer: str,
    start: datetime = MONDAY_10,
    minutes: int = 60,
    method: str = "REQUEST",
    sender: str | None = None,
    rrule: str = "",
    attendee: str = "dana@northwind.example",
):
    event = icalendar.Event()
    event.add("uid", "inv-1@example.org")
    event.add("dtstamp", datetime(2025, 5, 1, tzinfo=BERLIN))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", "Roadmap review")
    event.add("organizer", f"mailto:{organizer}")
    event.add("attendee", f"mailto:{attendee}", parameters={"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    event.add("sequence", 2)
    if rrule:
        event.add("rrule", icalendar.vRecur.from_ical(rrule))
    if method == "COUNTER":
        event.add("comment", "Could we do 11:00 instead?")
    cal = icalendar.Calendar()
    cal.add("prodid", "-//other//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add_component(event)
    cal.add_missing_timezones()
    message = EmailMessage()
    message["From"] = sender or organizer
    message["To"] = attendee
    message["Subject"] = "Invitation: Roadmap review"
    message.set_content("You are invited.")
    message.add_alternative(cal.to_ical().decode(), subtype="calendar", params={"method": method})
    return roundtrip(message)


def test_build_request_is_a_valid_imip_invitation(profile):
    event = CalEvent(
        uid="plan@northwind",
        summary="Planning",
        start=MONDAY_10,
        end=MONDAY_10 + timedelta(minutes=45),
        attendees=[Attendee(email="sam@northwind.example", name="Sam Okafor")],
        description="Agenda: Q3",
    )
    message = roundtrip(build_request(event, profile.owner, BERLIN))
    assert message["To"] == "Sam Okafor <sam@northwind.example>"
    assert message["From"] == "Dana Reyes <dana@northwind.example>"
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "REQUEST"
    cal = calendar_part(message)
    assert str(cal["METHOD"]) == "REQUEST"
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["ORGANIZER"]) == "mailto:dana@northwind.example"
    assert str(vevent["ATTENDEE"]) == "mailto:sam@northwind.example"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"])) == ("plan@northwind", 0)
    assert "DTSTAMP" in vevent and vevent.decoded("DTSTART") == MONDAY_10
    assert vevent["DTSTART"].to_ical() == b"20250602T080000Z"  # UTC: readable without a VTIMEZONE
    assert "Agenda: Q3" in message.get_body(("plain",)).get_content()


def test_cancel_carries_method_cancel_and_status(profile):
    event = CalEvent(
        uid="plan@northwind",
        summary="Planning",
        start=MONDAY_10,
        end=MONDAY_10 + timedelta(hours=1),
        attendees=[Attendee(email="sam@northwind.example")],
        sequence=3,
    )
    cal = calendar_part(roundtrip(build_request(event, profile.owner, BERLIN, method=Method.CANCEL)))
    (vevent,) = cal.walk("VEVENT")
    assert (str(cal["METHOD"]), str(vevent["STATUS"]), int(vevent["SEQUENCE"])) == ("CANCEL", "CANCELLED", 3)


def test_an_invitation_needs_attendees(profile):
    with pytest.raises(InvalidICS, match="no attendees"):
        build_request(CalEvent(summary="x", start=MONDAY_10, end=MONDAY_10), profile.owner, BERLIN)


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL", "COUNTER"])
def test_parse_incoming_scheduling_messages(method):
    inv = parse_invitation(invite_from("sam@northwind.example", method=method), BERLIN)
    assert inv.method.value == method
    assert (inv.uid, inv.event.sequence, inv.event.organizer) == (
        "inv-1@example.org",
        2,
        "sam@northwind.example",
    )
    assert inv.event.start == MONDAY_10 and inv.sender == "sam@northwind.example"
    assert inv.comment == ("Could we do 11:00 instead?" if method == "COUNTER" else "")


def test_mail_without_calendar_part_is_not_an_invitation():
    message = EmailMessage()
    message.set_content("hello")
    assert parse_invitation(message, BERLIN) is None


def test_build_reply_answers_the_organizer(profile):
    inv = parse_invitation(invite_from("sam@northwind.example"), BERLIN)
    message = roundtrip(build_reply(inv, profile.owner, PartStat.TENTATIVE, comment="Might be late"))
    assert message["To"] == "sam@northwind.example"
    cal = calendar_part(message)
    (vevent,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REPLY"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"
    assert str(vevent["ATTENDEE"]) == "mailto:dana@northwind.example"
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"]), str(vevent["COMMENT"])) == (
        "inv-1@example.org",
        2,
        "Might be late",
    )


@pytest.mark.parametrize(
    ("kwargs", "busy", "expected", "reason"),
    [
        ({"organizer": "sam@northwind.example"}, [], "accept", "Sam Okafor"),
        ({"organizer": "eve@unknown.example"}, [], "ask_owner", "not one of your people"),
        (
            {"organizer": "sam@northwind.example", "sender": "eve@unknown.example"},
            [],
            "ask_owner",
            "on behalf of",
        ),
        (
            {"organizer": "sam@northwind.example", "start": MONDAY_10.replace(hour=7)},
            [],
            "ask_owner",
            "working hours",
        ),
        (
            {"organizer": "sam@northwind.example", "start": datetime(2025, 6, 7, 10, tzinfo=BERLIN)},
            [],
            "ask_owner",
            "working hours",
        ),
        (
            {"organizer": "sam@northwind.example"},
            [(MONDAY_10 + timedelta(minutes=30), 60)],
            "ask_owner",
            "conflicts",
        ),
        ({"organizer": "sam@northwind.example"}, [(MONDAY_10 + timedelta(minutes=60), 60)], "accept", "free"),
        ({"organizer": "sam@northwind.example", "rrule": "FREQ=WEEKLY"}, [], "ask_owner", "recurring"),
        (
            {"organizer": "sam@northwind.example", "attendee": "other@northwind.example"},
            [],
            "ask_owner",
            "not listed",
        ),
        ({"organizer": "sam@northwind.example", "method": "CANCEL"}, [], "ask_owner", "cancel"),
    ],
)
def test_invitation_decision(profile, kwargs, busy, expected, reason):
    inv = parse_invitation(invite_from(**kwargs), BERLIN)
    intervals = [Interval(start=s, end=s + timedelta(minutes=m)) for s, m in busy]
    decision, why = invitation_decision(inv, profile, intervals)
    assert decision == expected
    assert reason in why


def test_an_invitation_that_is_over_is_declined(profile):
    inv = parse_invitation(invite_from("sam@northwind.example"), BERLIN)
    assert invitation_decision(inv, profile, [], now=MONDAY_10 + timedelta(days=1))[0] == "decline"


def test_answer_invitation_stores_the_event_with_the_answer(profile, tmp_path):
    backend = ICSBackend(tmp_path / "cal", BERLIN)
    inv = parse_invitation(invite_from("sam@northwind.example"), BERLIN)
    _, stored = answer_invitation(backend, inv, profile, PartStat.TENTATIVE)
    assert stored.status is Status.TENTATIVE
    assert [(a.email, a.partstat) for a in stored.attendees] == [
        ("dana@northwind.example", PartStat.TENTATIVE)
    ]
    assert "METHOD" not in backend.load(inv.uid)
    assert backend.busy(MONDAY_10, MONDAY_10 + timedelta(hours=1))
    _, declined = answer_invitation(backend, inv, profile, PartStat.DECLINED)
    assert not declined.busy and backend.busy(MONDAY_10, MONDAY_10 + timedelta(hours=1)) == []


def test_redact_for_each_audience(profile):
    public = CalEvent(
        uid="a",
        summary="Sprint review",
        description="notes",
        location="Room 4",
        start=MONDAY_10,
        end=MONDAY_10 + timedelta(hours=1),
        attendees=[Attendee(email="sam@northwind.example")],
        organizer="dana@northwind.example",
    )
    private = public.model_copy(update={"uid": "b", "summary": "Doctor", "private": True})
    free = public.model_copy(update={"uid": "c", "summary": "Maybe gym", "transparency": "TRANSPARENT"})
    events = [public, private, free]
    assert redact_for(Principal.owner(profile), events) == events
    colleague = redact_for(Principal.resolve(profile, "sam@northwind.example"), events)
    assert [e.summary for e in colleague] == ["Sprint review", "busy"]
    for event in colleague:
        assert (event.description, event.location, event.attendees, event.organizer, event.uid) == (
            "",
            "",
            [],
            "",
            "",
        )
        assert (event.start, event.end) == (MONDAY_10, MONDAY_10 + timedelta(hours=1))
    family = redact_for(Principal.resolve(profile, "alex@home.example"), events)
    assert [e.summary for e in family] == ["busy", "busy"]
    assert redact_for(Principal.resolve(profile, "eve@unknown.example"), events) == []
