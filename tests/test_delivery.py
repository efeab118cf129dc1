"""An approved action is carried out by the channel that owns it, opened on demand."""

from datetime import UTC, datetime

from persona.app import App
from persona.channels.calendar import Status
from persona.channels.calendar.delivery import tentative_event_payload
from persona.channels.delivery import delivering
from persona.events import Action, ActionKind, Principal, Provenance
from persona.settings import Settings


def test_approved_tentative_event_lands_in_the_calendar(home):
    app = App(home, Settings())
    sam = Principal.resolve(app.profile, "sam@northwind.example")
    start, end = datetime(2026, 12, 1, 13, 30, tzinfo=UTC), datetime(2026, 12, 1, 14, 15, tzinfo=UTC)
    action = Action(
        kind=ActionKind.CREATE_EVENT,
        requested_by=sam,
        targets=[sam.address],
        target_provenance=[Provenance.of(sam)],
        payload_provenance=[Provenance.of(sam)],
        payload=tentative_event_payload(
            "Cutover review", start.isoformat(), end.isoformat(), "dana@northwind.example", [sam.address]
        ),
    )
    assert app.gate.submit(action).decision.verdict.value == "needs_approval"
    assert app.calendar.events(start, end) == []

    with delivering(app, ActionKind.CREATE_EVENT):
        done = app.gate.approve(action.id, by="dana@northwind.example")
    assert done.status == "executed"
    [event] = app.calendar.events(start, end)
    assert event.summary == "Cutover review" and event.status is Status.TENTATIVE
    assert [a.email for a in event.attendees] == ["sam@northwind.example"]
