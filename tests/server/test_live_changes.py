"""A running server takes up what other processes change in its home, without a restart: memory ingested
or forgotten by `persona` commands, the persona edited on disk, events imported into the calendar."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from server_helpers import Served

ROOT = Path(__file__).resolve().parents[2]


def persona(served: Served, *args: str) -> str:
    """A `persona` command in a process of its own, on the server's home."""
    env = {**os.environ, "PERSONA_HOME": str(served.app.home.root), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "persona", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def search(served: Served, query: str) -> list[str]:
    response = served.client.get("/api/memory/search", params={"q": query}, headers=served.headers("owner"))
    assert response.status_code == 200, response.text
    return [hit["text"] for hit in response.json()]


def test_memory_ingested_and_forgotten_by_another_process_is_searched_at_once(
    served_live: Served, tmp_path: Path
):
    note = tmp_path / "kiln.md"
    note.write_text("# Kiln\nThe pottery kiln door code is KILN-7731.\n")
    assert all("KILN-7731" not in text for text in search(served_live, "kiln door code"))
    persona(served_live, "ingest", str(note), "--audience", "team")
    assert any("KILN-7731" in text for text in search(served_live, "kiln door code"))
    persona(served_live, "forget", "--source", str(note), "--yes")
    assert all("KILN-7731" not in text for text in search(served_live, "kiln door code"))


def test_an_edited_persona_is_taken_up_by_the_next_request(
    served_live: Served, caplog: pytest.LogCaptureFixture
):
    path = served_live.app.home.profile_path
    before = path.read_text()
    sam = served_live.headers("colleague_a")
    assert served_live.client.get("/api/me", headers=sam).json()["role"] == "colleague"
    edited = yaml.safe_load(before)
    edited["people"][0]["role"] = "family"
    edited["owner"]["timezone"] = "America/New_York"
    try:
        path.write_text(yaml.safe_dump(edited))  # as an editor would
        assert served_live.client.get("/api/me", headers=sam).json()["role"] == "family"
        state = served_live.api.state.persona
        assert state.twin is not None and state.twin.profile is served_live.app.profile  # its graph too
        assert served_live.app.gate.profile is served_live.app.profile
        calendar = served_live.client.get(
            "/api/calendar?start=2027-01-11&days=1", headers=served_live.headers("owner")
        )
        assert calendar.json()["zone"] == "America/New_York"
        assert served_live.app.calendar.zone.key == "America/New_York"

        path.write_text("owner: [unclosed\n")  # saved half-way: the profile read before stays
        with caplog.at_level(logging.WARNING, logger="persona.app"):
            assert served_live.client.get("/api/me", headers=sam).json()["role"] == "family"
        assert "persona.yaml changed but does not load" in caplog.text
    finally:
        path.write_text(before)
    assert served_live.client.get("/api/me", headers=sam).json()["role"] == "colleague"


def test_events_imported_by_another_process_are_in_the_calendar(served_live: Served, tmp_path: Path):
    ics = tmp_path / "review.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:review@northwind.example\r\n"
        "DTSTAMP:20261201T000000Z\r\nDTSTART:20270112T090000Z\r\nDTEND:20270112T100000Z\r\n"
        "SUMMARY:Vendor review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    owner = served_live.headers("owner")
    day = "/api/calendar?start=2027-01-12&days=1"
    assert served_live.client.get(day, headers=owner).json()["events"] == []
    persona(served_live, "calendar", "import", str(ics))
    assert [e["title"] for e in served_live.client.get(day, headers=owner).json()["events"]] == [
        "Vendor review"
    ]


@pytest.fixture(scope="module")
def served_live(twin: Served) -> Served:
    """The module's server, its memory held in vectors as `persona serve` holds it."""
    assert twin.app.memory._held is not None and twin.app.memory._held.holding
    return twin
