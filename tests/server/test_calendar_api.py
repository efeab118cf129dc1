"""The desk's calendar: the week's events as JSON and as a page, with the twin's proposals marked."""

from __future__ import annotations

import pytest
from desk_calendar import MONDAY, NOW, seed_week
from server_helpers import Served, held_for_owner

from persona.channels.calendar.delivery import tentative_event_payload
from persona.events import ActionKind


@pytest.fixture(scope="module")
def week(twin: Served, tmp_path_factory: pytest.TempPathFactory) -> tuple[Served, str]:
    twin.app.clock = lambda: NOW
    return twin, seed_week(twin.app, tmp_path_factory.mktemp("ics"))


def _events(served: Served, query: str) -> dict:
    response = served.client.get(f"/api/calendar?{query}", headers=served.headers("owner"))
    assert response.status_code == 200, response.text
    return response.json()


def test_week_lists_series_all_day_tentative_and_proposed_events_in_the_owner_zone(week):
    served, proposal = week
    body = _events(served, f"start={MONDAY}&days=7")
    assert (body["start"], body["days"], body["zone"]) == ("2026-12-07", 7, "Europe/Berlin")
    by_title = {}
    for event in body["events"]:
        by_title.setdefault(event["title"], []).append(event)
    standups = by_title["Team standup"]
    assert [e["start"] for e in standups] == [
        "2026-12-07T09:30:00+01:00",
        "2026-12-09T09:30:00+01:00",
        "2026-12-11T09:30:00+01:00",
    ]
    assert standups[0] | {"start": None} == {
        "title": "Team standup",
        "start": None,
        "end": "2026-12-07T09:45:00+01:00",
        "all_day": False,
        "status": "CONFIRMED",
        "tentative": False,
        "proposed": False,
        "attendees": 2,
        "location": "Room 4.12",
        "approval": None,
    }
    assert by_title["Team offsite"][0]["all_day"] is True
    dentist = by_title["Dentist (maybe)"][0]
    assert (dentist["status"], dentist["tentative"], dentist["proposed"]) == ("TENTATIVE", True, False)
    sync = by_title["Roadmap sync"][0]
    assert sync | {"approval": None} == {
        "title": "Roadmap sync",
        "start": "2026-12-10T15:00:00+01:00",
        "end": "2026-12-10T15:30:00+01:00",
        "all_day": False,
        "status": "TENTATIVE",
        "tentative": True,
        "proposed": True,
        "attendees": 1,
        "location": "",
        "approval": None,
    }
    assert sync["approval"] == proposal
    assert [e["start"] for e in body["events"]] == sorted(e["start"] for e in body["events"])


def test_days_and_default_start(week):
    served, _ = week
    one = _events(served, "start=2026-12-10&days=1")
    assert [e["title"] for e in one["events"]] == ["Roadmap sync"]
    assert _events(served, "")["start"] == NOW.date().isoformat()


def test_an_approved_proposal_is_in_the_calendar_as_tentative_and_no_longer_proposed(week):
    served, _ = week
    action = held_for_owner(
        served.app,
        "lee@northwind.example",
        ActionKind.CREATE_EVENT,
        tentative_event_payload(
            "1:1 Lee",
            "2026-12-15T11:00:00+01:00",
            "2026-12-15T11:30:00+01:00",
            "dana@northwind.example",
            ["lee@northwind.example"],
        ),
    )
    before = _events(served, "start=2026-12-15&days=1")["events"]
    assert [(e["title"], e["proposed"], e["approval"]) for e in before] == [("1:1 Lee", True, action.id)]
    approved = served.client.post(
        f"/api/approvals/{action.id}/approve", json={}, headers=served.headers("owner")
    )
    assert approved.status_code == 200, approved.text
    after = _events(served, "start=2026-12-15&days=1")["events"]
    assert [
        (e["title"], e["start"], e["status"], e["tentative"], e["proposed"], e["approval"]) for e in after
    ] == [("1:1 Lee", "2026-12-15T11:00:00+01:00", "TENTATIVE", True, False, None)]


@pytest.mark.parametrize(
    ("query", "names"),
    [("start=2026-13-01", "`start`"), ("start=next+week", "`start`"), ("start=0001-01-01", "`start`")],
)
def test_a_bad_date_is_a_422_in_one_line(week, query, names):
    served, _ = week
    response = served.client.get(f"/api/calendar?{query}", headers=served.headers("owner"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert names in error and "\n" not in error and "2026-12-07" in error


def test_days_out_of_range_is_a_422(week):
    served, _ = week
    assert served.client.get("/api/calendar?days=0", headers=served.headers("owner")).status_code == 422
    assert served.client.get("/api/calendar?days=63", headers=served.headers("owner")).status_code == 422


def test_page_shows_the_week_with_today_and_the_proposal_marked(week):
    served, proposal = week
    page = served.client.get(f"/calendar?week={MONDAY}", headers=served.headers("owner")).text
    assert "Week of 7 Dec 2026" in page
    assert 'id="day-2026-12-09" aria-current="date"' in page.replace("\n      ", " ")
    assert f'href="/approvals/{proposal}"' in page and "proposed by your twin" in page
    assert 'href="/calendar?week=2026-11-30"' in page and 'href="/calendar?week=2026-12-14"' in page
    # any day of a week shows that week; a bad one shows this week
    assert (
        "Week of 7 Dec 2026"
        in served.client.get("/calendar?week=2026-12-13", headers=served.headers("owner")).text
    )
    bad = served.client.get("/calendar?week=soon", headers=served.headers("owner"), follow_redirects=False)
    assert (bad.status_code, bad.headers["location"]) == (303, "/calendar")
